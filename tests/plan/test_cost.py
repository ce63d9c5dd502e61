"""Cost-minimising staffing (staff(cost=...)): on small centers where every staffing can be enumerated
under the same random numbers and the same confidence rule, the search finds the cheapest plan that
passes; it never costs more than the plan with the fewest agents."""
import itertools

import numpy as np
import pytest

import simcc
from simcc.plan import staff
from simcc.plan.staffing import _Evaluator

EXP = lambda m: {"dist": "exponential", "mean_s": m}  # noqa: E731


def center(groups, calls=(80.0, 40.0), intervals=1):
    return simcc.from_dict({
        "interval_minutes": 30, "intervals": intervals,
        "call_types": {"a": {"patience": EXP(120.0), "talk": EXP(180.0)},
                       "b": {"patience": EXP(120.0), "talk": EXP(240.0)}},
        "arrivals": [{"name": "a", "entry": "a", "calls": calls[0]}, {"name": "b", "entry": "b", "calls": calls[1]}],
        "groups": groups,
        "sla": {"service_level": "80/20", "abandon_max_pct": 5},
    })


def cheapest_by_enumeration(plan, cost, ranges):
    """The cheapest headcount (one interval) that passes the plan's rule on the plan's random numbers."""
    t = plan.targets
    E = _Evaluator(plan.scenario, plan.seed, plan.replications, plan.engine, plan.check_level, t["service_level"],
                   t["abandon_max"], t["occupancy_max"], plan.measured)
    best = (np.inf, None)
    for x in itertools.product(*ranges):
        c = float(np.dot(x, cost))
        if c < best[0] - 1e-9 and not E(np.array([x])).fail.any():
            best = (c, x)
    return best


CASES = {
    "specialists cheaper": ([{"name": "spec", "agents": 6, "skills": {"a": 1}},
                             {"name": "gen", "agents": 6, "skills": {"a": 2, "b": 1}}], {"spec": 1.0, "gen": 1.5}),
    "generalists cheaper": ([{"name": "spec", "agents": 6, "skills": {"a": 1}},
                             {"name": "gen", "agents": 6, "skills": {"a": 2, "b": 1}}], {"spec": 1.4, "gen": 1.0}),
    "three groups": ([{"name": "a-only", "agents": 5, "skills": {"a": 1}},
                      {"name": "b-only", "agents": 3, "skills": {"b": 1}},
                      {"name": "both", "agents": 4, "skills": {"a": 2, "b": 2}}],
                     {"a-only": 1.0, "b-only": 1.0, "both": 1.3}),
}


def plan_cost(plan, c):
    return float((plan.agents * c).sum()) * plan.interval_s / 3600


@pytest.mark.parametrize("case", ["specialists cheaper", "generalists cheaper"])
def test_cost_search_finds_the_enumerated_optimum(case):
    groups, cost = CASES[case]
    plan = staff(center(groups), replications=20, seed=3, cost=cost)
    c = np.array([cost[g["name"]] for g in groups])
    assert plan.passed.all() and plan.cost == pytest.approx(plan_cost(plan, c))
    best, x = cheapest_by_enumeration(plan, c, [range(1, 21)] * len(groups))
    assert plan.cost == pytest.approx(best / 2), f"search {plan.agents[0].tolist()} vs enumerated {x}"


@pytest.mark.parametrize("case", list(CASES))
def test_cost_plan_never_costs_more_than_the_fewest_agents(case):
    """The cost pass starts from the plan with the fewest agents and keeps only changes that lower the
    cost; two intervals, so that a change can move the next one."""
    groups, cost = CASES[case]
    s = center(groups, intervals=2)
    plan = staff(s, replications=20, seed=5, cost=cost)
    fewest = staff(s, replications=20, seed=5)
    c = np.array([cost[g["name"]] for g in groups])
    assert plan.passed.all() and plan.cost <= plan_cost(fewest, c) + 1e-9
    assert fewest.cost is None


def test_costs_from_the_scenario_and_clear_errors():
    groups = [{"name": "spec", "agents": 6, "skills": {"a": 1}, "cost_per_hour": 10.0},
              {"name": "gen", "agents": 6, "skills": {"a": 2, "b": 1}, "cost_per_hour": 15.0}]
    s = center(groups)
    plan = staff(s, replications=10, cost="scenario")
    assert plan.summary()["cost"] == pytest.approx(plan.cost) and plan.cost > 0
    with pytest.raises(ValueError, match="missing: gen"):
        staff(s, replications=10, cost={"spec": 1.0})
    with pytest.raises(ValueError, match="unknown group"):
        staff(s, replications=10, cost={"spec": 1.0, "gen": 1.0, "nobody": 2.0})
    with pytest.raises(ValueError, match="positive"):
        staff(s, replications=10, cost={"spec": 1.0, "gen": -1.0})
    bare = center([{**g, "cost_per_hour": None} for g in groups])
    with pytest.raises(ValueError, match="cost_per_hour on every group"):
        staff(bare, replications=10, cost="scenario")
