"""Backtest: simulate the recorded days and judge each recorded value against the simulated band of one day.

For every recorded day, interval and KPI the recorded value is compared with
the simulated 95% *prediction* interval of a single day (the 2.5% and 97.5%
quantiles over replications), not the confidence interval of the mean: a
real day scatters like one replication, not like an average. About 5% of
values fall outside by chance (fewer for small counts, whose quantiles are
whole numbers); a KPI passes when the number outside is within the 99%
binomial limit of that.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import numpy as np

from ..errors import Problem, RecordsError
from ..model.scenario import Scenario
from ..run.export import csv_text
from ..run.kpis import DAY_KPIS, INTERVAL_KPIS
from ..run.simulation import simulate
from .fit import read_headcount
from .records import ABANDONED, ANSWERED, BALKED, BLOCKED, CONTAINED, QUEUED, Records

#: KPIs compared per interval and for the day (both engines' definitions: docs/results.md).
KPIS = ("offered", "blocked", "contained", "queued", "answered", "abandoned",
        "service_level", "abandon_rate", "blocking_rate", "asa_s")
LEVEL = 0.95


def recorded_kpis(rec: Records, scenario: Scenario) -> dict[str, np.ndarray]:
    """The KPIs of the recorded days, computed as simcc computes them: arrays [day, interval] and [day]."""
    I, P = scenario.interval_s, scenario.n_intervals
    D = len(rec.days)
    t_in_day = rec.arrival_s - rec.day * 86_400.0
    p = (t_in_day // I).astype(np.int64)
    if is_week(scenario):               # a Monday-to-Sunday scenario: each day goes to its weekday
        p = p + weekdays(rec)[rec.day] * int(86_400 // I)
    inside = (p < P) & (t_in_day >= scenario.warmup_minutes * 60.0)     # as simcc counts: after the warm-up
    sl = scenario.sla
    T = scenario.sl_threshold_s
    queued = np.isin(rec.outcome, QUEUED)
    masks = {
        "offered": np.ones(len(rec), dtype=bool), "blocked": rec.outcome == BLOCKED,
        "contained": rec.outcome == CONTAINED, "queued": queued, "answered": rec.outcome == ANSWERED,
        "abandoned": np.isin(rec.outcome, (ABANDONED, BALKED)),      # a balk is an abandon with no wait
        "within": (rec.outcome == ANSWERED) & (rec.wait_s <= T),
        "short": np.isin(rec.outcome, (ABANDONED, BALKED)) & (rec.wait_s < sl.short_abandon_s),
    }
    per: dict[str, np.ndarray] = {}
    for k, m in masks.items():
        sel = m & inside
        a = np.zeros((D, P))
        np.add.at(a, (rec.day[sel], p[sel]), 1)
        per[k] = a
    wait = np.zeros((D, P))
    sel = masks["answered"] & inside
    np.add.at(wait, (rec.day[sel], p[sel]), rec.wait_s[sel])

    def kpis(c, w):
        with np.errstate(invalid="ignore", divide="ignore"):
            q_eff = c["queued"] - c["short"]
            den = q_eff if sl.denominator == "queued" else c["answered"]
            return {
                "offered": c["offered"], "blocked": c["blocked"], "contained": c["contained"],
                "queued": c["queued"], "answered": c["answered"], "abandoned": c["abandoned"],
                "service_level": np.where(den > 0, c["within"] / np.where(den > 0, den, 1), np.nan),
                "abandon_rate": np.where(q_eff > 0, (c["abandoned"] - c["short"]) / np.where(q_eff > 0, q_eff, 1),
                                         np.nan),
                "blocking_rate": np.where(c["offered"] > 0, c["blocked"] / np.where(c["offered"] > 0,
                                                                                     c["offered"], 1), np.nan),
                "asa_s": np.where(c["answered"] > 0, w / np.where(c["answered"] > 0, c["answered"], 1), np.nan),
            }
    by_interval = kpis(per, wait)
    day = kpis({k: v.sum(axis=1) for k, v in per.items()}, wait.sum(axis=1))
    return {"interval": by_interval, "day": day}


def is_week(scenario: Scenario) -> bool:
    """A scenario covering a week (from ``fit(..., period="week")``): recorded days map to their weekday."""
    return scenario.horizon_s == 7 * 86_400.0


def weekdays(rec: Records) -> np.ndarray:
    from datetime import date
    return np.array([date.fromisoformat(d).weekday() for d in rec.days], dtype=np.int64)


@dataclass
class Backtest:
    """Recorded vs simulated, per day, interval and KPI, with a verdict per KPI."""

    scenario: Scenario
    days: list[str]
    replications: int
    rows: list[dict]                 # day, interval_start, kpi, recorded, low, median, high, outside
    day_rows: list[dict]
    verdicts: dict[str, dict]
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(v["passed"] for v in self.verdicts.values())

    def table(self) -> list[dict]:
        """One row per KPI: values checked, outside the band, expected by chance, the limit, verdict."""
        return [{"kpi": k, **v} for k, v in self.verdicts.items()]

    def to_dict(self) -> dict:
        return {"scenario": self.scenario.name, "days": self.days, "replications": self.replications,
                "passed": self.passed, "verdicts": self.verdicts, "day": self.day_rows, "notes": self.notes}

    def to_csv(self) -> str:
        """The verdict per KPI (``--format csv``)."""
        return _csv(self.table())

    def intervals_csv(self) -> str:
        return _csv(self.rows)

    def day_csv(self) -> str:
        return _csv(self.day_rows)

    def __repr__(self) -> str:
        bad = [k for k, v in self.verdicts.items() if not v["passed"]]
        return (f"<simcc.calibrate.Backtest {len(self.days)} day(s) x {self.replications} replications: "
                f"{'passed' if not bad else 'failed on ' + ', '.join(bad)}>")


def _csv(rows: list[dict]) -> str:
    if not rows:
        return ""
    cols = list(rows[0])
    return csv_text(cols, [[r[c] for c in cols] for r in rows])


def band(values: np.ndarray) -> tuple[float, float, float, float]:
    """The 95% prediction band of one more day from R simulated days, by order statistics.

    With the j-th smallest and j-th largest of R values as bounds, a new day falls outside with
    probability 2j / (R + 1) exactly (continuous values; less with ties), whatever the
    distribution; j is the largest with 2j / (R + 1) <= 5% (at least 1). Returns low, median,
    high and that probability (NaN band when no replication measured the KPI).
    """
    v = np.sort(values[np.isfinite(values)])
    R = len(v)
    if R == 0:
        return math.nan, math.nan, math.nan, 0.0
    j = max(1, int(math.floor((1 - LEVEL) / 2 * (R + 1))))
    j = min(j, (R + 1) // 2)
    return float(v[j - 1]), float(np.median(v)), float(v[R - j]), 2 * j / (R + 1)


def backtest(scenario: Scenario, records: Records, *, replications: int = 100, seed: int = 1,
             agents: str | os.PathLike | None = None, workers: int | None = None,
             progress=None) -> Backtest:
    """Simulate the scenario (with each recorded day's headcount when ``agents`` is given) and judge the records.

    Parameters
    ----------
    scenario : the scenario to test, typically the one :func:`simcc.calibrate.fit` returned.
    records : the recorded days (:func:`simcc.calibrate.read_records`).
    replications : simulated days per recorded day's headcount; the band is their 2.5-97.5% range.
    agents : headcount records (``interval_start, group, agents``) with dates: each recorded day is
        simulated with its own headcount. Without them the scenario's headcount is used, and the
        result says so.
    """
    if replications < 20:
        raise RecordsError([Problem("replications", f"{replications} is too few for a 95% band of one day; "
                                                    "use at least 20 (100 or more is better)")])
    unknown = sorted(set(records.call_types) - set(scenario.call_types))
    if unknown:
        raise RecordsError([Problem("call_type", f"'{u}' is in the records but not in the scenario") for u in unknown])
    notes = []
    rec_k = recorded_kpis(records, scenario)
    P, I = scenario.n_intervals, scenario.interval_s
    if scenario.horizon_s < 86_400 and (records.arrival_s - records.day * 86_400.0 >= scenario.horizon_s).any():
        notes.append(f"records after the scenario's horizon ({scenario.horizon_s / 3600:g} h) are not compared")
    if scenario.warmup_minutes:
        notes.append(f"the first {scenario.warmup_minutes:g} minutes (the scenario's warm-up) are not compared")
    per_day_heads = _per_day_headcount(agents, scenario, records) if agents is not None else None
    if per_day_heads is None:
        notes.append("no headcount records: every day simulated with the scenario's headcount")
    sims: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    groups_key: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
    for d in range(len(records.days)):
        scn = scenario
        key: tuple = ()
        if per_day_heads is not None and d in per_day_heads:
            data = scenario.model_dump(mode="json", exclude_none=True)
            for g in data["groups"]:
                if g["name"] in per_day_heads[d]:
                    g.pop("roster", None)
                    g["agents"] = per_day_heads[d][g["name"]]
            from ..model.scenario import from_dict
            scn = from_dict(data)
            key = tuple(tuple(v) for v in per_day_heads[d].values())
        if key not in groups_key:
            res = simulate(scn, seed=seed, replications=replications, workers=workers, progress=progress)
            groups_key[key] = (res.intervals, res.day)
        sims[d] = groups_key[key]
    warm_s = scenario.warmup_minutes * 60.0
    week = is_week(scenario)
    p_day = int(86_400 // I)
    wd = weekdays(records)
    if week:
        notes.append("a week-long scenario: each recorded day is compared with its weekday's intervals; "
                     "no whole-day comparison")
    rows, day_rows = [], []
    counts = {k: [0, 0, 0.0] for k in KPIS}        # checked, outside, expected outside
    for d, day in enumerate(records.days):
        iv, dy = sims[d]
        for k in KPIS:
            sim = iv[:, :, list(INTERVAL_KPIS).index(k)]
            got = rec_k["interval"][k][d]
            for p in (range(wd[d] * p_day, (wd[d] + 1) * p_day) if week else range(P)):
                a, med, b, chance = band(sim[:, p])
                r = float(got[p])
                checked = math.isfinite(r) and math.isfinite(a) and p * I >= warm_s
                out = checked and not (a - 1e-9 <= r <= b + 1e-9)
                if checked:
                    counts[k][0] += 1
                    counts[k][1] += int(out)
                    counts[k][2] += chance
                rows.append({"day": day, "interval_start": p * I, "kpi": k, "recorded": r, "low": a,
                             "median": med, "high": b, "outside": out if checked else ""})
            if week:
                continue
            dlo, dmed, dhi, _ = band(dy[:, list(DAY_KPIS).index(k)])
            r = float(rec_k["day"][k][d])
            out = math.isfinite(r) and math.isfinite(dlo) and not (dlo - 1e-9 <= r <= dhi + 1e-9)
            day_rows.append({"day": day, "kpi": k, "recorded": r, "low": dlo, "median": dmed, "high": dhi,
                             "outside": out})
    from scipy import stats
    verdicts = {}
    for k, (n, out, expected) in counts.items():
        limit = int(stats.binom.ppf(0.99, n, expected / n)) if n else 0
        verdicts[k] = {"checked": n, "outside": out, "expected": round(expected, 1), "limit": limit,
                       "passed": out <= limit}
    return Backtest(scenario, list(records.days), replications, rows, day_rows, verdicts, notes)


def _per_day_headcount(path, scenario: Scenario, records: Records) -> dict[int, dict[str, list[int]]] | None:
    import pandas as pd
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError) as exc:
        raise RecordsError([Problem("agents", f"cannot read {os.fspath(path)}: {exc}")]) from None
    read_headcount(path, scenario.interval_minutes)      # checks the file, names bad rows
    t = pd.to_datetime(frame["interval_start"], format="ISO8601")
    a = pd.to_numeric(frame["agents"]).astype(int).to_numpy()
    dates = t.dt.date.astype(str).to_numpy()
    p = ((t - t.dt.normalize()).dt.total_seconds() // scenario.interval_s).astype(int).to_numpy()
    names = {g.name for g in scenario.groups}
    unknown = sorted(set(frame["group"]) - names)
    if unknown:
        raise RecordsError([Problem("group", f"'{u}' in the headcount file is not a group of the scenario")
                            for u in unknown], source=os.fspath(path))
    out: dict[int, dict[str, list[int]]] = {}
    day_ix = {d: i for i, d in enumerate(records.days)}
    for date, g, pi, n in zip(dates, frame["group"], p, a):
        if date not in day_ix or pi >= scenario.n_intervals:
            continue
        out.setdefault(day_ix[date], {}).setdefault(g, [0] * scenario.n_intervals)[pi] = int(n)
    return out or None
