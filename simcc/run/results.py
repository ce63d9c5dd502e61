"""Results: KPIs per replication, their means and 95% confidence intervals.

The kernel returns counts and sums as arrays shaped (interval, call type,
tier, group). This module turns them into the KPIs of DESIGN.md, once per
replication, and summarises replications with a mean and a Student-t 95%
confidence interval. Memory grows with replications only by a few numbers
per KPI and interval, never per call.

KPI names (``Result.summary()`` keys) are a public contract, registered in
:mod:`simcc.run.kpis`; see ``docs/results.md``.
"""
from __future__ import annotations

import math

import numpy as np

from .. import htmlrepr
from ..engine.compile import CompiledScenario
from ..engine.contract import STAT_BY_NAME
from ..jsonsafe import dumps, jsonable
from ..stats import mean_ci
from .export import csv_text
from .kpis import DAY_KPIS, INTERVAL_KPIS, feasible, format_value


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
                                               "callbacks_within", "balked", "messages", "disconnected",
                                               "answered_within_total", "queue_full", "conferences",
                                               "conferences_missed", "transfer_answered", "transfer_abandoned",
                                               "transfer_disconnected")}
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
            "abandoned": tot["abandoned"], "balked": tot["balked"], "messages": tot["messages"],
            "disconnected": tot["disconnected"], "queue_full": tot["queue_full"],
            "conferences": tot["conferences"], "conferences_missed": tot["conferences_missed"],
            "answered_within": tot["answered_within"], "answered_within_total": tot["answered_within_total"],
            "in_system_end": tot["in_ivr_end"] + tot["in_queue_end"],
            "redials": tot["redials"], "repeat_calls": tot["repeats"],
            "unique_callers": tot["offered"] - tot["redials"], "transferred": tot["transferred"],
            "transfer_answered": tot["transfer_answered"], "transfer_abandoned": tot["transfer_abandoned"],
            "transfer_disconnected": tot["transfer_disconnected"],
            "fcr": 1.0 - _div(tot["unresolved"], tot["answered"]),
            "callbacks": tot["callbacks"],
            "callback_sl": _div(tot["callbacks_within"], tot["callbacks_done"]),
            "mean_callback_wait_s": _div(r["callback_wait_s"].sum(), tot["callbacks_done"]),
            "outbound_done": int(r["outbound_done"][warm].sum()),
            "outbound_occupancy": _div(r["outbound_busy_s"][warm].sum(), staffed),
            "dials": int(r["dials"].sum()), "dial_contacts": int(r["dial_contacts"].sum()),
            "dial_served": int(r["dial_served"].sum()), "mismatches": int(r["mismatches"].sum()),
            "mismatch_rate": _div(r["mismatches"].sum(), r["dial_contacts"].sum()),
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


#: Per call type, per replication (``Result.per_replication()["call_type"]``): counts and KPIs of one day.
TYPE_KPIS = ("offered", "queued", "answered", "abandoned", "answered_within", "service_level", "abandon_rate",
             "asa_s")
#: Per agent group, per replication (``Result.per_replication()["group"]``).
GROUP_KPIS = ("answered", "occupancy", "agents_mean", "busy_agents_mean")


def _type_rows(raw: dict, cs, warm, sl_denominator: str) -> np.ndarray:
    """[K, TYPE_KPIS] for one replication."""
    per = {k: raw[k].sum(axis=tuple(i for i in range(raw[k].ndim) if i != 1)).astype(np.float64)
           for k in ("offered", "queued", "answered", "abandoned", "answered_within", "abandoned_short", "wait_s")}
    q_eff = per["queued"] - per["abandoned_short"]
    den = q_eff if sl_denominator == "queued" else per["answered"]
    cols = {"offered": per["offered"], "queued": per["queued"], "answered": per["answered"],
            "abandoned": per["abandoned"], "answered_within": per["answered_within"],
            "service_level": _div(per["answered_within"], den),
            "abandon_rate": _div(per["abandoned"] - per["abandoned_short"], q_eff),
            "asa_s": _div(per["wait_s"], per["answered"])}
    return np.stack([cols[k] for k in TYPE_KPIS], axis=1)


def _group_rows(raw: dict, cs, warm) -> np.ndarray:
    """[G, GROUP_KPIS] for one replication (time-based KPIs over the measured intervals)."""
    span = max(float(warm.sum()) * cs.interval_s, 1e-300)
    staffed = raw["staffed_s"][warm].sum(axis=0)
    busy = raw["service_busy_s"][warm].sum(axis=0) + raw["acw_busy_s"][warm].sum(axis=0)
    cols = {"answered": raw["answered"].sum(axis=(0, 1, 2)).astype(np.float64),
            "occupancy": _occupancy(busy, staffed), "agents_mean": staffed / span, "busy_agents_mean": busy / span}
    return np.stack([cols[k] for k in GROUP_KPIS], axis=1)


class Accumulator:
    """Collects replications one by one (in replication order) into a :class:`Result`."""

    def __init__(self, cs: CompiledScenario, sl_denominator: str):
        self.cs = cs
        self.sl_denominator = sl_denominator
        self.day_rows: dict[int, np.ndarray] = {}
        self.interval_rows: dict[int, np.ndarray] = {}
        self.type_rows: dict[int, np.ndarray] = {}
        self.group_rows: dict[int, np.ndarray] = {}
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
        warm = st._warm_intervals()
        self.type_rows[rep] = _type_rows(raw, self.cs, warm, self.sl_denominator)
        self.group_rows[rep] = _group_rows(raw, self.cs, warm)
        for k, v in raw.items():
            spec = STAT_BY_NAME.get(k)
            if spec is None:                 # counters and the call log
                continue
            if spec.merge == "max":
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
        empty = np.zeros((0, acc.cs.n_intervals, len(INTERVAL_KPIS)))
        self.intervals = np.stack([acc.interval_rows[r] for r in reps]) if reps else empty
        K, G = acc.cs.n_types, acc.cs.n_groups
        self.call_types = (np.stack([acc.type_rows[r] for r in reps]) if reps
                           else np.zeros((0, K, len(TYPE_KPIS))))
        self.groups = (np.stack([acc.group_rows[r] for r in reps]) if reps
                       else np.zeros((0, G, len(GROUP_KPIS))))
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
        lo, hi = feasible(DAY_KPIS, lo, hi)
        return {
            k: {"mean": float(mean[i]), "ci_low": float(lo[i]), "ci_high": float(hi[i])} for i, k in enumerate(DAY_KPIS)
        }

    def by_interval(self) -> dict[str, np.ndarray]:
        """Per-interval table: ``interval_start`` (s) and, per KPI, mean, ``_ci_low`` and ``_ci_high``."""
        mean, lo, hi = mean_ci(self.intervals)
        lo, hi = feasible(INTERVAL_KPIS, lo, hi)
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

    def by_group(self) -> dict[str, dict]:
        """Per agent group, pooled over replications (measured intervals): answered calls and agents per day,
        occupancy and its split by call type (handle time of the type's answered calls / staffed time), and
        the day's cost when the group has ``cost_per_hour``."""
        t, cs = self.totals, self.compiled
        R = max(len(self.replications), 1)
        if not t:
            return {}
        warm = np.arange(cs.n_intervals) * cs.interval_s >= cs.warmup_s
        span = max(float(warm.sum()) * cs.interval_s, 1e-300)
        staffed = t["staffed_s"][warm].sum(axis=0)
        busy = (t["service_busy_s"] + t["acw_busy_s"])[warm].sum(axis=0)
        work = (t["talk_s"] + t["hold_s"] + t["acw_s"]).sum(axis=(0, 2))          # [K, G]
        out = {}
        for g, grp in enumerate(self.scenario.groups):
            cost = grp.cost_per_hour
            out[grp.name] = {
                "answered": float(t["answered"][..., g].sum()) / R,
                "agents_mean": float(staffed[g]) / span / R,
                "occupancy": float(_div(busy[g], staffed[g])),
                "occupancy_by_call_type": {k: float(_div(work[i, g], staffed[g]))
                                           for i, k in enumerate(cs.type_names) if work[i, g] > 0},
                "agent_hours": float(staffed[g]) / 3600 / R,
                "cost": None if cost is None else cost * float(staffed[g]) / 3600 / R,
            }
        return out

    def per_replication(self) -> dict[str, dict[str, np.ndarray]]:
        """Every replication's numbers, for your own statistics: ``{"day": {kpi: [R]}, "interval": {kpi: [R, P]},
        "call_type": {kpi: [R, K]}, "group": {kpi: [R, G]}}`` (names in ``result.compiled.type_names`` and
        ``group_names``; call-type KPIs: ``TYPE_KPIS``, group KPIs: ``GROUP_KPIS``).

        Examples
        --------
        >>> import simcc
        >>> r = simcc.simulate(simcc.textbook.erlang(arrival_rate=0.2, mean_talk_s=100, agents=25, hours=1),
        ...                    seed=1, replications=3)
        >>> a = r.per_replication()
        >>> a["day"]["service_level"].shape, a["call_type"]["answered"].shape, a["interval"]["offered"].shape
        ((3,), (3, 1), (3, 2))
        """
        return {
            "day": {k: self.day[:, i] for i, k in enumerate(DAY_KPIS)},
            "interval": {k: self.intervals[:, :, i] for i, k in enumerate(INTERVAL_KPIS)},
            "call_type": {k: self.call_types[:, :, i] for i, k in enumerate(TYPE_KPIS)},
            "group": {k: self.groups[:, :, i] for i, k in enumerate(GROUP_KPIS)},
        }

    def ratio_of_means(self, numerator: str, denominator: str) -> dict[str, float]:
        """A day ratio as the literature reports it: E[numerator] / E[denominator] over replications,
        with a delta-method 95% CI (``summary()`` gives the mean of the per-day ratios instead).

        ``numerator`` and ``denominator`` are count KPIs of ``summary()``, e.g.
        ``ratio_of_means("answered_within", "queued")`` for the service level.
        """
        from ..stats import t_quantile
        x, y = self.kpi(numerator), self.kpi(denominator)
        n = len(x)
        if n == 0 or y.mean() == 0:
            return {"mean": math.nan, "ci_low": math.nan, "ci_high": math.nan}
        r = x.mean() / y.mean()
        if n < 2:
            return {"mean": float(r), "ci_low": math.nan, "ci_high": math.nan}
        resid = x - r * y
        half = t_quantile(0.975, n - 1) * resid.std(ddof=1) / (math.sqrt(n) * y.mean())
        return {"mean": float(r), "ci_low": float(r - half), "ci_high": float(r + half)}

    def sla_report(self) -> list[dict]:
        """Each SLA line of the scenario: target, measured mean with CI, and pass/fail on the mean."""
        sla = self.scenario.sla
        s = self.summary()
        lines = []

        def line(name, kpi, op, target, unit):
            m = s[kpi]
            value = m["mean"]
            ok = (value >= target) if op == ">=" else (value <= target)
            lines.append(
                {
                    "sla": name,
                    "kpi": kpi,
                    "op": op,
                    "target": target,
                    "unit": unit,
                    "mean": value,
                    "ci_low": m["ci_low"],
                    "ci_high": m["ci_high"],
                    "passed": bool(ok) if not math.isnan(value) else None,
                }
            )

        if sla.service_level is not None:
            line(
                f"answered within {sla.service_level.within_s:g} s",
                "service_level",
                ">=",
                sla.service_level.percent / 100,
                "share",
            )
        names = list(self.compiled.type_names)
        for name, target in sla.by_call_type.items():
            v = self.call_types[:, names.index(name), TYPE_KPIS.index("service_level")]
            mean, lo, hi = mean_ci(v[:, None])
            lo, hi = feasible(["service_level"], lo, hi)
            value = float(mean[0])
            lines.append({"sla": f"{name} answered within {target.within_s:g} s", "kpi": "service_level",
                          "call_type": name, "op": ">=", "target": target.percent / 100, "unit": "share",
                          "mean": value, "ci_low": float(lo[0]), "ci_high": float(hi[0]),
                          "passed": bool(value >= target.percent / 100) if not math.isnan(value) else None})
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

    def to_csv(self) -> str:
        """The per-interval table as CSV (what ``--format csv`` prints)."""
        return self.intervals_csv()

    def intervals_csv(self) -> str:
        table = self.by_interval()
        cols = list(table)
        return csv_text(cols, ([table[c][p] for c in cols] for p in range(self.compiled.n_intervals)))

    def summary_csv(self) -> str:
        return csv_text(
            ["kpi", "mean", "ci_low", "ci_high"],
            ([k, v["mean"], v["ci_low"], v["ci_high"]] for k, v in self.summary().items()),
        )

    def to_dict(self) -> dict:
        """Everything a report needs, JSON-ready (NaN becomes null)."""
        iv = self.by_interval()
        return jsonable(
            {
                "meta": self.meta,
                "summary": self.summary(),
                "sla": self.sla_report(),
                "by_call_type": self.by_call_type(),
                "by_group": self.by_group(),
                "by_interval": {k: v.tolist() for k, v in iv.items()},
            }
        )

    def to_json(self) -> str:
        return dumps(self.to_dict())

    def __repr__(self) -> str:
        s = self.summary()
        return (
            f"<simcc.Result {self.scenario.name!r}: {len(self.replications)} replication(s), "
            f"service level {s['service_level']['mean']:.3f}, abandonment {s['abandon_rate']['mean']:.3f}>"
        )

    def _repr_html_(self) -> str:
        """The day's KPIs with 95% CIs, and the SLA lines, as a notebook table."""
        rows = [
            (k, format_value(k, v["mean"]), f"{format_value(k, v['ci_low'])} .. {format_value(k, v['ci_high'])}")
            for k, v in self.summary().items()
        ]
        for line in self.sla_report():
            verdict = {True: "PASS", False: "FAIL", None: "n/a"}[line["passed"]]
            rows.append((f"SLA: {line['sla']}", f"{line['op']} {format_value(line['kpi'], line['target'])}", verdict))
        return htmlrepr.table(
            f"simcc result {self.scenario.name}: {len(self.replications)} replication(s)",
            rows,
            header=("KPI", "mean", "95% CI"),
        )
