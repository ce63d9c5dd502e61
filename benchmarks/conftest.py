"""Shared helpers for the benchmarks: run one replication of a compiled scenario."""
import time

import pytest

import simcc
from simcc.engine.compile import compile_scenario
from simcc.engine.replication import run_replication
from simcc.engine.streams import root_entropy

ENTROPY = root_entropy(20261121)


def compiled(path_or_scenario):
    s = simcc.load(path_or_scenario) if isinstance(path_or_scenario, str) else path_or_scenario
    return compile_scenario(s)


def one_day(cs, engine="kernel"):
    raw, _ = run_replication(cs, ENTROPY, 0, engine)
    return raw


def timed(cs, engine):
    t = time.perf_counter()
    raw = one_day(cs, engine)
    return time.perf_counter() - t, raw


def record(benchmark, raw, **extra):
    """Calls and events per second from the benchmark's median, into extra_info
    (nothing with --benchmark-disable, which runs each benchmark once as a plain test)."""
    if benchmark.stats is None:
        return
    median = benchmark.stats.stats.median
    benchmark.extra_info["calls"] = int(raw["n_arrivals"])
    benchmark.extra_info["events"] = int(raw["n_events"])
    benchmark.extra_info["calls_per_s"] = round(raw["n_arrivals"] / median)
    benchmark.extra_info["events_per_s"] = round(raw["n_events"] / median)
    benchmark.extra_info.update(extra)


@pytest.fixture
def day():
    return one_day
