"""Staffing speed: `simcc staff` on the shipped centers, against one 20-replication simulation of the same day.

Run: python -m pytest benchmarks/test_staff.py --benchmark-columns=min,median,max
extra_info: the search's wall time, simulations, simulated days, agent-hours, and ratio_vs_simulate (the
staffing's wall time over one 20-replication simulate of the scenario, both measured here, so the ratio holds
on a noisy machine). The goal: Guangzhou (1,500 seats) in about a minute on 2 cores, a ratio of 30 or less.
"""
import os
import time

import pytest

import simcc
from simcc.plan import staff

CASES = ["quanzhou-10000", "guangzhou-10000"]


@pytest.mark.benchmark(group="staff")
@pytest.mark.parametrize("name", CASES)
def test_staff(benchmark, name):
    s = simcc.load(f"scenarios/{name}.yaml")
    t = time.perf_counter()
    simcc.simulate(s, seed=1, replications=20)
    sim_s = time.perf_counter() - t
    plan = benchmark.pedantic(staff, args=(s,), kwargs={"target_sl": 0.9, "within_s": 15, "abandon_max": 0.05,
                                                        "replications": 20},
                              rounds=1, iterations=1)
    assert plan.passed[plan.measured].all()
    if benchmark.stats is None:
        return
    wall = benchmark.stats.stats.median
    benchmark.extra_info.update(simulations=plan.evaluations, simulated_days=plan.simulated_days,
                                wall_s=round(plan.wall_s, 1), agent_hours=round(plan.agent_hours, 1),
                                simulate_20_s=round(sim_s, 3), ratio_vs_simulate=round(wall / sim_s, 1),
                                load_average=round(os.getloadavg()[0], 2))
