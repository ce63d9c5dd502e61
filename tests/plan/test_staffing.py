"""Staffing and trunk sizing by simulation (simcc.optimize) and their CLI commands."""
import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

import simcc
from simcc import erlang as erl
from simcc.cli import app
from simcc.plan import agent_load, erlang_baseline, parse_share, parse_target, staff, trunks
from simcc.plan.rule import failing as _check

QZ = "scenarios/quanzhou-10000.yaml"
runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


# --------------------------------------------------------------------------
# targets as typed
# --------------------------------------------------------------------------
def test_parse_target_and_percentages():
    assert parse_target("90/15") == (0.9, 15.0)
    assert parse_target(" 80 / 20s ") == (0.8, 20.0)
    assert parse_share("5%") == 0.05 and parse_share("5") == 0.05 and parse_share("0.5%") == 0.005
    for bad in ("90", "90/", "abc/15", "100/15", "0/15"):
        with pytest.raises(ValueError):
            parse_target(bad)
    for bad in ("5x", "", "-1", "100", "0"):
        with pytest.raises(ValueError):
            parse_share(bad)


def test_api_rejects_percent_given_as_share():
    s = simcc.textbook.erlang(arrival_rate=0.05, mean_talk_s=180, agents=14, hours=1)
    with pytest.raises(ValueError, match="share"):
        staff(s, target_sl=90, within_s=20, verify=False)
    with pytest.raises(ValueError, match="2 replications"):
        staff(s, target_sl=0.9, within_s=20, replications=1)


# --------------------------------------------------------------------------
# Erlang baseline
# --------------------------------------------------------------------------
def test_agent_load_of_quanzhou_follows_the_ivr():
    s = simcc.load(QZ)
    load = agent_load(s)
    # 41,700 IVR entries a day, 38% contained and 2% hang up in the menu: 60% reach the agents
    assert load.calls.sum() == pytest.approx(41700 * 0.60)
    assert load.calls_by_type.shape == (48, 4)
    # VIP (12%) choose business 45% of the time, standard callers 26%
    business = list(s.call_types).index("business")
    assert load.calls_by_type[:, business].sum() == pytest.approx(41700 * 0.6 * (0.12 * 0.45 + 0.88 * 0.26))
    assert np.all((load.aht_s > 200) & (load.aht_s < 500)) and np.all(np.isfinite(load.patience_s))


def test_erlang_baseline_is_the_erlang_formulas_per_interval():
    s = simcc.textbook.erlang(arrival_rate=100 / 1800, mean_talk_s=180, agents=14, mean_patience_s=300, hours=2)
    b = erlang_baseline(s, 0.8, 20.0, abandon_max=0.05, occupancy_max=0.85)
    lam = 100 / 1800
    na = erl.erlang_a_agents(lam, 180, 300, 0.8, 20, abandon_max=0.05)
    while erl.erlang_a(na, lam, 180, 300, 20).occupancy > 0.85:
        na += 1
    assert b.erlang_a.tolist() == [na] * 4
    assert b.erlang_c.tolist() == [erl.erlang_c_agents(lam, 180, 0.8, 20, max_occupancy=0.85)] * 4
    c = erlang_baseline(s.with_changes(call_types={"calls": {"patience": {"dist": "never"},
                                                             "talk": {"dist": "exponential", "mean_s": 180.0}}}),
                        0.8, 20.0)
    assert c.erlang_a.tolist() == c.erlang_c.tolist() == [14] * 4    # nobody hangs up: Erlang C


# --------------------------------------------------------------------------
# textbook: staff agrees with Erlang C / Erlang A
# --------------------------------------------------------------------------
@pytest.mark.parametrize("patience,formula", [(None, "erlang_c"), (300.0, "erlang_a")])
def test_textbook_staffing_agrees_with_erlang_within_one_agent(patience, formula):
    """The calculator's classic case: 100 calls per 30 min, AHT 3 min, 80% in 20 s (Erlang C: 14 agents)."""
    s = simcc.textbook.erlang(arrival_rate=100 / 1800, mean_talk_s=180, agents=14, mean_patience_s=patience,
                              hours=9, warmup_hours=1, sl_threshold_s=20)
    plan = staff(s, target_sl=0.8, within_s=20, abandon_max=None, seed=1, replications=100)
    erlang_answer = getattr(plan, formula)
    assert erlang_answer[plan.measured].tolist() == [14 if patience is None else 13] * 16
    diff = plan.total[plan.measured] - erlang_answer[plan.measured]
    assert np.all(np.abs(diff) <= 1), diff
    assert plan.passed.all()
    assert all(plan.one_fewer_fails()[p] for p in np.flatnonzero(plan.measured))
    # warm-up intervals are held at the Erlang answer and not judged
    assert plan.total[~plan.measured].tolist() == erlang_answer[~plan.measured].tolist()


# --------------------------------------------------------------------------
# Quanzhou: the whole center
# --------------------------------------------------------------------------
SAMPLE = [3, 21, 33, 44]     # night, morning peak, afternoon, evening


@pytest.fixture(scope="module")
def qz_plan():
    return staff(simcc.load(QZ), seed=1, replications=20, verify=SAMPLE)


def test_quanzhou_plan_meets_the_rule_in_every_interval(qz_plan):
    plan = qz_plan
    assert plan.agents.shape == (48, 3) and plan.group_names == ("general", "fault", "complaint")
    assert plan.passed.all()
    # the plan's own numbers: recompute the rule from the final evaluation
    assert not _check(plan.result.intervals, plan.targets, _level(plan), plan.measured).any()
    # the new headcount is what plan.scenario simulates
    got = np.array([plan.scenario.agents_per_interval(g) for g in plan.scenario.groups]).T
    assert np.array_equal(got, plan.agents)
    assert plan.scenario.sla.service_level.percent == 90 and plan.scenario.sla.service_level.within_s == 15
    # every group keeps someone where the scenario had agents (all call types stay served)
    assert np.all(plan.agents >= 1)
    hours = plan.total.sum() * 0.5
    assert plan.agent_hours == pytest.approx(hours)
    assert 0.9 * plan.scheduled_agent_hours < plan.agent_hours < 1.1 * plan.scheduled_agent_hours
    assert plan.agent_hours > plan.erlang_a_agent_hours   # skills and non-pooled queues cost agents
    assert "95% confidence for all 96 interval checks" in plan.rule and "90% within 15 s" in plan.rule


def _level(plan):
    n = int(plan.measured.sum()) * 2          # two lines (service level, abandonment) in 48 intervals
    assert plan.n_checks == n == 96
    assert plan.check_level == pytest.approx(1 - (1 - plan.confidence) / n)
    return plan.check_level


def test_quanzhou_plan_meets_the_sla_with_a_fresh_seed(qz_plan):
    v = qz_plan.verify(seed=20261122, replications=40)
    iv = v.result.by_interval()
    assert v.interval_mean_passed.all(), np.round(iv["service_level"], 3)
    assert np.nanmin(iv["service_level"]) >= 0.9
    assert all(line["passed"] for line in v.sla if line["kpi"] in ("service_level", "abandon_rate"))
    assert v.passed


def test_quanzhou_one_agent_fewer_fails_in_sampled_intervals(qz_plan):
    """Independently of the plan's own bookkeeping: take one agent from each group in turn in the
    sampled intervals, simulate with the same seed, and check the rule fails somewhere."""
    plan = qz_plan
    level = _level(plan)
    here = 0
    for p in SAMPLE:
        assert plan.one_fewer_fails()[p] is True
        for g in range(3):
            if plan.agents[p, g] <= 1:
                continue
            fewer = plan.agents.copy()
            fewer[p, g] -= 1
            groups = [dict(grp.model_dump(mode="python"), agents=[int(a) for a in fewer[:, i]])
                      for i, grp in enumerate(plan.scenario.groups)]
            r = simcc.simulate(plan.scenario.with_changes(groups=groups), seed=plan.seed,
                               replications=plan.replications)
            failing = np.flatnonzero(_check(r.intervals, plan.targets, level, plan.measured))
            assert len(failing), (p, g)
            assert failing[0] >= p                      # a change at p cannot move earlier intervals
            here += failing[0] <= p + 1
    assert here >= 6        # mostly where the agent was taken (or the next interval, through the queue)


def test_quanzhou_table_and_json(qz_plan):
    t = qz_plan.table()
    assert len(t["time"]) == 48 and t["time"][21] == "10:30"
    for col in ("required", "agents_general", "erlang_a", "erlang_c", "scheduled", "service_level",
                "service_level_ci_low", "abandon_rate_ci_high", "occupancy", "passed", "one_fewer_fails"):
        assert col in t
    assert t["one_fewer_fails"][3] is True and t["one_fewer_fails"][0] is None
    data = json.loads(json.dumps(qz_plan.to_dict(), allow_nan=False))
    assert data["summary"]["all_intervals_pass"] is True
    assert qz_plan.to_csv().count("\n") == 49


# --------------------------------------------------------------------------
# trunks
# --------------------------------------------------------------------------
def test_trunks_agree_with_erlang_b_when_agents_are_plenty():
    # 25 Erlangs of calls, 80 agents (nobody waits): the lines are an Erlang B loss system
    s = simcc.textbook.erlang(arrival_rate=25 / 180, mean_talk_s=180, agents=80, hours=3)
    tp = trunks(s, 0.01, seed=1, replications=20, confidence=None)
    assert erl.erlang_b_lines(25.0, 0.01) == 36
    # Erlang B beside it is taken on the busiest interval's measured load (the noisiest maximum of equals)
    assert tp.erlang_b_lines == erl.erlang_b_lines(tp.offered_erlangs, 0.01) in (36, 37)
    assert tp.offered_erlangs == pytest.approx(25, rel=0.05)
    assert tp.holding_time_s == pytest.approx(180, rel=0.05)
    assert abs(tp.lines - 36) <= 1
    assert tp.e1_groups == math.ceil(tp.lines / 30) == 2
    assert tp.bound <= 0.01 < tp.bound_one_fewer
    assert tp.scenario.trunks == tp.lines


def test_trunks_on_quanzhou_size_the_lines_by_the_busiest_interval():
    tp = trunks(simcc.load(QZ), 0.01, seed=3, replications=10)
    assert 10 * 2 <= tp.busiest_interval <= 18 * 2                     # daytime
    assert tp.holding_time_s > 180                                     # IVR + wait + talk + HOLD
    assert abs(tp.lines - tp.erlang_b_lines) <= 0.05 * tp.erlang_b_lines
    assert tp.lines < tp.peak_lines_unlimited and tp.e1_groups == math.ceil(tp.lines / 30)


# --------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------
def test_cli_staff_table_and_json(tmp_path):
    r = invoke("staff", "scenarios/textbook-erlang-a.yaml", "-r", 5, "--no-verify")
    assert r.exit_code == 0, r.output
    assert "Erlang A" in r.output and "agent-hours" in r.output and "warm-up" in r.output
    assert "95% confidence" in r.output and "answered within 20 s / queued" in r.output
    saved = tmp_path / "staffed.yaml"
    r = invoke("staff", "scenarios/textbook-erlang-a.yaml", "-r", 5, "--no-verify", "--format", "json",
               "--target", "85/20", "--abandon-max", "4%", "--save-scenario", saved)
    assert r.exit_code == 0
    data = json.loads(r.stdout)
    assert data["summary"]["targets"] == {"service_level": 0.85, "within_s": 20.0, "abandon_max": 0.04,
                                          "occupancy_max": None}
    again = simcc.load(saved)
    assert again.agents_per_interval(again.groups[0]) == data["intervals"]["required"]
    assert again.sla.service_level.percent == 85


@pytest.mark.parametrize("args,message", [
    (("--target", "90"), "PERCENT/SECONDS"),
    (("--abandon-max", "five"), "--abandon-max"),
    (("--occupancy-max", "120%"), "below 100%"),
    (("--confidence", "20"), "--confidence"),
])
def test_cli_staff_bad_arguments_exit_2(args, message):
    r = invoke("staff", "scenarios/textbook-erlang-a.yaml", "-r", 3, "--no-verify", *args)
    assert r.exit_code == 2
    assert message in r.output and "Traceback" not in r.output


def test_cli_staff_needs_a_target_when_the_scenario_has_none():
    r = invoke("staff", "scenarios/textbook-erlang-b.yaml", "-r", 3)
    assert r.exit_code == 2 and "--target" in r.output


def test_cli_trunks():
    r = invoke("trunks", "scenarios/textbook-erlang-b.yaml", "-r", 5, "--blocking-max", "2%")
    assert r.exit_code == 0, r.output
    assert "Erlang B" in r.output and "E1 groups" in r.output and "blocking <= 2%" in r.output
    r = invoke("trunks", "scenarios/textbook-erlang-b.yaml", "-r", 5, "--format", "json")
    s = json.loads(r.stdout)
    assert s["e1_groups"] == math.ceil(s["lines"] / 30) and s["blocking_max"] == 0.01
    assert invoke("trunks", "scenarios/textbook-erlang-b.yaml", "--blocking-max", "x").exit_code == 2
