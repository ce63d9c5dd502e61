"""Tests for simcc.erlang: textbook values, independent numerical solutions,
limits, large-n stability, sizing minimality, Monte Carlo and validation."""

import doctest
import heapq
import math

import numpy as np
import pytest
import scipy.linalg
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

import simcc.erlang
from simcc.erlang import (
    ErlangAResult,
    erlang_a,
    erlang_a_agents,
    erlang_b,
    erlang_b_lines,
    erlang_c,
    erlang_c_agents,
    erlang_c_asa,
    erlang_c_service_level,
)

# 100 calls per 30 minutes, AHT 3 minutes -> 10 Erlangs (callcentrehelper /
# pyworkforce README example).
LAM_100_30 = 100 / 1800
AHT_180 = 180.0


# --------------------------------------------------------------------------
# independent reference implementations (small n only)
# --------------------------------------------------------------------------
def erlang_b_factorial(n, a):
    terms = [a**k / math.factorial(k) for k in range(n + 1)]
    return terms[-1] / sum(terms)


def erlang_c_factorial(n, a):
    top = a**n / math.factorial(n) * n / (n - a)
    return top / (sum(a**k / math.factorial(k) for k in range(n)) + top)


def birth_death_reference(n, lam, mu, theta, t, extra=300):
    """Erlang A by brute force: generator solve + tagged-caller phase type."""
    size = n + extra + 1
    q = np.zeros((size, size))
    for j in range(size):
        if j + 1 < size:
            q[j, j + 1] = lam
        if j > 0:
            q[j, j - 1] = min(j, n) * mu + max(j - n, 0) * theta
        q[j, j] = -q[j].sum()
    a_mat = q.T.copy()
    a_mat[-1, :] = 1.0
    rhs = np.zeros(size)
    rhs[-1] = 1.0
    pi = np.linalg.solve(a_mat, rhs)
    assert pi[-1] < 1e-15, "truncation too short"
    j = np.arange(size)
    mean_q = float(np.sum(np.maximum(j - n, 0) * pi))
    busy = float(np.sum(np.minimum(j, n) * pi))
    # Tagged caller at position k = 1..K (k - 1 callers ahead).  Positions
    # only decrease, so positions no arrival starts from are unreachable.
    kk = max(1, int(np.nonzero(pi[n:] > 1e-22)[0].max(initial=0)) + 1)
    tt = np.zeros((kk, kk))
    exit_served = np.zeros(kk)
    for k in range(1, kk + 1):
        tt[k - 1, k - 1] = -(n * mu + k * theta)
        if k >= 2:
            tt[k - 1, k - 2] = n * mu + (k - 1) * theta
        else:
            exit_served[0] = n * mu
    alpha = pi[n : n + kk]  # arrival finds n + k - 1 in system -> position k
    inv = np.linalg.inv(-tt)
    served = alpha @ inv @ exit_served
    served_by_t = alpha @ (np.eye(kk) - scipy.linalg.expm(tt * t)) @ inv @ exit_served
    wait_served = alpha @ inv @ inv @ exit_served  # E[W 1{served}]
    p_below = float(pi[:n].sum())
    answered = p_below + served
    return {
        "p_wait": float(pi[n:].sum()),
        "abandon_rate": theta * mean_q / lam,
        "abandon_per_arrival": 1.0 - answered,
        "service_level": p_below + served_by_t,
        "asa_s": wait_served / answered,
        "mean_wait_s": mean_q / lam,
        "occupancy": busy / n,
    }


# --------------------------------------------------------------------------
# doctests
# --------------------------------------------------------------------------
def test_docstring_examples():
    res = doctest.testmod(simcc.erlang, optionflags=doctest.ELLIPSIS)
    assert res.attempted >= 15
    assert res.failed == 0


def test_public_functions_have_numpydoc_sections():
    for name in simcc.erlang.__all__:
        doc = getattr(simcc.erlang, name).__doc__
        assert doc, name
        if name != "ErlangAResult":
            for section in ("Parameters", "Returns", "Raises", "Examples"):
                assert f"\n    {section}\n    ---" in doc, (name, section)


# --------------------------------------------------------------------------
# Erlang B
# --------------------------------------------------------------------------
def test_erlang_b_textbook_value():
    assert erlang_b(10, 5.0) == pytest.approx(0.018384, abs=1e-6)
    assert erlang_b(1, 1.0) == pytest.approx(0.5)
    assert erlang_b(2, 1.0) == pytest.approx(0.2)
    assert erlang_b(0, 3.0) == 1.0
    assert erlang_b(5, 0.0) == 0.0


@pytest.mark.parametrize("a", [0.1, 1.0, 5.0, 17.3, 40.0])
def test_erlang_b_matches_factorial_formula(a):
    for n in range(31):
        assert erlang_b(n, a) == pytest.approx(erlang_b_factorial(n, a), rel=1e-12)


def test_erlang_b_lines_known():
    assert erlang_b_lines(5.0, 0.02) == 10
    assert erlang_b_lines(5.0, 0.01) == 11
    assert erlang_b_lines(0.0, 0.01) == 1


# --------------------------------------------------------------------------
# Erlang C
# --------------------------------------------------------------------------
@pytest.mark.parametrize("a", [0.3, 2.0, 9.5, 17.0, 29.9])
def test_erlang_c_matches_factorial_formula(a):
    for n in range(math.floor(a) + 1, 31):
        assert erlang_c(n, a) == pytest.approx(erlang_c_factorial(n, a), rel=1e-11)


@pytest.mark.parametrize("n,a", [(1, 0.5), (14, 10.0), (100, 93.7), (1500, 1480.0)])
def test_erlang_c_identity_with_erlang_b(n, a):
    b = erlang_b(n, a)
    assert erlang_c(n, a) == pytest.approx(n * b / (n - a * (1 - b)), rel=1e-13)
    # equivalent form C = B / (1 - rho (1 - B))
    assert erlang_c(n, a) == pytest.approx(b / (1 - a / n * (1 - b)), rel=1e-12)
    assert erlang_c(n, a) > b


def test_erlang_c_unstable_is_one():
    assert erlang_c(10, 10.0) == 1.0
    assert erlang_c(10, 25.0) == 1.0
    assert erlang_c_service_level(10, LAM_100_30, AHT_180, 20.0) == 0.0
    assert erlang_c_asa(10, LAM_100_30, AHT_180) == math.inf


def test_pyworkforce_readme_case():
    # pyworkforce README: ErlangC(transactions=100, aht=3, interval=30,
    # asa=20/60) at 80 % -> raw_positions 14, service_level 0.8883500191794669,
    # occupancy 0.714..., waiting_probability 0.1741319335950498.
    assert pytest.approx(10.0) == LAM_100_30 * AHT_180
    n = erlang_c_agents(LAM_100_30, AHT_180, 0.8, 20.0)
    assert n == 14
    assert erlang_c_agents(LAM_100_30, AHT_180, 0.8, 20.0, max_occupancy=0.85) == 14
    assert erlang_c_service_level(14, LAM_100_30, AHT_180, 20.0) == pytest.approx(
        0.8883500191794669, abs=1e-9
    )
    assert erlang_c(14, 10.0) == pytest.approx(0.1741319335950498, abs=1e-9)
    assert erlang_c_service_level(13, LAM_100_30, AHT_180, 20.0) < 0.8


def test_erlang_c_service_level_and_asa_formulas():
    n, lam, s, t = 14, LAM_100_30, AHT_180, 20.0
    c = erlang_c_factorial(n, lam * s)
    mu = 1 / s
    assert erlang_c_service_level(n, lam, s, t) == pytest.approx(
        1 - c * math.exp(-(n * mu - lam) * t), rel=1e-12
    )
    assert erlang_c_service_level(n, lam, s, 0.0) == pytest.approx(1 - c, rel=1e-12)
    assert erlang_c_service_level(n, lam, s, math.inf) == 1.0
    assert erlang_c_asa(n, lam, s) == pytest.approx(c / (n * mu - lam), rel=1e-12)
    assert erlang_c_asa(n, lam, s) == pytest.approx(7.836, abs=1e-3)
    assert erlang_c_asa(3, 0.0, 100.0) == 0.0
    assert erlang_c_service_level(3, 0.0, 100.0, 0.0) == 1.0


def test_erlang_c_waiting_time_against_chain():
    """P(W <= t) from a truncated M/M/n chain + PASTA + Erlang(m+1, n mu)."""
    n, lam, mu = 4, 1.5, 0.5
    size = 400
    j = np.arange(size)
    q = np.zeros((size, size))
    q[j[:-1], j[:-1] + 1] = lam
    q[j[1:], j[1:] - 1] = np.minimum(j[1:], n) * mu
    q -= np.diag(q.sum(axis=1))
    a_mat = q.T.copy()
    a_mat[-1] = 1.0
    rhs = np.zeros(size)
    rhs[-1] = 1.0
    pi = np.linalg.solve(a_mat, rhs)
    for t in (0.0, 0.7, 3.0, 10.0):
        m = np.arange(size - n)
        cdf = scipy.stats.gamma.cdf(t, a=m + 1, scale=1 / (n * mu)) if t > 0 else 0 * m
        ref = pi[:n].sum() + np.sum(pi[n:] * cdf)
        assert erlang_c_service_level(n, lam, 1 / mu, t) == pytest.approx(ref, abs=1e-10)
    ref_wait = np.sum(pi[n:] * (np.arange(size - n) + 1) / (n * mu))
    assert erlang_c_asa(n, lam, 1 / mu) == pytest.approx(ref_wait, rel=1e-9)


# --------------------------------------------------------------------------
# Erlang A
# --------------------------------------------------------------------------
ERLANG_A_CASES = [
    # n, lam, mu, theta, t
    (1, 0.5, 1.0, 0.7, 1.3),
    (3, 1.0, 0.5, 0.3, 2.0),
    (3, 2.5, 0.5, 0.3, 2.0),  # overloaded: a = 5 > n
    (5, 1.0, 0.1, 0.05, 7.0),  # a = 10, 2x overload
    (4, 0.3, 0.2, 2.0, 0.5),  # impatient callers
    (10, 3.0, 0.2, 0.01, 10.0),  # patient callers, 1.5x overload
    (8, 1.2, 0.2, 0.2, 0.0),  # theta == mu (M/M/inf-like), t = 0
]


@pytest.mark.parametrize("n,lam,mu,theta,t", ERLANG_A_CASES)
def test_erlang_a_matches_birth_death_chain(n, lam, mu, theta, t):
    r = erlang_a(n, lam, 1 / mu, 1 / theta, threshold_s=t)
    ref = birth_death_reference(n, lam, mu, theta, t)
    for field in ("p_wait", "abandon_rate", "service_level", "occupancy"):
        assert getattr(r, field) == pytest.approx(ref[field], abs=1e-9), field
    for field in ("asa_s", "mean_wait_s"):
        assert getattr(r, field) == pytest.approx(ref[field], rel=1e-8, abs=1e-12), field
    # two routes to the abandonment fraction agree (flow balance vs per arrival)
    assert ref["abandon_per_arrival"] == pytest.approx(r.abandon_rate, abs=1e-9)


def test_erlang_a_theta_equal_mu_is_poisson():
    # With theta == mu every caller in system leaves at rate mu: M/M/inf, so
    # the number in system is Poisson(a) whatever n is.
    n, lam, mu = 6, 1.4, 0.2
    r = erlang_a(n, lam, 1 / mu, 1 / mu)
    a = lam / mu
    assert r.p_wait == pytest.approx(scipy.stats.poisson.sf(n - 1, a), abs=1e-12)
    mean_q = sum((j - n) * scipy.stats.poisson.pmf(j, a) for j in range(n, 200))
    assert r.abandon_rate == pytest.approx(mu * mean_q / lam, abs=1e-12)


@pytest.mark.parametrize("n,a", [(14, 10.0), (3, 5.0), (1500, 1400.0)])
def test_erlang_a_impatient_callers_tend_to_erlang_b(n, a):
    # callers who hang up at once are lost calls: the M/M/n/n system
    s = 180.0
    b = erlang_b(n, a)
    for pat in (1e-9, 1e-300):
        r = erlang_a(n, a / s, s, pat, threshold_s=20.0)
        assert r.p_wait == pytest.approx(b, rel=1e-6)
        assert r.abandon_rate == pytest.approx(b, rel=1e-6)
        assert r.service_level == pytest.approx(1 - b, rel=1e-6)
        assert r.occupancy == pytest.approx(a * (1 - b) / n, rel=1e-6)


def test_erlang_a_denormal_threshold():
    r = erlang_a(1, 1.0, 1.0, 2.0, threshold_s=5e-324)
    assert r.service_level == pytest.approx(1 - r.p_wait, abs=1e-15)


@pytest.mark.parametrize(
    "n,lam,s,t",
    [(14, LAM_100_30, AHT_180, 20.0), (3, 1.0, 2.5, 4.0), (1500, 1450 / 180, 180.0, 20.0)],
)
def test_erlang_a_tiny_theta_tends_to_erlang_c(n, lam, s, t):
    r = erlang_a(n, lam, s, 1e10, threshold_s=t)
    assert r.p_wait == pytest.approx(erlang_c(n, lam * s), abs=1e-7)
    assert r.service_level == pytest.approx(erlang_c_service_level(n, lam, s, t), abs=1e-7)
    assert r.asa_s == pytest.approx(erlang_c_asa(n, lam, s), rel=1e-6)
    assert r.mean_wait_s == pytest.approx(erlang_c_asa(n, lam, s), rel=1e-6)
    assert r.abandon_rate < 1e-6
    # and the deviation shrinks with theta (the limit is approached, not hit)
    r2 = erlang_a(n, lam, s, 1e7, threshold_s=t)
    c = erlang_c_service_level(n, lam, s, t)
    assert abs(r2.service_level - c) > abs(r.service_level - c)


def test_erlang_a_infinite_patience_is_erlang_c():
    n, lam, s, t = 14, LAM_100_30, AHT_180, 20.0
    r = erlang_a(n, lam, s, math.inf, threshold_s=t)
    assert r.p_wait == erlang_c(n, lam * s)
    assert r.service_level == erlang_c_service_level(n, lam, s, t)
    assert r.asa_s == erlang_c_asa(n, lam, s)
    assert r.abandon_rate == 0.0
    assert r.occupancy == pytest.approx(10 / 14)
    unstable = erlang_a(10, lam, s, math.inf, threshold_s=t)
    assert unstable.p_wait == 1.0 and unstable.service_level == 0.0
    assert unstable.asa_s == math.inf


@pytest.mark.parametrize("n,lam,mu,theta", [(12, LAM_100_30, 1 / 180, 1 / 300), (3, 2.5, 0.5, 0.3)])
def test_erlang_a_threshold_limits(n, lam, mu, theta):
    r0 = erlang_a(n, lam, 1 / mu, 1 / theta, threshold_s=0.0)
    rinf = erlang_a(n, lam, 1 / mu, 1 / theta, threshold_s=math.inf)
    # answered within 0 s == not delayed
    assert r0.service_level == pytest.approx(1 - r0.p_wait, abs=1e-13)
    # answered at all == not abandoned (per-arrival sum vs flow balance)
    assert rinf.service_level == pytest.approx(1 - rinf.abandon_rate, abs=1e-12)
    assert erlang_a(n, lam, 1 / mu, 1 / theta, threshold_s=1e6).service_level == (
        pytest.approx(rinf.service_level, abs=1e-12)
    )
    sls = [erlang_a(n, lam, 1 / mu, 1 / theta, threshold_s=t).service_level for t in (0, 1, 5, 20, 100, 1e3)]
    assert all(x <= y + 1e-15 for x, y in zip(sls, sls[1:]))
    assert sls[0] < sls[-1]


def test_erlang_a_internal_consistency():
    r = erlang_a(12, LAM_100_30, AHT_180, 300.0, threshold_s=20.0)
    assert isinstance(r, ErlangAResult)
    theta = 1 / 300
    assert r.abandon_rate == pytest.approx(theta * r.mean_wait_s, rel=1e-12)
    assert r.occupancy == pytest.approx(10 * (1 - r.abandon_rate) / 12, rel=1e-12)
    assert r.abandon_rate < r.p_wait
    assert r.service_level <= 1 - r.abandon_rate
    with pytest.raises(AttributeError):
        r.p_wait = 0.0  # frozen


def test_erlang_a_overload_is_stable():
    n, s, pat = 20, 100.0, 50.0
    lam = 5 * n / s  # five times the capacity
    r = erlang_a(n, lam, s, pat, threshold_s=10.0)
    assert 0.999 < r.p_wait <= 1.0
    # carried load cannot exceed n: abandon >= 1 - n/a, and close to it
    assert r.abandon_rate >= 1 - n / (lam * s) - 1e-12
    assert r.abandon_rate == pytest.approx(0.8, abs=0.01)
    assert 0.99 < r.occupancy <= 1.0
    assert math.isfinite(r.asa_s) and math.isfinite(r.mean_wait_s)


def test_erlang_a_zero_arrivals():
    r = erlang_a(3, 0.0, 100.0, 60.0, threshold_s=20.0)
    assert r == ErlangAResult(0.0, 0.0, 1.0, 0.0, 0.0, 0.0)


def _simulate_mmn_m(n, lam, mu, theta, t, calls, seed, warmup=2000):
    """FCFS M/M/n+M: each call takes the earliest free agent unless it hangs up first."""
    rng = np.random.default_rng(seed)
    arrivals = np.cumsum(rng.exponential(1 / lam, calls + warmup))
    service = rng.exponential(1 / mu, calls + warmup)
    patience = rng.exponential(1 / theta, calls + warmup)
    free = [0.0] * n
    good = np.zeros(calls + warmup, dtype=bool)
    abandoned = np.zeros(calls + warmup, dtype=bool)
    for i, (arr, sv, pat) in enumerate(zip(arrivals.tolist(), service.tolist(), patience.tolist())):
        start = max(arr, free[0])
        if start - arr > pat:
            abandoned[i] = True
        else:
            heapq.heapreplace(free, start + sv)
            good[i] = start - arr <= t
    return good[warmup:], abandoned[warmup:]


def test_erlang_a_monte_carlo():
    n, lam, mu, theta, t = 4, 0.8, 0.25, 0.5, 1.0  # a = 3.2, P(wait) ~ 0.35
    calls = 400_000
    good, abandoned = _simulate_mmn_m(n, lam, mu, theta, t, calls, seed=20240611)
    r = erlang_a(n, lam, 1 / mu, 1 / theta, threshold_s=t)
    for sample, exact in ((good, r.service_level), (abandoned, r.abandon_rate)):
        p_hat = sample.mean()
        se_binom = math.sqrt(p_hat * (1 - p_hat) / calls)
        # successive calls are correlated; widen with batch means when larger
        batches = sample.reshape(50, -1).mean(axis=1)
        se_batch = batches.std(ddof=1) / math.sqrt(len(batches))
        tol = 4.0 * max(se_binom, se_batch)
        assert abs(p_hat - exact) < tol, (p_hat, exact, tol)
        assert tol < 0.006  # sharp enough to catch a real error


# --------------------------------------------------------------------------
# large n: no overflow, results in range, monotone
# --------------------------------------------------------------------------
@pytest.mark.parametrize("n", [1500, 5000])
@pytest.mark.parametrize("load", [0.01, 0.5, 0.95, 0.999, 1.0, 1.3])
def test_erlang_b_c_large_n(n, load):
    a = load * n
    bs = [erlang_b(k, a) for k in range(n - 3, n + 4)]
    cs = [erlang_c(k, a) for k in range(n - 3, n + 4)]
    for v in bs + cs:
        assert 0.0 <= v <= 1.0 and not math.isnan(v)
    assert all(x >= y for x, y in zip(bs, bs[1:]))
    assert all(x >= y for x, y in zip(cs, cs[1:]))
    if load < 1:
        assert erlang_c(n, a) >= erlang_b(n, a)
    if load >= 1:
        # B >= 1 - n/a (carried load <= n); at a = n, B ~ sqrt(2/(pi n))
        assert erlang_b(n, a) >= 1 - n / a - 1e-15
    if load == 1.0:
        assert erlang_b(n, a) == pytest.approx(math.sqrt(2 / (math.pi * n)), rel=0.02)
    if load == 0.01:
        assert erlang_b(n, a) == 0.0  # underflows cleanly, no exception


@pytest.mark.parametrize("n", [1500, 5000])
@pytest.mark.parametrize("load,patience", [(0.9, 60.0), (0.99, 180.0), (1.0, 600.0), (1.2, 180.0), (2.0, 30.0)])
def test_erlang_a_large_n(n, load, patience):
    s = 180.0
    lam = load * n / s
    rs = [erlang_a(k, lam, s, patience, threshold_s=20.0) for k in (n - 10, n - 1, n, n + 1, n + 10)]
    for r in rs:
        for field in ("p_wait", "abandon_rate", "service_level", "occupancy"):
            v = getattr(r, field)
            assert 0.0 <= v <= 1.0 and not math.isnan(v), (field, v)
        assert math.isfinite(r.asa_s) and math.isfinite(r.mean_wait_s)
        assert r.asa_s >= 0 and r.mean_wait_s >= 0
    for x, y in zip(rs, rs[1:]):
        assert y.service_level >= x.service_level - 1e-14
        assert y.abandon_rate <= x.abandon_rate + 1e-14
        assert y.p_wait <= x.p_wait + 1e-14
    rinf = erlang_a(n, lam, s, patience, threshold_s=math.inf)
    assert rinf.service_level == pytest.approx(1 - rinf.abandon_rate, abs=1e-10)


# --------------------------------------------------------------------------
# sizing: minimal n
# --------------------------------------------------------------------------
@pytest.mark.parametrize("a", [0.0, 0.5, 5.0, 37.2, 500.0, 4500.0])
@pytest.mark.parametrize("target", [0.3, 0.02, 1e-4])
def test_erlang_b_lines_minimal(a, target):
    n = erlang_b_lines(a, target)
    assert erlang_b(n, a) <= target
    assert n == 1 or erlang_b(n - 1, a) > target


@pytest.mark.parametrize(
    "lam,s,target,t,occ",
    [
        (LAM_100_30, AHT_180, 0.8, 20.0, 1.0),
        (LAM_100_30, AHT_180, 0.8, 20.0, 0.6),
        (LAM_100_30, AHT_180, 0.95, 0.0, 1.0),
        (2.0, 300.0, 0.9, 15.0, 0.9),
        (4500 / 180, 180.0, 0.8, 20.0, 1.0),
        (0.001, 60.0, 0.99, 5.0, 1.0),
    ],
)
def test_erlang_c_agents_minimal(lam, s, target, t, occ):
    n = erlang_c_agents(lam, s, target, t, max_occupancy=occ)
    a = lam * s

    def ok(k):
        return erlang_c_service_level(k, lam, s, t) >= target and a / k <= occ

    assert ok(n)
    assert n == 1 or not ok(n - 1)


@pytest.mark.parametrize(
    "lam,s,pat,target,t,amax",
    [
        (LAM_100_30, AHT_180, 300.0, 0.8, 20.0, None),
        (LAM_100_30, AHT_180, 300.0, 0.5, 20.0, 0.02),
        (LAM_100_30, AHT_180, 30.0, 0.9, 10.0, None),
        (3 * 1450 / 180, 180.0, 180.0, 0.8, 20.0, None),
        (3 * 1450 / 180, 180.0, 180.0, 0.5, 20.0, 0.001),
        (1.0, 5.0, 2.0, 0.7, 0.0, None),
    ],
)
def test_erlang_a_agents_minimal(lam, s, pat, target, t, amax):
    n = erlang_a_agents(lam, s, pat, target, t, abandon_max=amax)

    def ok(k):
        r = erlang_a(k, lam, s, pat, t)
        return r.service_level >= target and (amax is None or r.abandon_rate <= amax)

    assert ok(n)
    assert n == 1 or not ok(n - 1)


def test_erlang_a_agents_with_infinite_patience_matches_erlang_c():
    for target, t in ((0.8, 20.0), (0.9, 30.0), (0.5, 0.0)):
        assert erlang_a_agents(LAM_100_30, AHT_180, math.inf, target, t) == erlang_c_agents(
            LAM_100_30, AHT_180, target, t
        )


def test_abandonment_needs_fewer_agents():
    assert erlang_a_agents(LAM_100_30, AHT_180, 300.0, 0.8, 20.0) == 13
    assert erlang_c_agents(LAM_100_30, AHT_180, 0.8, 20.0) == 14


# --------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------
@settings(deadline=None)
@given(
    n=st.integers(1, 200),
    load=st.floats(0.01, 3.0),
    s=st.floats(1.0, 1000.0),
    pat_ratio=st.floats(0.05, 50.0),
    t=st.floats(0.0, 600.0),
)
def test_erlang_a_properties(n, load, s, pat_ratio, t):
    lam = load * n / s
    r = erlang_a(n, lam, s, pat_ratio * s, threshold_s=t)
    for field in ("p_wait", "abandon_rate", "service_level", "occupancy"):
        assert 0.0 <= getattr(r, field) <= 1.0
    assert r.abandon_rate <= r.p_wait + 1e-12
    assert 1 - r.p_wait - 1e-12 <= r.service_level <= 1 - r.abandon_rate + 1e-12
    assert math.isfinite(r.asa_s) and r.asa_s >= 0.0
    rinf = erlang_a(n, lam, s, pat_ratio * s, threshold_s=math.inf)
    assert rinf.service_level == pytest.approx(1 - rinf.abandon_rate, abs=1e-10)


@settings(deadline=None)
@given(n=st.integers(1, 400), rho=st.floats(0.0, 0.999))
def test_erlang_c_between_b_and_one(n, rho):
    a = rho * n
    b, c = erlang_b(n, a), erlang_c(n, a)
    assert 0.0 <= b <= c <= 1.0
    assert c == pytest.approx(n * b / (n - a * (1 - b)), rel=1e-12, abs=1e-300)


# --------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------
NAN = float("nan")


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: erlang_b(-1, 5.0), "servers"),
        (lambda: erlang_b(2.5, 5.0), "servers"),
        (lambda: erlang_b(10, -1.0), "offered_erlangs"),
        (lambda: erlang_b(10, NAN), "offered_erlangs.*NaN"),
        (lambda: erlang_b(10, math.inf), "offered_erlangs.*finite"),
        (lambda: erlang_c(0, 1.0), "servers.*zero"),
        (lambda: erlang_c(-3, 1.0), "servers.*negative"),
        (lambda: erlang_c(NAN, 1.0), "servers.*NaN"),
        (lambda: erlang_c_service_level(10, -1.0, 180.0, 20.0), "arrival_rate"),
        (lambda: erlang_c_service_level(10, 1.0, 0.0, 20.0), "mean_service_s"),
        (lambda: erlang_c_service_level(10, 1.0, 180.0, -1.0), "threshold_s"),
        (lambda: erlang_c_service_level(10, 1.0, 180.0, NAN), "threshold_s"),
        (lambda: erlang_c_asa(10, math.inf, 180.0), "arrival_rate"),
        (lambda: erlang_c_asa(10, 1.0, -180.0), "mean_service_s"),
        (lambda: erlang_a(0, 1.0, 180.0, 60.0), "servers"),
        (lambda: erlang_a(10, 1.0, 180.0, 0.0), "mean_patience_s"),
        (lambda: erlang_a(10, 1.0, 180.0, NAN), "mean_patience_s"),
        (lambda: erlang_a(10, 1.0, NAN, 60.0), "mean_service_s"),
        (lambda: erlang_a(10, 1.0, 180.0, 60.0, threshold_s=-5.0), "threshold_s"),
        (lambda: erlang_c_agents(1.0, 180.0, 1.0, 20.0), "target_sl"),
        (lambda: erlang_c_agents(1.0, 180.0, 0.0, 20.0), "target_sl"),
        (lambda: erlang_c_agents(1.0, 180.0, 0.8, 20.0, max_occupancy=0.0), "max_occupancy"),
        (lambda: erlang_c_agents(1.0, 180.0, 0.8, 20.0, max_occupancy=1.5), "max_occupancy"),
        (lambda: erlang_c_agents(-1.0, 180.0, 0.8, 20.0), "arrival_rate"),
        (lambda: erlang_a_agents(1.0, 180.0, 60.0, 0.8, 20.0, abandon_max=0.0), "abandon_max"),
        (lambda: erlang_a_agents(1.0, 180.0, -60.0, 0.8, 20.0), "mean_patience_s"),
        (lambda: erlang_a_agents(1.0, 180.0, 60.0, NAN, 20.0), "target_sl"),
        (lambda: erlang_b_lines(5.0, 0.0), "blocking_max"),
        (lambda: erlang_b_lines(5.0, 1.0), "blocking_max"),
        (lambda: erlang_b_lines(-5.0, 0.01), "offered_erlangs"),
        (lambda: erlang_c_asa(3, 1e300, 1e100), "offered load.*overflows"),
        (lambda: erlang_a(3, 1e300, 1e100, 60.0), "offered load.*overflows"),
    ],
)
def test_invalid_inputs_raise_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_wrong_types_raise_type_error():
    with pytest.raises(TypeError, match="servers"):
        erlang_b("10", 5.0)
    with pytest.raises(TypeError, match="servers"):
        erlang_c(True, 0.5)
    with pytest.raises(TypeError, match="offered_erlangs"):
        erlang_b(10, "5")


def test_numpy_and_integral_inputs_accepted():
    assert erlang_b(np.int64(10), np.float64(5.0)) == erlang_b(10, 5.0)
    assert erlang_c(14.0, 10) == erlang_c(14, 10.0)


def test_series_cap_is_reported():
    # patience of ~3 years in a 1000x overloaded single-agent system would
    # need ~1e13 queue states: refuse rather than return a truncated answer
    with pytest.raises(ValueError, match="did not converge"):
        erlang_a(1, 1e3, 1.0, 1e8)
