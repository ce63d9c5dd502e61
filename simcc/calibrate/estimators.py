"""Estimators, each with its uncertainty: durations, censored patience, and delayed returns (redials, repeats).

The rules (docs/calibration.md):

* A duration's **mean** is the sample mean, with a Student t 95% interval; its
  **family and shape** (cv) come from maximum likelihood among the families a
  scenario offers (exponential, lognormal, gamma, Weibull), chosen by AIC;
  when none fits (Kolmogorov-Smirnov p < 0.001 on up to 5,000 values), an
  empirical distribution of 200 quantiles is used instead.
* **Patience** is right-censored: an answered caller only tells us their
  patience exceeded their wait. Kaplan-Meier (``scipy.stats.ecdf``) gives the
  curve; censored maximum likelihood (the exponential in closed form,
  lognormal and Weibull by ``scipy.optimize`` on the censored likelihood,
  checked against ``scipy.stats`` ``fit`` with ``CensoredData``) gives the fits, chosen by
  AIC (a two-parameter family must beat the exponential by more than 10,
  since heavy censoring leaves the tail unseen); the mean's 95% interval
  comes from the observed information.
  Averaging the abandoners' waits would be wrong (it only sees the impatient).
* **Redials and repeat calls** are a cure model: a share ``p`` of callers
  return after a delay drawn from a distribution, seen only until the day ends
  (later returns are censored). ``p`` and the delay are fitted together by
  maximum likelihood.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

#: Families a scenario offers for a positive duration, with the scipy.stats name.
FAMILIES = ("exponential", "lognormal", "gamma", "weibull")
#: Families for censored patience (gamma's censored fit is slow and rarely chosen).
PATIENCE_FAMILIES = ("exponential", "lognormal", "weibull")
#: A censored patience fit leaves the exponential only for a family whose AIC is lower by more than
#: this: with heavy censoring the data only show short waits, and a two-parameter family's mean is then
#: an extrapolation (strong evidence in Burnham and Anderson's sense).
PATIENCE_AIC_MARGIN = 10.0
KS_SAMPLE = 5000
#: Above this many values, the family and shape are chosen on a fixed random subsample of this size.
SHAPE_SAMPLE = 20_000
EMPIRICAL_POINTS = 200


@dataclass
class Estimate:
    """One fitted distribution: the scenario spec, its mean with a 95% CI, the sample behind it."""

    spec: dict
    mean: float
    ci: tuple[float, float]
    n: int                      # values (or events, for censored fits)
    family: str
    ks: float = math.nan        # Kolmogorov-Smirnov distance of the chosen family (uncensored fits)
    censored: int = 0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"spec": self.spec, "mean_s": self.mean, "ci_low": self.ci[0], "ci_high": self.ci[1],
                "n": self.n, "censored": self.censored, "family": self.family, "ks": self.ks,
                "notes": list(self.notes)}


def weibull_shape(cv: float) -> float:
    """The Weibull shape whose coefficient of variation is ``cv``."""
    from scipy.optimize import brentq

    def f(logc):
        c = math.exp(logc)
        g1, g2 = math.gamma(1 + 1 / c), math.gamma(1 + 2 / c)
        return math.sqrt(max(g2 / (g1 * g1) - 1, 0.0)) - cv
    return math.exp(brentq(f, math.log(0.08), math.log(60)))


def weibull_cv(c: float) -> float:
    g1, g2 = math.gamma(1 + 1 / c), math.gamma(1 + 2 / c)
    return math.sqrt(max(g2 / (g1 * g1) - 1, 0.0))


def _mean_cv(family: str, frozen) -> tuple[float, float]:
    m, v = frozen.stats(moments="mv")
    return float(m), float(math.sqrt(v) / m) if m > 0 else math.nan


def _spec(family: str, mean: float, cv: float) -> dict:
    mean = float(round(mean, 3))
    if family == "exponential":
        return {"dist": "exponential", "mean_s": mean}
    lo, hi = (0.05, 10.0) if family == "weibull" else (0.001, 20.0)
    return {"dist": family, "mean_s": mean, "cv": float(round(min(max(cv, lo), hi), 4))}


def _t_ci(x: np.ndarray) -> tuple[float, float, float]:
    from scipy import stats
    n = len(x)
    m = float(x.mean())
    if n < 2:
        return m, math.nan, math.nan
    h = float(stats.t.ppf(0.975, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return m, m - h, m + h


def fit_duration(x, families=FAMILIES) -> Estimate:
    """Fit a positive duration (talk, HOLD, ACW, IVR time, a delay) from complete observations."""
    from scipy import stats
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    if n == 0:
        raise ValueError("no values to fit")
    mean, lo, hi = _t_ci(x)
    pos = x[x > 0]
    if len(pos) < len(x) or n < 2 or np.ptp(x) == 0:
        if np.ptp(x) == 0:
            return Estimate({"dist": "deterministic", "value_s": float(round(x[0], 3))}, mean, (lo, hi), n,
                            "deterministic")
        return _empirical(x, mean, lo, hi, "zeros among the values: no positive family fits")
    if len(pos) > SHAPE_SAMPLE:          # the family and shape from a fixed subsample; the mean from all
        pos = np.random.default_rng(0).choice(pos, SHAPE_SAMPLE, replace=False)
    logs = np.log(pos)
    best = None
    for fam in families:
        if fam == "exponential":
            frozen, k = stats.expon(scale=mean), 1
        elif fam == "lognormal":
            mu, sd = float(logs.mean()), float(logs.std())
            if sd <= 0:
                continue
            frozen, k = stats.lognorm(sd, scale=math.exp(mu)), 2
        elif fam == "gamma":
            a, _, scale = stats.gamma.fit(pos, floc=0, method="MLE")
            frozen, k = stats.gamma(a, scale=scale), 2
        else:
            c, _, scale = stats.weibull_min.fit(pos, floc=0)
            frozen, k = stats.weibull_min(c, scale=scale), 2
        ll = float(np.sum(frozen.logpdf(pos)))
        if not math.isfinite(ll):
            continue
        aic = 2 * k - 2 * ll
        if best is None or aic < best[0]:
            best = (aic, fam, frozen)
    if best is None:
        return _empirical(x, mean, lo, hi, "no family could be fitted")
    _, fam, frozen = best
    sample = pos if len(pos) <= KS_SAMPLE else np.random.default_rng(0).choice(pos, KS_SAMPLE, replace=False)
    ks = stats.kstest(sample, frozen.cdf)
    _, cv = _mean_cv(fam, frozen)
    if ks.pvalue < 1e-3:
        est = _empirical(x, mean, lo, hi, f"best family {fam} does not fit (KS distance {ks.statistic:.3f})")
        est.ks = float(ks.statistic)
        return est
    return Estimate(_spec(fam, mean, cv), mean, (lo, hi), n, fam, float(ks.statistic))


def _empirical(x, mean, lo, hi, why) -> Estimate:
    q = np.quantile(x, (np.arange(EMPIRICAL_POINTS) + 0.5) / EMPIRICAL_POINTS)
    return Estimate({"dist": "empirical", "values_s": [float(round(v, 3)) for v in q]}, mean, (lo, hi), len(x),
                    "empirical", notes=[why])


# ----------------------------------------------------------------------
# censored patience
# ----------------------------------------------------------------------
def kaplan_meier(events, censored):
    """Kaplan-Meier survival of patience: ``scipy.stats.ecdf`` on right-censored waits."""
    from scipy import stats
    data = stats.CensoredData(uncensored=np.asarray(events, float), right=np.asarray(censored, float))
    return stats.ecdf(data).sf


def _censored_nll(fam: str, ev: np.ndarray, ce: np.ndarray):
    """Negative log-likelihood of right-censored data in natural parameters, vectorised.

    lognormal: theta = (mu, log sigma); Weibull: theta = (log shape, log scale). Returns the
    function and ``log_mean(theta)`` with its gradient (for the delta method).
    """
    from scipy.special import digamma, gammaln, log_ndtr
    lev, lce = np.log(ev), np.log(ce)
    s_lev = float(lev.sum())
    d = len(ev)
    if fam == "lognormal":
        def nll(theta):
            mu, ls = theta
            sig = math.exp(ls)
            z = (lev - mu) / sig
            ll = -s_lev - d * (ls + 0.5 * math.log(2 * math.pi)) - 0.5 * float(z @ z)
            return -(ll + float(log_ndtr(-(lce - mu) / sig).sum()))

        def log_mean(theta):
            sig2 = math.exp(2 * theta[1])
            return theta[0] + sig2 / 2, np.array([1.0, sig2])
    else:
        def nll(theta):
            lc, ll_ = theta
            c = math.exp(lc)
            ze, zc = np.exp(c * (lev - ll_)), np.exp(c * (lce - ll_))
            ll = d * (lc - ll_) + (c - 1) * (s_lev - d * ll_) - float(ze.sum()) - float(zc.sum())
            return -ll

        def log_mean(theta):
            c = math.exp(theta[0])
            return theta[1] + float(gammaln(1 + 1 / c)), np.array([-float(digamma(1 + 1 / c)) / c, 1.0])
    return nll, log_mean


def _censored_start(fam: str, ev: np.ndarray, ce: np.ndarray, mean_exp: float) -> np.ndarray:
    if fam == "lognormal":
        sd = float(np.log(ev).std()) or 1.0
        return np.array([math.log(mean_exp) - sd * sd / 2, math.log(sd)])
    return np.array([0.0, math.log(mean_exp)])


def fit_patience(events, censored, families=PATIENCE_FAMILIES) -> Estimate:
    """Patience from abandoners' waits (``events``) and answered callers' waits (``censored``)."""
    from scipy import optimize
    ev = np.asarray(events, dtype=np.float64)
    ce = np.asarray(censored, dtype=np.float64)
    d = len(ev)
    if d == 0:
        return Estimate({"dist": "never"}, math.inf, (math.nan, math.inf), 0, "never", censored=len(ce),
                        notes=["no caller abandoned: patience left unbounded"])
    ev = np.maximum(ev, 1e-3)
    ce_pos = ce[ce > 0]                 # a censoring at 0 carries no information
    mean_exp = float(ev.sum() + ce.sum()) / d
    # the exponential MLE: mean = total exposure / events; its log has variance 1/d
    ll_exp = -d * math.log(mean_exp) - d
    h = 1.96 / math.sqrt(d)
    best = (2 * 1 - 2 * ll_exp, "exponential", mean_exp, 1.0, (mean_exp * math.exp(-h), mean_exp * math.exp(h)))
    for fam in families:
        if fam == "exponential":
            continue
        nll, log_mean = _censored_nll(fam, ev, ce_pos)
        res = optimize.minimize(nll, _censored_start(fam, ev, ce_pos, mean_exp), method="BFGS")
        if not (res.success or res.status == 2) or not math.isfinite(res.fun):
            continue
        aic = 2 * 2 + 2 * res.fun + PATIENCE_AIC_MARGIN
        if aic >= best[0]:
            continue
        lm, grad = log_mean(res.x)
        mean = math.exp(lm)
        cv = math.sqrt(math.expm1(math.exp(2 * res.x[1]))) if fam == "lognormal" else weibull_cv(math.exp(res.x[0]))
        ci = _delta_ci(nll, res.x, lm, grad)
        best = (aic, fam, mean, cv, ci)
    _, fam, mean, cv, ci = best
    return Estimate(_spec(fam, mean, cv), mean, ci, d, fam, censored=len(ce))


def _delta_ci(nll, theta, log_mean: float, grad: np.ndarray) -> tuple[float, float]:
    """95% CI of the mean: observed information (finite differences) and the delta method on its log."""
    H = _hessian(nll, theta, len(theta))
    try:
        var = float(grad @ np.linalg.solve(H, grad))
    except np.linalg.LinAlgError:
        return math.nan, math.nan
    if not var > 0:
        return math.nan, math.nan
    s = 1.96 * math.sqrt(var)
    return math.exp(log_mean - s), math.exp(log_mean + s)


# ----------------------------------------------------------------------
# delayed returns (redials after a loss, repeat calls after an answer)
# ----------------------------------------------------------------------
@dataclass
class Return:
    """A fitted return habit: the share who come back, their delay, and the sample behind them."""

    prob: float
    prob_ci: tuple[float, float]
    delay: Estimate | None
    at_risk: int
    returned: int

    def to_dict(self) -> dict:
        return {"prob": self.prob, "ci_low": self.prob_ci[0], "ci_high": self.prob_ci[1],
                "at_risk": self.at_risk, "returned": self.returned,
                "delay": self.delay.to_dict() if self.delay else None}


def fit_return(delays, horizons, n_at_risk: int, families=("exponential", "lognormal")) -> Return:
    """Cure model: each of ``n_at_risk`` attempts returns with probability p after a delay ~ F.

    ``delays`` are the observed return delays; ``horizons`` the time each
    non-returning attempt was still observable (until the end of its day).
    """
    from scipy import optimize
    dl = np.maximum(np.asarray(delays, dtype=np.float64), 1e-3)
    hz = np.maximum(np.asarray(horizons, dtype=np.float64), 0.0)
    r = len(dl)
    if n_at_risk == 0:
        return Return(0.0, (math.nan, math.nan), None, 0, 0)
    if r == 0:
        upper = 1 - 0.025 ** (1 / n_at_risk)
        return Return(0.0, (0.0, upper), None, n_at_risk, 0)
    from scipy.special import log_ndtr
    log_dl = np.log(dl)
    log_hz = np.log(np.maximum(hz, 1e-300))

    def parts(fam, mean, cv):
        """log f(delays) summed, and S(horizons), for the exponential or lognormal with this mean and cv."""
        if fam == "exponential":
            return -r * math.log(mean) - float(dl.sum()) / mean, np.exp(-hz / mean)
        s2 = math.log1p(cv * cv)
        sig, mu = math.sqrt(s2), math.log(mean) - s2 / 2
        z = (log_dl - mu) / sig
        lf = float(np.sum(-log_dl - math.log(sig * math.sqrt(2 * math.pi)) - 0.5 * z * z))
        sf = np.where(hz > 0, np.exp(log_ndtr(-(log_hz - mu) / sig)), 1.0)
        return lf, sf

    best = None
    for fam in families:
        def nll(theta, fam=fam):
            p = 1 / (1 + math.exp(-min(max(theta[0], -30), 30)))
            lf, sf = parts(fam, math.exp(theta[1]), math.exp(theta[2]) if fam != "exponential" else 1.0)
            return -(r * math.log(p) + lf + float(np.sum(np.log(np.maximum(1 - p + p * sf, 1e-300)))))
        p0 = min(max(r / n_at_risk, 1e-3), 1 - 1e-3)
        logs = np.log(dl)
        cv0 = math.sqrt(math.expm1(float(logs.var()))) if r > 1 and logs.var() > 0 else 1.0
        x0 = [math.log(p0 / (1 - p0)), math.log(float(dl.mean())), math.log(min(max(cv0, 0.05), 5))]
        res = optimize.minimize(nll, x0, method="Nelder-Mead",
                                options={"xatol": 1e-6, "fatol": 1e-6, "maxiter": 4000})
        k = 2 if fam == "exponential" else 3
        aic = 2 * k + 2 * res.fun
        if best is None or aic < best[0]:
            best = (aic, fam, res.x, nll)
    _, fam, theta, nll = best
    p = 1 / (1 + math.exp(-theta[0]))
    mean, cv = math.exp(theta[1]), (math.exp(theta[2]) if fam != "exponential" else 1.0)
    # standard errors from the observed information (finite differences)
    H = _hessian(nll, theta if fam != "exponential" else theta, 3 if fam != "exponential" else 2)
    try:
        cov = np.linalg.inv(H)
        se_logit, se_logmean = math.sqrt(max(cov[0, 0], 0)), math.sqrt(max(cov[1, 1], 0))
    except np.linalg.LinAlgError:
        se_logit = se_logmean = math.nan
    logit = theta[0]
    pci = (1 / (1 + math.exp(-(logit - 1.96 * se_logit))), 1 / (1 + math.exp(-(logit + 1.96 * se_logit))))
    mci = (mean * math.exp(-1.96 * se_logmean), mean * math.exp(1.96 * se_logmean))
    delay = Estimate(_spec(fam, mean, cv), mean, mci, r, fam, censored=n_at_risk - r)
    return Return(p, pci, delay, n_at_risk, r)


def _hessian(f, theta, dims: int) -> np.ndarray:
    theta = np.asarray(theta[:dims] if dims < len(theta) else theta, dtype=np.float64)
    full = np.asarray(theta, dtype=np.float64)

    def g(t):
        x = np.array(full)
        x[:dims] = t
        return f(x)
    h = 1e-3
    H = np.zeros((dims, dims))
    f0 = g(theta)
    eye = np.eye(dims) * h
    for i in range(dims):
        for j in range(i, dims):
            if i == j:
                H[i, i] = (g(theta + eye[i]) - 2 * f0 + g(theta - eye[i])) / h ** 2
            else:
                H[i, j] = H[j, i] = (g(theta + eye[i] + eye[j]) - g(theta + eye[i] - eye[j])
                                     - g(theta - eye[i] + eye[j]) + g(theta - eye[i] - eye[j])) / (4 * h * h)
    return H


def proportion_ci(k: int, n: int) -> tuple[float, float]:
    """Wilson 95% interval of a share k/n."""
    if n == 0:
        return math.nan, math.nan
    z = 1.96
    p = k / n
    den = 1 + z * z / n
    c = (p + z * z / (2 * n)) / den
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return max(0.0, c - h), min(1.0, c + h)
