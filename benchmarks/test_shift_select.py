"""Shift selection speed: `simcc shifts --select` on Quanzhou, per interval and over the day with a floor,
against one 20-replication simulation of the same day.

Run: python -m pytest benchmarks/test_shift_select.py --benchmark-columns=min,median,max
The staffing plan is found once, outside the timing; the benchmark times select_shifts alone (covering,
simulating the two-step answer, removals). extra_info: candidates, replication-days, shifts and paid hours
of both answers, the saving, and ratio_vs_simulate (the selection's wall time over one 20-replication
simulate, both measured here, so the ratio holds on a noisy machine).
"""
import os
import time

import pytest

import simcc
from simcc.plan import staff
from simcc.plan.shiftsearch import select_shifts

RULES = {"per interval": {}, "day, floor 80%": {"over": "day", "interval_floor": 0.8}}


@pytest.fixture(scope="module")
def quanzhou():
    s = simcc.load("scenarios/quanzhou-10000.yaml")
    t = time.perf_counter()
    simcc.simulate(s, seed=1, replications=20)
    sim_s = time.perf_counter() - t
    return staff(s, target_sl=0.9, within_s=15, abandon_max=0.05), sim_s


@pytest.mark.benchmark(group="shift selection")
@pytest.mark.parametrize("rule", list(RULES))
def test_select_shifts(benchmark, quanzhou, rule):
    plan, sim_s = quanzhou
    sel = benchmark.pedantic(select_shifts, args=(plan,), kwargs={"length_hours": 8, "start_every_min": 60,
                                                                   **RULES[rule]}, rounds=1, iterations=1)
    assert sel.joint_passed and sel.joint_paid_hours <= sel.two_step_paid_hours
    if benchmark.stats is None:
        return
    s = sel.summary()
    benchmark.extra_info.update(candidates=s["evaluations"], simulated_days=s["simulated_days"],
                                two_step=(s["two_step_agents"], s["two_step_paid_hours"]),
                                selected=(s["joint_agents"], s["joint_paid_hours"]), saving=round(sel.saving, 4),
                                simulate_20_s=round(sim_s, 3),
                                ratio_vs_simulate=round(benchmark.stats.stats.median / sim_s, 1),
                                load_average=round(os.getloadavg()[0], 2))
