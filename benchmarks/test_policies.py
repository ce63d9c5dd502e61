"""Routing policies on the same 1,500-seat day with common random numbers.

Speed per policy (calls per second) and the outcome KPIs, both recorded in
the benchmark's extra_info, so that a CI job comparing benchmark JSON across
commits catches a regression in speed or in outcomes:

    python -m pytest benchmarks/test_policies.py --benchmark-json=policies.json
    python -m pytest benchmarks/test_policies.py --benchmark-compare --benchmark-compare-fail=median:20%
"""
import pytest
from conftest import compiled, one_day, record

import simcc
from simcc.model.edits import policy_variant
from simcc.run.results import Stats

SCENARIO = "scenarios/guangzhou-10000.yaml"
POLICIES = ["priority", "priority+overflow", "priority+reserve", "priority+overflow+reserve",
            "weighted_wait", "weighted_wait+overflow+reserve"]


@pytest.mark.benchmark(group="policies")
@pytest.mark.parametrize("policy", POLICIES)
def test_policy_day(benchmark, policy):
    s = policy_variant(simcc.load(SCENARIO), policy)
    cs = compiled(s)
    raw = benchmark.pedantic(one_day, args=(cs,), rounds=7, warmup_rounds=1)
    day = Stats(raw, cs).day()
    vip = raw["answered_within"][:, :, 0].sum() / max(raw["queued"][:, :, 0].sum(), 1)
    record(benchmark, raw, policy=policy, vip_service_level=round(float(vip), 5),
           **{k: round(float(day[k]), 5) for k in ("service_level", "abandon_rate", "asa_s", "occupancy")})
