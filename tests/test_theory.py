"""Simulated vs exact theory: Erlang B, C and A.

Each case runs R replications with a fixed seed, starts counting after a
warm-up, and asserts that the exact value lies inside the 99% confidence
interval of the replication means (Student t), and that the interval is
narrow enough for the check to mean something. Fixed seeds make the tests
deterministic; the tolerance comes from the confidence interval, not from
a hand-picked constant.
"""
import math

import numpy as np
import pytest

import simcc
from simcc import erlang
from simcc.stats import t_quantile

LEVEL = 0.99


def ci(x):
    x = np.asarray(x, dtype=float)
    half = t_quantile(0.5 + LEVEL / 2, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x))
    return x.mean(), half


def check(result, kpi, exact, max_half):
    mean, half = ci(result.kpi(kpi))
    assert half <= max_half, f"{kpi}: CI half-width {half:.4g} too wide for a meaningful check"
    assert abs(mean - exact) <= half, f"{kpi}: exact {exact:.5g} outside {mean:.5g} +/- {half:.3g}"


@pytest.mark.parametrize("lines,offered,reps", [(10, 7.0, 100), (100, 90.0, 30), (1600, 1550.0, 30)])
def test_erlang_b_trunk_blocking(lines, offered, reps):
    talk = 180.0
    s = simcc.textbook.erlang(arrival_rate=offered / talk, mean_talk_s=talk, agents=lines, trunks=lines,
                              hours=4 if lines < 1000 else 2, warmup_hours=1)
    r = simcc.simulate(s, seed=101, replications=reps)
    check(r, "blocking_rate", erlang.erlang_b(lines, offered), max_half=0.01)
    assert r.summary()["abandoned"]["mean"] == 0


@pytest.mark.parametrize("agents,offered,hours,reps", [
    (10, 8.5, 24, 200),
    (100, 92.0, 12, 100),
    (1500, 1450.0, 3, 40),
])
def test_erlang_c_service_level_and_asa(agents, offered, hours, reps):
    talk = 300.0
    lam = offered / talk
    s = simcc.textbook.erlang(arrival_rate=lam, mean_talk_s=talk, agents=agents, sl_threshold_s=15,
                              hours=hours, warmup_hours=1)
    r = simcc.simulate(s, seed=202, replications=reps)
    check(r, "service_level", erlang.erlang_c_service_level(agents, lam, talk, 15.0), max_half=0.03)
    check(
        r,
        "asa_s",
        erlang.erlang_c_asa(agents, lam, talk),
        max_half=max(2.0, 0.2 * erlang.erlang_c_asa(agents, lam, talk)),
    )
    check(r, "occupancy", offered / agents, max_half=0.02)
    # the wait distribution: P(W > t) = C exp(-(n mu - lambda) t), so the 90th percentile is exact too
    c = erlang.erlang_c(agents, offered)
    p90 = 0.0 if c <= 0.1 else math.log(c / 0.1) / (agents / talk - lam)
    if 0 < p90 < 200:  # well inside the 1-second histogram (open beyond 599 s)
        check(r, "wait_p90_s", p90, max_half=2.0 + 0.2 * p90)


@pytest.mark.parametrize(
    "agents,offered,patience",
    [
        (50, 45.0, 120.0),  # moderate load
        (50, 60.0, 90.0),  # load above the number of agents: Erlang A is still stable
        (500, 520.0, 180.0),  # large and overloaded
    ],
)
def test_erlang_a_abandonment_and_service_level(agents, offered, patience):
    talk = 240.0
    lam = offered / talk
    s = simcc.textbook.erlang(
        arrival_rate=lam,
        mean_talk_s=talk,
        agents=agents,
        mean_patience_s=patience,
        sl_threshold_s=20,
        hours=6,
        warmup_hours=1,
    )
    r = simcc.simulate(s, seed=303, replications=40)
    exact = erlang.erlang_a(agents, lam, talk, patience, 20.0)
    check(r, "abandon_rate", exact.abandon_rate, max_half=0.01)
    check(r, "service_level", exact.service_level, max_half=0.03)
    check(r, "asa_s", exact.asa_s, max_half=5.0)


def test_infinite_server_mean_busy():
    """M/M/inf: with more agents than could ever be busy, mean busy agents = lambda / mu."""
    s = simcc.textbook.erlang(arrival_rate=0.2, mean_talk_s=200.0, agents=200, hours=6, warmup_hours=1)
    r = simcc.simulate(s, seed=404, replications=20)
    busy = r.kpi("occupancy") * r.kpi("agents_mean")
    mean, half = ci(busy)
    assert abs(mean - 40.0) <= half and half < 1.0
    assert r.summary()["asa_s"]["mean"] == 0.0


def test_littles_law_queue():
    """L = lambda W for the waiting room: mean queue length = arrival rate x mean wait of all queued calls."""
    s = simcc.textbook.erlang(
        arrival_rate=0.3, mean_talk_s=100.0, agents=32, mean_patience_s=60.0, hours=8, warmup_hours=1
    )
    r = simcc.simulate(s, seed=505, replications=20)
    answered_wait = r.kpi("asa_s") * r.kpi("answered")
    abandoned_wait = r.kpi("mean_abandon_wait_s") * r.kpi("abandoned")
    span = 7 * 3600.0
    w_total = (answered_wait + abandoned_wait) / span
    mean_l, half_l = ci(r.kpi("queue_mean") - w_total)
    assert abs(mean_l) <= half_l + 0.02 * r.summary()["queue_mean"]["mean"]
