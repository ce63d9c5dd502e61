"""Replications at scale: speed-up on all local cores, and memory as replications grow.

Run: python -m pytest benchmarks/test_scale.py --benchmark-columns=min,median,max -s
Each result's extra_info holds the numbers of the note in docs/scale.md:
the one-core and all-core wall times of 200 Guangzhou days and their ratio
(measured back to back in the same run, with the machine's load before and
after), and, for 10 and 1,000 replications each in a fresh process, the peak
RSS of the process that merges the results and the memory the finished
result holds (RSS after the run minus RSS before it).
"""
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import simcc
from simcc.run.executors import default_workers

GUANGZHOU_DAY = "scenarios/guangzhou-10000.yaml"
QUANZHOU_DAY = "scenarios/quanzhou-10000.yaml"
ROOT = Path(simcc.__file__).resolve().parents[1]


def _same(a, b) -> bool:
    return (np.array_equal(a.day, b.day, equal_nan=True) and np.array_equal(a.intervals, b.intervals, equal_nan=True)
            and all(np.array_equal(a.totals[k], b.totals[k]) for k in a.totals))


@pytest.mark.benchmark(group="scale")
def test_guangzhou_200_days_all_cores_vs_one(benchmark):
    """200 replications of the 1,500-seat Guangzhou day (~260,000 calls each): one core, then all cores."""
    s = simcc.load(GUANGZHOU_DAY)
    load_before = os.getloadavg()[0]
    t = time.perf_counter()
    one = simcc.simulate(s, seed=1, replications=200, workers=1)
    one_s = time.perf_counter() - t
    everywhere = benchmark.pedantic(simcc.simulate, args=(s,), kwargs=dict(seed=1, replications=200),
                                    rounds=1, iterations=1)
    assert _same(one, everywhere)                                  # identical merged results
    assert everywhere.meta["execution"]["executor"] == "processes"
    if benchmark.stats is None:       # --benchmark-disable: run once as a plain test
        return
    all_s = benchmark.stats.stats.median
    benchmark.extra_info.update(
        cores=default_workers(), replications=200, calls=int(everywhere.n_arrivals),
        one_core_s=round(one_s, 2), all_cores_s=round(all_s, 2), speedup=round(one_s / all_s, 2),
        calls_per_s_all_cores=round(everywhere.n_arrivals / all_s),
        # other work on a shared machine takes cores too: the 1-minute load before and after
        load_before=round(load_before, 2), load_after=round(os.getloadavg()[0], 2),
        service_level=round(everywhere.summary()["service_level"]["mean"], 4))


_MEASURE = textwrap.dedent("""
    import json, resource, sys, time
    import psutil
    import simcc
    path, reps, workers = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    s = simcc.load(path)
    rss_start = psutil.Process().memory_info().rss
    t = time.perf_counter()
    r = simcc.simulate(s, seed=1, replications=reps, workers=None if workers == "all" else int(workers),
                       max_events=float("inf"))
    seconds = time.perf_counter() - t
    print(json.dumps({"replications": len(r.replications), "seconds": seconds,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      # what the finished result holds on to: RSS at the end minus RSS before the run
                      "held_mb": (psutil.Process().memory_info().rss - rss_start) / 2**20,
                      "executor": r.meta["execution"]["executor"]}))
""")


def _measure(path: str, reps: int, workers: str) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in [str(ROOT), os.environ.get("PYTHONPATH", "")] if p))
    out = subprocess.run([sys.executable, "-c", _MEASURE, path, str(reps), workers], capture_output=True, text=True,
                         env=env, cwd=ROOT, check=True, timeout=900)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.benchmark(group="scale-memory")
@pytest.mark.parametrize("workers", ["1", "all"])
def test_peak_memory_10_vs_1000_replications(benchmark, workers):
    """Peak RSS of a fresh process running 10, then 1,000 replications of the Quanzhou day (48 intervals)."""
    small = _measure(QUANZHOU_DAY, 10, workers)
    large = benchmark.pedantic(_measure, args=(QUANZHOU_DAY, 1000, workers), rounds=1, iterations=1)
    growth = large["peak_rss_mb"] - small["peak_rss_mb"]
    benchmark.extra_info.update(
        workers=workers, executor_10=small["executor"], executor_1000=large["executor"],
        peak_rss_mb_10=round(small["peak_rss_mb"], 1), peak_rss_mb_1000=round(large["peak_rss_mb"], 1),
        held_mb_10=round(small["held_mb"], 1), held_mb_1000=round(large["held_mb"], 1),
        growth_mb=round(growth, 1), seconds_1000=round(large["seconds"], 1))
    # per replication only a few numbers per KPI and interval are kept (about 7 kB here)
    assert growth < 40, (small, large)
