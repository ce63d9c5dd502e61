"""Results: KPIs per replication, their means and 95% confidence intervals.

The kernel returns counts and sums as arrays shaped (interval, call type,
tier, group). This module turns them into the KPIs of DESIGN.md, once per
replication, and summarises replications with a mean and a Student-t 95%
confidence interval. Memory grows with replications only by a few numbers
per KPI and interval, never per call.

KPI names (``Result.summary()`` keys) are a public contract; see
``docs/results.md``.
"""
from __future__ import annotations

import csv
import functools
import io
import json
import math
import warnings
from statistics import NormalDist

import numpy as np

from .compile import CompiledScenario

#: Day KPIs, in report order, with their meaning.
DAY_KPIS = {
    "offered": "calls that arrived (after the warm-up)",
    "blocked": "calls that found every trunk line busy",
    "contained": "calls finished in IVR self-service",
    "ivr_abandoned": "callers who hung up in the IVR menu",
    "queued": "calls that reached the agent queue",
    "answered": "calls answered by an agent",
    "abandoned": "callers who hung up while waiting for an agent",
    "answered_within": "calls answered within the SLA threshold",
    "in_system_end": "calls still in the IVR or queue at the horizon",
    "redials": "attempts that were redials of blocked or abandoned callers",
    "repeat_calls": "attempts that were repeat calls about an unsolved problem",
    "unique_callers": "attempts that were not redials (offered - redials)",
    "transferred": "answered calls transferred to another call type",
    "fcr": "first-call resolution: answered calls that did not cause a repeat call / answered",
    "callbacks": "waiting callers who accepted a callback (virtual hold)",
    "callback_sl": "callbacks made within the callback threshold / callbacks made",
    "mean_callback_wait_s": "mean time from accepting a callback to being called back, s",
    "outbound_done": "quality call-backs and campaign calls made",
    "outbound_occupancy": "agent time on outbound work / staffed time",
    "service_level": "answered within T / queued (or / answered; see sl_definition)",
    "abandon_rate": "abandoned / queued (short abandons dropped from both)",
    "blocking_rate": "blocked / offered",
    "containment_rate": "contained / (offered - blocked)",
    "asa_s": "mean wait of answered calls, s",
    "max_wait_s": "longest wait of an answered call, s",
    "wait_p90_s": "90th percentile of the wait of answered calls, s (1-second resolution; inf beyond 599 s)",
    "mean_abandon_wait_s": "mean wait of callers who abandoned, s",
    "mean_talk_s": "mean talk time per answered call, s",
    "hold_rate": "share of answered calls put on HOLD",
    "mean_hold_s": "mean HOLD time per call put on HOLD, s",
    "mean_acw_s": "mean after-call work per answered call, s",
    "aht_s": "mean handle time (talk + hold + ACW) per answered call, s",
    "occupancy": "agent busy time / staffed time",
    "agents_mean": "mean agents staffed",
    "lines_mean": "mean busy trunk lines (calls in the system)",
    "lines_peak": "most trunk lines busy at once",
    "queue_mean": "mean calls waiting for an agent",
    "queue_peak": "most calls waiting at once",
}

#: Per-interval KPIs (``Result.by_interval()`` columns besides interval_start).
INTERVAL_KPIS = (
    "offered", "blocked", "contained", "queued", "answered", "abandoned",
    "service_level", "abandon_rate", "blocking_rate", "asa_s", "occupancy",
    "agents", "busy_agents", "lines_mean", "lines_peak", "queue_mean", "queue_peak",
)


def _div(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(b > 0, a / np.where(b > 0, b, 1.0), np.nan)
    return out if out.ndim else float(out)


def _occupancy(busy, staffed):
    # Busy and staffed seconds are summed along different paths (per call
    # span vs headcount area), so a fully busy group can come out a few
    # ulps above 1; occupancy is a share, so cap it there.
    occ = _div(busy, staffed)
    return np.minimum(occ, 1.0) if isinstance(occ, np.ndarray) else min(occ, 1.0)


def wait_percentile(hist, q: float) -> float:
    """Percentile of waits from the kernel's histogram.

    Bin 0 counts calls answered without waiting, bin b (1..599) waits in
    (b-1, b] seconds, the last bin waits over 599 s. Linear within a bin;
    0 in bin 0; inf in the last, open bin.

    Examples
    --------
    >>> wait_percentile(np.array([50, 30, 20] + [0] * 598), 0.9)
    1.5
    >>> wait_percentile(np.array([95, 5] + [0] * 599), 0.9)
    0.0
    """
    hist = np.asarray(hist, dtype=np.float64)
    n = hist.sum()
    if n <= 0:
        return math.nan
    target = q * n
    cum = np.cumsum(hist)
    b = int(np.searchsorted(cum, target, side="left"))
    if b == 0:
        return 0.0
    if b >= len(hist) - 1:
        return math.inf
    before = cum[b] - hist[b]
    return float(b - 1 + (target - before) / hist[b])


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c if abs(1.0 + aa / c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c if abs(1.0 + aa / c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def _betainc(a: float, b: float, x: float) -> float:
    """Regularized incomplete beta I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def t_cdf(t: float, df: int) -> float:
    """Student-t distribution function."""
    tail = 0.5 * _betainc(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t > 0 else tail


@functools.lru_cache(maxsize=4096)
def t_quantile(p: float, df: int) -> float:
    """Student-t quantile, exact to about 1e-10 (bisection on the t distribution function).

    Examples
    --------
    >>> round(t_quantile(0.975, 19), 4), round(t_quantile(0.975, 3), 4), round(t_quantile(0.999, 3), 3)
    (2.093, 3.1824, 10.215)
    """
    if df == 1:
        return math.tan(math.pi * (p - 0.5))
    if df == 2:
        return (2 * p - 1) / math.sqrt(2 * p * (1 - p))
    if p == 0.5:
        return 0.0
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    lo, hi = 0.0, max(1.0, NormalDist().inv_cdf(p))
    while t_cdf(hi, df) < p:
        hi *= 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12 * max(1.0, hi):
            break
    return 0.5 * (lo + hi)


def mean_ci(x, level: float = 0.95):
    """(mean, ci_low, ci_high) over replications along axis 0, ignoring NaN."""
    x = np.asarray(x, dtype=np.float64)
    if x.shape[0] == 0:                     # nothing finished yet (e.g. interrupted at once)
        empty = np.full(x.shape[1:], np.nan)
        return empty, empty.copy(), empty.copy()
    n = np.sum(~np.isnan(x), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # all-NaN columns (e.g. no calls at night)
        mean = np.nanmean(x, axis=0) if x.size else np.nan
        sd = np.nanstd(x, axis=0, ddof=1) if x.shape[0] > 1 else np.full(np.shape(mean), np.nan)
    tq = np.vectorize(lambda d: t_quantile(0.5 + level / 2, int(d)) if d >= 1 else np.nan, otypes=[float])(np.maximum(n - 1, 0))
    half = tq * sd / np.sqrt(np.maximum(n, 1))
    half = np.where(n > 1, half, np.nan)
    return mean, mean - half, mean + half


class Stats:
    """One replication's raw arrays with KPI accessors."""

    def __init__(self, raw: dict, cs: CompiledScenario, sl_denominator: str = "queued"):
        self.raw = raw
        self.cs = cs
        self.sl_denominator = sl_denominator

    def _warm_intervals(self):
        starts = np.arange(self.cs.n_intervals) * self.cs.interval_s
        return starts >= self.cs.warmup_s

    def day(self) -> dict[str, float]:
        r = self.raw
        tot = {k: int(r[k].sum()) for k in ("offered", "blocked", "contained", "ivr_abandoned", "queued",
                                               "answered", "abandoned", "answered_within", "abandoned_short",
                                               "held", "in_ivr_end", "in_queue_end", "redials", "repeats",
                                               "unresolved", "transferred", "callbacks", "callbacks_done",
                                               "callbacks_within")}
        warm = self._warm_intervals()
        staffed = r["staffed_s"][warm].sum()
        busy = r["service_busy_s"][warm].sum() + r["acw_busy_s"][warm].sum()
        span = warm.sum() * self.cs.interval_s
        queued_eff = tot["queued"] - tot["abandoned_short"]
        sl_den = queued_eff if self.sl_denominator == "queued" else tot["answered"]
        talk, hold, acw = r["talk_s"].sum(), r["hold_s"].sum(), r["acw_s"].sum()
        return {
            "offered": tot["offered"], "blocked": tot["blocked"], "contained": tot["contained"],
            "ivr_abandoned": tot["ivr_abandoned"], "queued": tot["queued"], "answered": tot["answered"],
            "abandoned": tot["abandoned"], "answered_within": tot["answered_within"],
            "in_system_end": tot["in_ivr_end"] + tot["in_queue_end"],
            "redials": tot["redials"], "repeat_calls": tot["repeats"],
            "unique_callers": tot["offered"] - tot["redials"], "transferred": tot["transferred"],
            "fcr": 1.0 - _div(tot["unresolved"], tot["answered"]),
            "callbacks": tot["callbacks"],
            "callback_sl": _div(tot["callbacks_within"], tot["callbacks_done"]),
            "mean_callback_wait_s": _div(r["callback_wait_s"].sum(), tot["callbacks_done"]),
            "outbound_done": int(r["outbound_done"][warm].sum()),
            "outbound_occupancy": _div(r["outbound_busy_s"][warm].sum(), staffed),
            "service_level": _div(tot["answered_within"], sl_den),
            "abandon_rate": _div(tot["abandoned"] - tot["abandoned_short"], queued_eff),
            "blocking_rate": _div(tot["blocked"], tot["offered"]),
            "containment_rate": _div(tot["contained"], tot["offered"] - tot["blocked"]),
            "asa_s": _div(r["wait_s"].sum(), tot["answered"]),
            "max_wait_s": float(r["wait_max_s"].max()) if tot["answered"] else math.nan,
            "wait_p90_s": wait_percentile(r["wait_hist"].sum(axis=0), 0.90),
            "mean_abandon_wait_s": _div(r["abandon_wait_s"].sum(), tot["abandoned"]),
            "mean_talk_s": _div(talk, tot["answered"]),
            "hold_rate": _div(tot["held"], tot["answered"]),
            "mean_hold_s": _div(hold, tot["held"]),
            "mean_acw_s": _div(acw, tot["answered"]),
            "aht_s": _div(talk + hold + acw, tot["answered"]),
            "occupancy": _occupancy(busy, staffed),
            "agents_mean": _div(staffed, span),
            "lines_mean": _div(r["lines_s"][warm].sum(), span),
            "lines_peak": float(r["lines_peak"][warm].max()) if warm.any() else 0.0,
            "queue_mean": _div(r["queue_s"][warm].sum(), span),
            "queue_peak": float(r["queue_peak"][warm].max()) if warm.any() else 0.0,
        }

    def by_interval(self) -> dict[str, np.ndarray]:
        r = self.raw
        per = lambda k: r[k].reshape(r[k].shape[0], -1).sum(axis=1)  # noqa: E731
        queued_eff = per("queued") - per("abandoned_short")
        sl_den = queued_eff if self.sl_denominator == "queued" else per("answered")
        busy = r["service_busy_s"].sum(axis=1) + r["acw_busy_s"].sum(axis=1)
        staffed = r["staffed_s"].sum(axis=1)
        I = self.cs.interval_s
        return {
            "offered": per("offered"), "blocked": per("blocked"), "contained": per("contained"),
            "queued": per("queued"), "answered": per("answered"), "abandoned": per("abandoned"),
            "service_level": _div(per("answered_within"), sl_den),
            "abandon_rate": _div(per("abandoned") - per("abandoned_short"), queued_eff),
            "blocking_rate": _div(per("blocked"), per("offered")),
            "asa_s": _div(per("wait_s"), per("answered")),
            "occupancy": _occupancy(busy, staffed),
            "agents": staffed / I, "busy_agents": busy / I,
            "lines_mean": r["lines_s"] / I, "lines_peak": r["lines_peak"].astype(np.float64),
            "queue_mean": r["queue_s"] / I, "queue_peak": r["queue_peak"].astype(np.float64),
        }


class Accumulator:
    """Collects replications one by one (in replication order) into a :class:`Result`."""

    def __init__(self, cs: CompiledScenario, sl_denominator: str):
        self.cs = cs
        self.sl_denominator = sl_denominator
        self.day_rows: dict[int, np.ndarray] = {}
        self.interval_rows: dict[int, np.ndarray] = {}
        self.totals: dict[str, np.ndarray] = {}
        self.n_events = 0
        self.n_arrivals = 0
        self.volumes: dict[int, float] = {}

    def add(self, rep: int, raw: dict, volume: float = 1.0) -> None:
        st = Stats(raw, self.cs, self.sl_denominator)
        day = st.day()
        self.day_rows[rep] = np.array([day[k] for k in DAY_KPIS], dtype=np.float64)
        iv = st.by_interval()
        self.interval_rows[rep] = np.stack([iv[k] for k in INTERVAL_KPIS], axis=1)
        for k, v in raw.items():
            if isinstance(v, np.ndarray) and k != "call_log":
                if k.endswith("_peak") or k == "wait_max_s":
                    self.totals[k] = np.maximum(self.totals[k], v) if k in self.totals else v.copy()
                else:
                    self.totals[k] = self.totals[k] + v if k in self.totals else v.astype(np.float64)
        self.n_events += int(raw["n_events"])
        self.n_arrivals += int(raw["n_arrivals"])
        self.volumes[rep] = volume


class Result:
    """What a run returns: KPIs per replication, summaries with 95% CIs, an SLA check.

    ``summary()`` gives a plain dict ``{kpi: {"mean", "ci_low", "ci_high"}}``;
    ``by_interval()`` a per-interval table; ``sla_report()`` the SLA lines with
    pass or fail; ``to_frame()`` a pandas DataFrame (needs pandas).
    """

    def __init__(self, acc: Accumulator, scenario, meta: dict):
        self.scenario = scenario
        self.compiled = acc.cs
        reps = sorted(acc.day_rows)
        self.replications = reps
        self.day = np.stack([acc.day_rows[r] for r in reps]) if reps else np.zeros((0, len(DAY_KPIS)))
        self.intervals = np.stack([acc.interval_rows[r] for r in reps]) if reps else np.zeros((0, acc.cs.n_intervals, len(INTERVAL_KPIS)))
        self.totals = acc.totals
        self.n_events = acc.n_events
        self.n_arrivals = acc.n_arrivals
        self.meta = dict(meta)
        self.meta["completed_replications"] = len(reps)

    # ------------------------------------------------------------------
    def kpi(self, name: str) -> np.ndarray:
        """One day KPI across replications (array of length R)."""
        return self.day[:, list(DAY_KPIS).index(name)]

    def summary(self) -> dict[str, dict[str, float]]:
        """Day KPIs: ``{name: {"mean": m, "ci_low": lo, "ci_high": hi}}`` (95% CI; NaN with one replication)."""
        mean, lo, hi = mean_ci(self.day)
        return {k: {"mean": float(mean[i]), "ci_low": float(lo[i]), "ci_high": float(hi[i])}
                for i, k in enumerate(DAY_KPIS)}

    def by_interval(self) -> dict[str, np.ndarray]:
        """Per-interval table: ``interval_start`` (s) and, per KPI, mean, ``_ci_low`` and ``_ci_high``."""
        mean, lo, hi = mean_ci(self.intervals)
        out = {"interval_start": np.arange(self.compiled.n_intervals) * self.compiled.interval_s}
        for i, k in enumerate(INTERVAL_KPIS):
            out[k] = mean[:, i]
            out[f"{k}_ci_low"] = lo[:, i]
            out[f"{k}_ci_high"] = hi[:, i]
        return out

    def by_call_type(self) -> dict[str, dict[str, float]]:
        """Per call type (pooled over replications): offered, answered, abandoned, service level, ASA."""
        t = self.totals
        out = {}
        for k, name in enumerate(self.compiled.type_names):
            q = t["queued"][:, k].sum() - t["abandoned_short"][:, k].sum()
            ans = t["answered"][:, k].sum()
            den = q if self.meta["sl_definition"]["denominator"] == "queued" else ans
            out[name] = {
                "offered": float(t["offered"][:, k].sum()) / max(len(self.replications), 1),
                "answered": float(ans) / max(len(self.replications), 1),
                "abandoned": float(t["abandoned"][:, k].sum()) / max(len(self.replications), 1),
                "service_level": _div(t["answered_within"][:, k].sum(), den),
                "asa_s": _div(t["wait_s"][:, k].sum(), ans),
            }
        return out

    def sla_report(self) -> list[dict]:
        """Each SLA line of the scenario: target, measured mean with CI, and pass/fail on the mean."""
        sla = self.scenario.sla
        s = self.summary()
        lines = []

        def line(name, kpi, op, target, unit):
            m = s[kpi]
            value = m["mean"]
            ok = (value >= target) if op == ">=" else (value <= target)
            lines.append({"sla": name, "kpi": kpi, "op": op, "target": target, "unit": unit,
                          "mean": value, "ci_low": m["ci_low"], "ci_high": m["ci_high"],
                          "passed": bool(ok) if not math.isnan(value) else None})

        if sla.service_level is not None:
            line(f"answered within {sla.service_level.within_s:g} s", "service_level", ">=",
                 sla.service_level.percent / 100, "share")
        if sla.abandon_max_pct is not None:
            line("abandonment", "abandon_rate", "<=", sla.abandon_max_pct / 100, "share")
        if sla.blocking_max_pct is not None:
            line("trunk blocking", "blocking_rate", "<=", sla.blocking_max_pct / 100, "share")
        if sla.acw_max_s is not None:
            line("after-call work per call", "mean_acw_s", "<=", sla.acw_max_s, "s")
        if sla.hold_max_s is not None:
            line("HOLD per held call", "mean_hold_s", "<=", sla.hold_max_s, "s")
        if sla.fcr_min_pct is not None:
            line("first-call resolution", "fcr", ">=", sla.fcr_min_pct / 100, "share")
        return lines

    # ------------------------------------------------------------------
    def to_frame(self):
        """Per-interval table as a pandas DataFrame (``pip install simcc[pandas]``)."""
        try:
            import pandas as pd
        except ImportError:  # pragma: no cover - depends on the environment
            raise ImportError("to_frame() needs pandas: pip install 'simcc[pandas]'") from None
        return pd.DataFrame(self.by_interval())

    def intervals_csv(self) -> str:
        table = self.by_interval()
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        cols = list(table)
        w.writerow(cols)
        for p in range(self.compiled.n_intervals):
            w.writerow([_fmt(table[c][p]) for c in cols])
        return buf.getvalue()

    def summary_csv(self) -> str:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["kpi", "mean", "ci_low", "ci_high"])
        for k, v in self.summary().items():
            w.writerow([k, _fmt(v["mean"]), _fmt(v["ci_low"]), _fmt(v["ci_high"])])
        return buf.getvalue()

    def to_dict(self) -> dict:
        """Everything a report needs, JSON-ready (NaN becomes null)."""
        iv = self.by_interval()
        return _jsonable({
            "meta": self.meta,
            "summary": self.summary(),
            "sla": self.sla_report(),
            "by_call_type": self.by_call_type(),
            "by_interval": {k: v.tolist() for k, v in iv.items()},
        })

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, allow_nan=False)

    def __repr__(self) -> str:
        s = self.summary()
        return (f"<simcc.Result {self.scenario.name!r}: {len(self.replications)} replication(s), "
                f"service level {s['service_level']['mean']:.3f}, abandonment {s['abandon_rate']['mean']:.3f}>")


def _fmt(x) -> str:
    x = float(x)
    if math.isnan(x):
        return ""
    return repr(round(x, 6)) if not x.is_integer() else str(int(x))


def _jsonable(obj):
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return None if math.isnan(obj) or math.isinf(obj) else float(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    return obj
