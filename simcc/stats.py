"""Statistics over replications: Student-t intervals and one-sided bounds (a leaf: imports no simcc layer).

Every confidence interval simcc prints comes from here: the mean of the
replication values and a Student-t interval with ``n - 1`` degrees of freedom
(replications are independent days). Quantiles are scipy's.
"""
from __future__ import annotations

import functools
import math
import warnings

import numpy as np


@functools.lru_cache(maxsize=4096)
def t_quantile(p: float, df: int) -> float:
    """Student-t quantile.

    Examples
    --------
    >>> round(t_quantile(0.975, 19), 4), round(t_quantile(0.975, 3), 4), round(t_quantile(0.999, 3), 3)
    (2.093, 3.1824, 10.215)
    """
    from scipy import stats  # on first use: importing scipy.stats takes about half a second

    return float(stats.t.ppf(p, df))


def _quantiles(p: float, df: np.ndarray) -> np.ndarray:
    """``t_quantile(p, d)`` for every entry of ``df`` (NaN where d < 1)."""
    df = np.asarray(df)
    out = np.full(df.shape, np.nan)
    for d in np.unique(df[df >= 1]):
        out[df == d] = t_quantile(p, int(d))
    return out


def _mean_sd(x: np.ndarray):
    n = np.sum(~np.isnan(x), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # all-NaN columns (e.g. no calls at night)
        mean = np.nanmean(x, axis=0)
        sd = np.nanstd(x, axis=0, ddof=1) if x.shape[0] > 1 else np.full(np.shape(mean), np.nan)
    return n, mean, sd


def mean_ci(x, level: float = 0.95):
    """(mean, ci_low, ci_high) over replications along axis 0, ignoring NaN (two-sided Student t).

    With fewer than two values the bounds are NaN.

    Examples
    --------
    >>> m, lo, hi = mean_ci([[1.0], [2.0], [3.0]])
    >>> float(m[0]), round(float(lo[0]), 4), round(float(hi[0]), 4)
    (2.0, -0.4841, 4.4841)
    """
    x = np.asarray(x, dtype=np.float64)
    if x.shape[0] == 0:                     # nothing finished yet (e.g. interrupted at once)
        empty = np.full(x.shape[1:], np.nan)
        return empty, empty.copy(), empty.copy()
    n, mean, sd = _mean_sd(x)
    half = _quantiles(0.5 + level / 2, n - 1) * sd / np.sqrt(np.maximum(n, 1))
    half = np.where(n > 1, half, np.nan)
    return mean, mean - half, mean + half


def one_sided(x, confidence: float | None):
    """(mean, lower, upper) one-sided bounds over axis 0 at ``confidence`` (NaN-aware).

    ``confidence=None`` gives the plain mean for both bounds; with a single
    valid replication the bounds are the mean (there is no spread to use).
    """
    x = np.asarray(x, dtype=np.float64)
    n, mean, sd = _mean_sd(x) if x.shape[0] else (np.zeros(x.shape[1:]), np.full(x.shape[1:], np.nan), None)
    if confidence is None or sd is None:
        return mean, mean, mean
    half = np.where(n > 1, _quantiles(confidence, n - 1) * sd / np.sqrt(np.maximum(n, 1)), 0.0)
    return mean, mean - half, mean + half


def paired_difference(a, b, level: float = 0.95):
    """Mean of ``b - a`` over paired replications, its CI, and the half-width an unpaired comparison gives.

    Returns ``(mean_a, mean_b, diff, ci_low, ci_high, unpaired_half_width)``;
    pairs with a NaN on either side are dropped.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    ok = ~(np.isnan(a) | np.isnan(b))
    a, b = a[ok], b[ok]
    n = len(a)
    if n == 0:
        return (math.nan,) * 6
    d = b - a
    if n >= 2:
        tq = t_quantile(0.5 + level / 2, n - 1)
        half = tq * d.std(ddof=1) / math.sqrt(n)
        indep = tq * math.sqrt(a.var(ddof=1) / n + b.var(ddof=1) / n)
    else:
        half = indep = math.nan
    mean_d = float(d.mean())
    return float(a.mean()), float(b.mean()), mean_d, float(mean_d - half), float(mean_d + half), float(indep)
