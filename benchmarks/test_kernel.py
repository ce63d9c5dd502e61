"""Kernel speed on full days, and the kernel/reference ratio measured in the same run.

Run: python -m pytest benchmarks/ --benchmark-columns=min,median,max
Each result's extra_info holds calls_per_s, events_per_s and, for the paired
cases, ratio_vs_reference (kernel calls/s over SimPy reference calls/s, both
measured here, so the ratio holds on a noisy machine).
"""
import pytest
from conftest import compiled, one_day, record, timed

import simcc

TEXTBOOK_DAY = "scenarios/textbook-mmn-1500.yaml"
GUANGZHOU_DAY = "scenarios/guangzhou-10000.yaml"


@pytest.mark.benchmark(group="day")
def test_textbook_day_1500_agents(benchmark):
    """1,500 agents, 1,450 Erlangs, exponential talk 300 s and patience 180 s, 24 h (~420,000 calls)."""
    cs = compiled(TEXTBOOK_DAY)
    raw = benchmark.pedantic(one_day, args=(cs,), rounds=15, warmup_rounds=1)
    record(benchmark, raw)


@pytest.mark.benchmark(group="day")
def test_guangzhou_day_1500_seats(benchmark):
    """The 1,500-seat Guangzhou day: IVR, four call types, five skill groups, two tiers (~260,000 calls)."""
    cs = compiled(GUANGZHOU_DAY)
    raw = benchmark.pedantic(one_day, args=(cs,), rounds=15, warmup_rounds=1)
    record(benchmark, raw)


def _paired(benchmark, cs, rounds):
    raw = benchmark.pedantic(one_day, args=(cs,), rounds=rounds, warmup_rounds=1)
    ref_s, ref_raw = timed(cs, "reference")
    assert ref_raw["n_arrivals"] == raw["n_arrivals"]
    if benchmark.stats is None:       # --benchmark-disable: run once as a plain test
        return
    kernel_s = benchmark.stats.stats.median
    record(benchmark, raw, reference_s=round(ref_s, 3),
           reference_calls_per_s=round(raw["n_arrivals"] / ref_s),
           ratio_vs_reference=round(ref_s / kernel_s, 1))


@pytest.mark.benchmark(group="vs-reference")
def test_vs_reference_50_seats(benchmark):
    """Small center: 50 agents, 45 Erlangs, Erlang A, 8 hours."""
    s = simcc.textbook.erlang(arrival_rate=45 / 240, mean_talk_s=240, agents=50, mean_patience_s=120, hours=8)
    _paired(benchmark, compiled(s), rounds=50)


@pytest.mark.benchmark(group="vs-reference")
def test_vs_reference_1500_seats(benchmark):
    """Large center: the Guangzhou scenario cut to its first 10 hours (peak morning included)."""
    s = simcc.load(GUANGZHOU_DAY)
    cut = 20
    arrivals = [a.model_dump() | {"profile": a.profile[:cut],
                                  "daily_calls": a.daily_calls * sum(a.profile[:cut]) / sum(a.profile)}
                for a in s.arrivals]
    short = s.with_changes(intervals=cut, arrivals=arrivals,
                           groups=[g.model_dump() | {"agents": g.agents[:cut]} for g in s.groups])
    _paired(benchmark, compiled(short), rounds=10)
