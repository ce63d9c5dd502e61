"""Per-agent rosters: `simcc roster` on the shipped Quanzhou agents (313 agents x 4 weeks, 2 cores: target < 60 s).

Run: python -m pytest benchmarks/test_roster.py --benchmark-columns=min,median,max
extra_info: solve_s (greedy start and CP-SAT blocks within the time limit), shortfall_pct (of required
agent-hours), surplus agent-hours, the solver status, objective and bound, and the hard-rule violations the
independent checker found (must be 0), and per group the most nights and weekend days any agent works.
"""
import pytest

import simcc
from simcc.plan.rosters import solve_roster

pytest.importorskip("ortools")


@pytest.mark.benchmark(group="roster")
def test_roster_quanzhou_313_agents_4_weeks(benchmark):
    s = simcc.load("scenarios/quanzhou-10000.yaml")
    result = benchmark.pedantic(
        solve_roster, args=(s, "scenarios/rosters/quanzhou-agents.csv", "scenarios/rosters/quanzhou-rules.yaml", 4),
        kwargs={"time_limit_s": 30}, rounds=1, iterations=1)
    summary = result.summary()
    assert summary["hard_rule_violations"] == 0
    assert summary["shortfall_pct"] <= 1.0
    benchmark.extra_info.update(agents=summary["agents"], days=summary["days"], status=summary["status"],
                                solve_s=summary["solve_s"], shortfall_pct=round(summary["shortfall_pct"], 3),
                                surplus_agent_hours=summary["surplus_agent_hours"],
                                objective=summary["objective"], bound=summary["bound"], method=summary["method"],
                                most_nights={g: v["nights"]["max"] for g, v in summary["groups"].items()},
                                most_weekend_days={g: v["weekends"]["max"] for g, v in summary["groups"].items()})
