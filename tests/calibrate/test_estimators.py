"""The estimators against known answers: Kaplan-Meier by hand, censored MLE against direct maximisation,
family choice on large samples, interval coverage on repeated synthetic data, the cure model."""
import math

import numpy as np
import pytest
from scipy import stats

from simcc.calibrate import fit_duration, fit_patience, fit_return, kaplan_meier
from simcc.calibrate.estimators import weibull_cv, weibull_shape


def test_kaplan_meier_matches_the_hand_computed_curve():
    # times 1, 2, 3, 5 observed; 2+ and 4+ censored (a censored time at a tie is still at risk)
    sf = kaplan_meier([1, 2, 3, 5], [2, 4])
    assert np.allclose(sf.evaluate([0.5, 1, 2, 3, 4.5, 5]), [1, 5 / 6, 4 / 6, 4 / 6 * 2 / 3, 4 / 6 * 2 / 3, 0])


def test_censored_exponential_is_events_over_exposure():
    rng = np.random.default_rng(1)
    pat = rng.exponential(200, 5000)
    wait = rng.exponential(150, 5000)
    ab = pat < wait
    est = fit_patience(pat[ab], wait[~ab])
    exposure = pat[ab].sum() + wait[~ab].sum()
    if est.family == "exponential":
        assert est.mean == pytest.approx(exposure / ab.sum())
    assert est.ci[0] <= 200 <= est.ci[1]


@pytest.mark.parametrize("family", ["lognormal", "weibull"])
def test_censored_fit_matches_scipy_censored_data_fit(family):
    rng = np.random.default_rng(2)
    if family == "lognormal":
        s2 = math.log1p(0.8 ** 2)
        pat = rng.lognormal(math.log(180) - s2 / 2, math.sqrt(s2), 4000)
    else:
        pat = 180 / math.gamma(1 + 1 / 1.5) * rng.weibull(1.5, 4000)
    wait = rng.exponential(120, 4000)
    ab = pat < wait
    ev, ce = pat[ab], wait[~ab]
    dist = stats.lognorm if family == "lognormal" else stats.weibull_min
    shape, _, scale = dist.fit(stats.CensoredData(uncensored=ev, right=ce), floc=0)
    reference = dist(shape, scale=scale).mean()
    est = fit_patience(ev, ce, families=(family,))
    assert est.family == family
    assert est.mean == pytest.approx(reference, rel=2e-3)
    assert est.ci[0] <= 180 <= est.ci[1]


@pytest.mark.parametrize("family", ["exponential", "lognormal", "gamma", "weibull"])
def test_duration_family_is_recognised_on_a_large_sample(family):
    rng = np.random.default_rng(3)
    mean, cv = 240.0, 0.6
    if family == "exponential":
        x = rng.exponential(mean, 20000)
    elif family == "lognormal":
        s2 = math.log1p(cv * cv)
        x = rng.lognormal(math.log(mean) - s2 / 2, math.sqrt(s2), 20000)
    elif family == "gamma":
        a = 1 / cv ** 2
        x = rng.gamma(a, mean / a, 20000)
    else:
        c = weibull_shape(cv)
        x = mean / math.gamma(1 + 1 / c) * rng.weibull(c, 20000)
    est = fit_duration(x)
    assert est.family == family
    assert est.ci[0] <= mean <= est.ci[1] or abs(est.mean - mean) < 4 * (est.ci[1] - est.ci[0])
    if family != "exponential":
        assert est.spec["cv"] == pytest.approx(cv, rel=0.05)


def test_weibull_shape_inverts_its_cv():
    for cv in (0.1, 0.5, 1.0, 2.0):
        assert weibull_cv(weibull_shape(cv)) == pytest.approx(cv, rel=1e-6)


def test_duration_that_no_family_fits_becomes_empirical():
    rng = np.random.default_rng(4)
    x = np.concatenate([rng.normal(60, 3, 5000), rng.normal(600, 10, 5000)]).clip(1)   # two sharp modes
    est = fit_duration(x)
    assert est.family == "empirical" and len(est.spec["values_s"]) == 200
    assert est.notes


def test_patience_intervals_cover_the_truth_at_the_nominal_rate():
    """100 synthetic centres, each with about half the callers censored: about 5 intervals in 100 miss."""
    rng = np.random.default_rng(5)
    misses = 0
    for _ in range(100):
        pat = rng.exponential(150, 600)
        wait = rng.exponential(150, 600)
        ab = pat < wait
        est = fit_patience(pat[ab], wait[~ab])
        misses += not (est.ci[0] <= 150 <= est.ci[1])
    assert misses <= stats.binom.ppf(0.999, 100, 0.05)


def test_cure_model_recovers_share_and_delay_despite_the_day_end():
    """20 synthetic days where most returns would fall after the day's end: the intervals cover."""
    misses = 0
    for seed in range(20):
        rng = np.random.default_rng(seed)
        n, p, mean = 5000, 0.3, 3 * 3600.0
        horizon = rng.uniform(0, 12 * 3600.0, n)          # time left in the day after each call
        returns = rng.random(n) < p
        delay = rng.exponential(mean, n)
        seen = returns & (delay <= horizon)
        assert seen.mean() < 0.9 * p, "the naive share of returns seen must be biased for this to test anything"
        r = fit_return(delay[seen], horizon[~seen], n, families=("exponential",))
        misses += not (r.prob_ci[0] <= p <= r.prob_ci[1])
        misses += not (r.delay.ci[0] <= mean <= r.delay.ci[1])
    assert misses <= stats.binom.ppf(0.999, 40, 0.05)


def test_nobody_returns_gives_zero_with_an_upper_bound():
    r = fit_return([], [100.0] * 50, 50)
    assert r.prob == 0 and r.delay is None and 0 < r.prob_ci[1] < 0.1
