"""The confidence rule every plan is judged by, and how targets are given.

An interval meets an "at least" line (service level) when the one-sided
lower confidence bound of its mean over replications is at least the
target, and an "at most" line (abandonment, occupancy, blocking) when the
one-sided upper bound is at most the target (:func:`simcc.stats.one_sided`).
"""
from __future__ import annotations

import numpy as np

from ..run.kpis import INTERVAL_KPIS
from ..stats import one_sided

#: Default for targets: take the value from the scenario's SLA block.
SCENARIO = "scenario"

_K = {name: i for i, name in enumerate(INTERVAL_KPIS)}


def share_arg(x, name):
    """A share given in Python: strictly between 0 and 1 (a percent given by mistake gets a hint)."""
    if x is None:
        return None
    try:
        x = float(x)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a share strictly between 0 and 1 (0.9 for 90%), not {x!r}") from None
    if not 0 < x < 1:
        hint = f" (give a share: {x / 100:g} for {x:g}%)" if 1 <= x < 100 else ""
        raise ValueError(f"{name} must be a share strictly between 0 and 1, not {x!r}{hint}")
    return x


def resolve(value, scenario_value, name):
    """A target argument: ``SCENARIO`` takes the scenario's value, else a share (or None)."""
    if isinstance(value, str) and value == SCENARIO:
        return scenario_value
    return share_arg(value, name)


def interval_bounds(iv: np.ndarray, confidence):
    """(service level, abandonment, occupancy) one-sided bounds per interval from [R, P, KPI] values."""
    return (one_sided(iv[:, :, _K["service_level"]], confidence),
            one_sided(iv[:, :, _K["abandon_rate"]], confidence),
            one_sided(iv[:, :, _K["occupancy"]], confidence))


def failing(iv, targets, confidence, measured) -> np.ndarray:
    """Failing intervals of per-replication interval KPIs [R, P, KPI] under a rule."""
    sl, ab, occ = interval_bounds(iv, confidence)
    fail = np.zeros(iv.shape[1], dtype=bool)
    with np.errstate(invalid="ignore"):
        if targets.get("service_level") is not None:
            fail |= np.nan_to_num(sl[1], nan=1.0) < targets["service_level"] - 1e-12
        if targets.get("abandon_max") is not None:
            fail |= np.nan_to_num(ab[2], nan=0.0) > targets["abandon_max"] + 1e-12
        if targets.get("occupancy_max") is not None:
            fail |= np.nan_to_num(occ[2], nan=0.0) > targets["occupancy_max"] + 1e-12
    return fail & measured


def target_lines(targets) -> str:
    """The targets in words: "service level >= 90% within 15 s; abandonment <= 5%"."""
    parts = []
    if targets.get("service_level") is not None:
        parts.append(f"service level >= {100 * targets['service_level']:g}% within {targets['within_s']:g} s")
    if targets.get("abandon_max") is not None:
        parts.append(f"abandonment <= {100 * targets['abandon_max']:g}%")
    if targets.get("occupancy_max") is not None:
        parts.append(f"occupancy <= {100 * targets['occupancy_max']:g}%")
    return "; ".join(parts)


def rule_text(targets, confidence, replications, seed, level=None, n_checks=1) -> str:
    lines = target_lines(targets)
    level = confidence if level is None else level
    if confidence is None:
        how = f"on the mean of {replications} replications"
    elif level != confidence:
        how = (f"with {100 * confidence:g}% confidence for all {n_checks} interval checks at once (Bonferroni: "
               f"each one-sided bound at {100 * level:.4g}% over {replications} replications must meet its target)")
    else:
        how = (f"with {100 * confidence:g}% confidence in each interval (the one-sided {100 * confidence:g}% "
               f"bound over {replications} replications must meet each target)")
    return f"every interval: {lines}, {how}; seed {seed}, common random numbers for every candidate"


def hhmm(seconds: float) -> str:
    m = int(round(seconds / 60))
    return f"{m // 60:02d}:{m % 60:02d}"

