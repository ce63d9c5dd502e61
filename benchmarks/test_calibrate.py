"""Calibration speed: reading and fitting about a million call records (four Guangzhou days).

Run: python -m pytest benchmarks/test_calibrate.py --benchmark-columns=min,median,max
extra_info holds records, records_per_s for reading and fitting, and the ratio
of the fit to simulating the same days (both measured here, so the ratio holds
on a noisy machine). The goal: a million records read and fitted in under 10 s
on 2 cores.
"""
import time

import pytest

import simcc
from simcc.calibrate import fit, read_records, records_from_logs, write_records

DAYS = 4


@pytest.fixture(scope="module")
def records_file(tmp_path_factory):
    scn = simcc.load("scenarios/guangzhou-10000.yaml")
    t = time.perf_counter()
    res = simcc.simulate(scn, seed=3, replications=DAYS, call_log=True, workers=1)
    sim_s = time.perf_counter() - t
    path = tmp_path_factory.mktemp("records") / "guangzhou.csv"
    write_records(path, records_from_logs(scn, res.call_logs))
    return path, sim_s


def _read_and_fit(path):
    rec = read_records(path)
    return rec, fit(rec)


@pytest.mark.benchmark(group="calibrate")
def test_read_and_fit_a_million_records(benchmark, records_file):
    path, sim_s = records_file
    rec, _ = benchmark.pedantic(_read_and_fit, args=(path,), rounds=3, warmup_rounds=0)
    assert len(rec) > 900_000
    if benchmark.stats is None:
        return
    median = benchmark.stats.stats.median
    t = time.perf_counter()
    read_records(path)
    read_s = time.perf_counter() - t
    benchmark.extra_info.update(records=len(rec), records_per_s=round(len(rec) / median),
                                read_s=round(read_s, 2), fit_s=round(median - read_s, 2),
                                simulate_same_days_s=round(sim_s, 2),
                                ratio_vs_simulation=round(median / sim_s, 1))
