"""A day stopped at an interval border, copied, given another headcount for the borders to come and
continued ends exactly as one uninterrupted run of that headcount; a staffing check judged from the
plan's prefix gives the answer a whole-day simulation gives (simcc.plan.stepping)."""
import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import scenarios

import simcc
from simcc.engine.compile import compile_scenario
from simcc.engine.replication import day_raw, run_replication, start_day
from simcc.engine.streams import root_entropy
from simcc.plan import staff, staffing
from simcc.plan.staffing import _Evaluator
from simcc.plan.stepping import EarlyFail


def assert_same_raw(a: dict, b: dict):
    for k in a:
        if isinstance(a[k], np.ndarray):
            assert np.array_equal(a[k], b[k]), k
    assert a["n_events"] == b["n_events"] and a["n_arrivals"] == b["n_arrivals"]


def branched(cs, entropy, rep, borders, headcount, original=None):
    """Run cs to borders[0], copy, switch to ``headcount``, pause, stop and copy at every later border, finish.
    With ``original`` (cs's whole run), the day copied from goes on too and must end as that run: a copy
    shares nothing with its original."""
    day, _ = start_day(cs, entropy, rep, idle_room=4)
    day.advance(borders[0])
    first = day
    day = day.copy()
    day.set_headcount(headcount)
    if original is not None:
        first.advance(borders[0] + 1)       # both go on, interleaved
        day.advance(borders[0] + 1)
        first.advance(cs.n_intervals)
        assert_same_raw(original, day_raw(first))
    for b in borders[1:]:
        day.advance(b, day.now + 0.37 * cs.interval_s)      # a pause inside the interval changes nothing
        day = day.copy()
        assert day.advance(b) == min(b, cs.n_intervals)
        day = day.copy()
    day.advance(cs.n_intervals)
    return day_raw(day)


def test_shipped_scenario_branched_equals_whole_run():
    cs = compile_scenario(simcc.load("scenarios/quanzhou-10000.yaml"))
    e = root_entropy(4)
    for p, g, d in [(1, 0, -1), (17, 1, -2), (30, 2, +3), (47, 0, -1)]:
        hc = cs.headcount.copy()
        hc[p:, g] += d
        whole, _ = run_replication(dataclasses.replace(cs, headcount=hc), e, 1)
        assert_same_raw(whole, branched(cs, e, 1, [p, p + 1, p + 5], hc))


@given(scn=scenarios(max_intervals=5), seed=st.integers(0, 2 ** 32 - 1), data=st.data())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_random_scenarios_branched_equal_whole_runs(scn, seed, data):
    """Every model feature: a headcount change from a random border on, branched from the day that had
    the old headcount until then, equals the whole run of the new headcount (every statistic, bit for bit)."""
    cs = compile_scenario(scn)
    if cs.n_intervals < 2:
        return
    p = data.draw(st.integers(1, cs.n_intervals - 1))
    hc = cs.headcount.copy()
    for g in range(cs.n_groups):
        hc[p:, g] = np.maximum(0, hc[p:, g] + data.draw(st.integers(-2, 2)))
    e = root_entropy(seed)
    new = dataclasses.replace(cs, headcount=hc)
    whole, _ = run_replication(new, e, 0)
    # absence draws each day's headcount from the whole day's: branch from the day that lived the same
    if np.any(cs.absence > 0):
        return
    original, _ = run_replication(cs, e, 0)
    assert_same_raw(whole, branched(cs, e, 0, sorted({p, min(p + 1, cs.n_intervals)}), hc, original))


def test_day_refuses_a_headcount_it_has_no_room_for():
    cs = compile_scenario(simcc.load("scenarios/quanzhou-10000.yaml"))
    day, _ = start_day(cs, root_entropy(1), 0)
    with pytest.raises(ValueError, match="headcount outside"):
        day.set_headcount(cs.headcount + 1)
    with pytest.raises(ValueError, match="headcount must be"):
        day.set_headcount(cs.headcount[:, :1])


def small_center(intervals=6):
    return simcc.from_dict({
        "interval_minutes": 30, "intervals": intervals,
        "call_types": {"a": {"patience": {"dist": "exponential", "mean_s": 120.0},
                             "talk": {"dist": "exponential", "mean_s": 180.0}},
                       "b": {"patience": {"dist": "exponential", "mean_s": 120.0},
                             "talk": {"dist": "exponential", "mean_s": 240.0}}},
        "arrivals": [{"name": "a", "entry": "a", "calls": [60, 90, 120, 90, 70, 50][:intervals]},
                     {"name": "b", "entry": "b", "calls": 30.0}],
        "groups": [{"name": "spec", "agents": 6, "skills": {"a": 1}},
                   {"name": "gen", "agents": 5, "skills": {"a": 2, "b": 1}}],
        "sla": {"service_level": "80/20", "abandon_max_pct": 5},
    })


def test_checks_from_the_prefix_give_the_whole_day_answer():
    """Every one-fewer and one-more candidate of a passing plan, judged from the plan's prefix: a failure
    names the interval where the whole day first fails and why; a pass has the whole day's figures."""
    s = small_center()
    plan = staff(s, replications=10, seed=2)
    t = plan.targets
    args = (plan.scenario, plan.seed, plan.replications, plan.engine, plan.check_level, t["service_level"],
            t["abandon_max"], t["occupancy_max"], plan.measured)
    whole, stepped = _Evaluator(*args), _Evaluator(*args)
    stepped.set_stepper(2)
    base = stepped(plan.agents)
    assert not base.fail.any()
    early = passes = 0
    for p in range(plan.agents.shape[0]):
        for g in range(plan.agents.shape[1]):
            for d in (-1, +1):
                trial = plan.agents.copy()
                trial[p, g] += d
                if trial[p, g] < 0:
                    continue
                a, b = whole(trial), stepped.check(base, trial, p)
                if a.fail.any():
                    q = int(np.flatnonzero(a.fail)[0])
                    assert b.fail.any() and int(np.flatnonzero(b.fail)[0]) == q and b.reason[q] == a.reason[q]
                    early += isinstance(b, EarlyFail)
                else:
                    assert not b.fail.any() and np.array_equal(a.intervals, b.intervals)
                    passes += 1
    stepped.close()
    assert early > 0 and passes > 0
    assert stepped.days < whole.days


def test_stepped_search_is_the_whole_day_search(monkeypatch):
    """With every change judged on its whole day (no window), checks from the prefix change nothing but
    the days simulated."""
    monkeypatch.setattr(staffing, "WINDOW", None)
    s = small_center()
    fast = staff(s, replications=10, seed=5)
    monkeypatch.setattr(_Evaluator, "set_stepper", lambda self, threads: None)
    slow = staff(s, replications=10, seed=5)
    assert np.array_equal(fast.agents, slow.agents)
    assert fast.one_fewer == slow.one_fewer
    assert fast.evaluations == slow.evaluations
    assert fast.simulated_days < slow.simulated_days


def long_waits_center():
    """Patient callers and long calls: a removal moves intervals well after its own."""
    return simcc.from_dict({
        "interval_minutes": 15, "intervals": 8,
        "call_types": {"a": {"patience": {"dist": "exponential", "mean_s": 600.0},
                             "talk": {"dist": "exponential", "mean_s": 300.0}},
                       "b": {"patience": {"dist": "exponential", "mean_s": 600.0},
                             "talk": {"dist": "exponential", "mean_s": 400.0}}},
        "arrivals": [{"name": "a", "entry": "a", "calls": [40, 60, 80, 90, 80, 70, 60, 50]},
                     {"name": "b", "entry": "b", "calls": 20.0}],
        "groups": [{"name": "spec", "agents": 6, "skills": {"a": 1}},
                   {"name": "gen", "agents": 5, "skills": {"a": 2, "b": 1}}],
        "sla": {"service_level": "80/20", "abandon_max_pct": 5},
    })


def confirm_failed(plan) -> bool:
    return any(h["stage"] == "confirm" and h["failing"] for h in plan.history)


@pytest.mark.parametrize("center, confirm_fails", [(small_center, False), (long_waits_center, True)])
def test_windowed_search_plan_passes_and_one_fewer_fails(monkeypatch, center, confirm_fails):
    """Changes kept on the interval just after them (a window of one, so that the day can fail further on
    and the confirmation has work to do; the first seed where it does): the plan still passes on its
    whole day, and in every interval one agent fewer in any group fails on the whole day, where the plan
    says."""
    monkeypatch.setattr(staffing, "WINDOW", 1)
    s = center()
    for seed in range(1, 16):
        plan = staff(s, replications=10, seed=seed)
        if confirm_failed(plan) == confirm_fails:
            break
    assert confirm_failed(plan) == confirm_fails
    t = plan.targets
    E = _Evaluator(plan.scenario, plan.seed, plan.replications, plan.engine, plan.check_level, t["service_level"],
                   t["abandon_max"], t["occupancy_max"], plan.measured)
    assert plan.passed.all() and not E(plan.agents).fail.any()
    for p in range(plan.agents.shape[0]):
        for g, name in enumerate(plan.group_names):
            if plan.agents[p, g] <= 1:
                continue
            trial = plan.agents.copy()
            trial[p, g] -= 1
            ev = E(trial)
            assert ev.fail.any(), (p, name)
            assert int(np.flatnonzero(ev.fail)[0]) == plan.one_fewer[p][name]["fails_at"], (p, name)
