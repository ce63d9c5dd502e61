"""Fit a scenario from call records: every parameter with its 95% interval and sample size.

``fit(records)`` reads the callers' histories (with caller ids), separates
first attempts from redials and repeat calls, and estimates arrivals, the IVR,
patience (censored), handling times, redial and repeat habits, the agent
groups' skills, headcount and trunks. With ``base=`` a planner's own scenario
gives the structure (groups, routing, trunks, SLA, headcount) and only the
callers' and agents' behaviour is fitted. The rules are documented in
docs/calibration.md; every number the scenario gets is in ``report``.
"""
from __future__ import annotations

import calendar
import math
import os
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from ..errors import Problem, RecordsError
from ..model.scenario import Scenario, from_dict
from .estimators import Estimate, fit_duration, fit_patience, fit_return, proportion_ci
from .records import (
    ABANDONED,
    ANSWERED,
    BALKED,
    BLOCKED,
    CONTAINED,
    DISCONNECTED,
    IVR_ABANDONED,
    LOST,
    MESSAGE,
    WAITED,
    Records,
)

FIRST, REDIAL, REPEAT = 0, 1, 2
#: Fewer observations than this for a sub-estimate (a tier, a group) fall back to the pooled estimate.
MIN_SAMPLES = 30
#: A group has a skill when it answered at least this share of its calls of that type ...
SKILL_MIN_SHARE = 0.01
#: ... and the skill is primary (level 1) when the group took at least this share of the type's calls.
PRIMARY_SHARE = 0.25
#: Without headcount records, agents = load / this occupancy (a placeholder the report flags).
PLACEHOLDER_OCCUPANCY = 0.85


@dataclass
class FitReport:
    """What was fitted from what: estimates with 95% intervals and sample sizes, and warnings."""

    records: int
    days: list[str]
    skipped: dict[str, int]
    estimates: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        def conv(v):
            if isinstance(v, Estimate) or hasattr(v, "to_dict"):
                return v.to_dict()
            if isinstance(v, dict):
                return {k: conv(x) for k, x in v.items()}
            return v
        return {"records": self.records, "days": self.days, "skipped": self.skipped,
                "estimates": conv(self.estimates), "warnings": list(self.warnings)}

    def to_csv(self) -> str:
        """One row per estimate (``--format csv``)."""
        from ..run.export import csv_text
        cols = ("name", "value", "ci_low", "ci_high", "n", "family")
        return csv_text(cols, [[r[c] for c in cols] for r in self.rows()])

    def rows(self) -> list[dict]:
        """One row per fitted mean or share: ``name``, ``value``, ``ci_low``, ``ci_high``, ``n``, ``family``."""
        out: list[dict] = []

        def walk(prefix, v):
            if isinstance(v, Estimate):
                out.append({"name": prefix, "value": v.mean, "ci_low": v.ci[0], "ci_high": v.ci[1],
                            "n": v.n, "family": v.family})
            elif hasattr(v, "prob"):
                out.append({"name": prefix + ".prob", "value": v.prob, "ci_low": v.prob_ci[0],
                            "ci_high": v.prob_ci[1], "n": v.at_risk, "family": "share"})
                if v.delay is not None:
                    walk(prefix + ".delay", v.delay)
            elif isinstance(v, dict) and "share" in v and "ci" in v:
                out.append({"name": prefix, "value": v["share"], "ci_low": v["ci"][0], "ci_high": v["ci"][1],
                            "n": v["n"], "family": "share"})
            elif isinstance(v, dict) and "mean" in v and "ci" in v:
                out.append({"name": prefix, "value": v["mean"], "ci_low": v["ci"][0], "ci_high": v["ci"][1],
                            "n": v["n"], "family": v.get("family", "mean")})
            elif isinstance(v, dict):
                for k, x in v.items():
                    walk(f"{prefix}.{k}" if prefix else str(k), x)
        walk("", self.estimates)
        return out


@dataclass
class Fit:
    """A fitted scenario and the report behind it."""

    scenario: Scenario
    report: FitReport
    data: dict

    def to_yaml(self) -> str:
        import yaml
        head = (f"# fitted by simcc fit from {self.report.records:,} call records "
                f"({len(self.report.days)} day(s): {self.report.days[0]} .. {self.report.days[-1]})\n")
        if self.report.warnings:
            head += "".join(f"# warning: {w}\n" for w in self.report.warnings)
        return head + yaml.safe_dump(self.data, sort_keys=False, allow_unicode=True, width=120,
                                     default_flow_style=None)

    def to_csv(self) -> str:
        return self.report.to_csv()

    def to_dict(self) -> dict:
        return {"scenario": self.data, "report": self.report.to_dict()}

    def __repr__(self) -> str:
        return f"<simcc.calibrate.Fit {self.scenario!r}, {len(self.report.warnings)} warning(s)>"


# ----------------------------------------------------------------------
def histories(rec: Records) -> dict[str, np.ndarray]:
    """Each attempt's place in its caller's history.

    ``kind``: first attempt, redial (after a block or an abandon) or repeat (after an answer);
    ``attempt``: attempts for this problem so far; ``returned``: the caller's next attempt is a
    redial or repeat of this one; ``delay``: from this attempt's end to that next attempt;
    ``horizon``: from this attempt's end to the end of its day (how long a return could be seen);
    ``after_block``: the previous attempt was blocked. Without caller ids every attempt is a first one.
    """
    n = len(rec)
    kind = np.zeros(n, dtype=np.int8)
    attempt = np.ones(n, dtype=np.int32)
    returned = np.zeros(n, dtype=bool)
    delay = np.full(n, np.nan)
    after_block = np.zeros(n, dtype=bool)
    end = rec.end_s()
    horizon = np.maximum((rec.day + 1) * 86_400.0 - end, 0.0)
    if rec.has_callers and n > 1:
        order = np.lexsort((rec.arrival_s, rec.caller))
        c, t, o = rec.caller[order], rec.arrival_s[order], rec.outcome[order]
        e, d = end[order], rec.day[order]
        same = (c[1:] == c[:-1]) & (t[1:] >= e[:-1]) & (d[1:] == d[:-1])
        prev_out = o[:-1]
        k = np.where(~same, FIRST, np.where(np.isin(prev_out, LOST), REDIAL,
                                            np.where(prev_out == ANSWERED, REPEAT, FIRST)))
        ks = np.concatenate([[FIRST], k]).astype(np.int8)
        # attempt numbers: 1 + the run of redials before this attempt
        starts = ks != REDIAL
        run_id = np.cumsum(starts) - 1
        first_of_run = np.flatnonzero(starts)
        att = (np.arange(n) - first_of_run[run_id] + 1).astype(np.int32)
        ret = np.concatenate([ks[1:] != FIRST, [False]])
        dl = np.full(n, np.nan)
        dl[:-1] = np.where(ret[:-1], t[1:] - e[:-1], np.nan)
        ab = np.concatenate([[False], same & (prev_out == BLOCKED)])
        kind[order], attempt[order], returned[order], delay[order], after_block[order] = ks, att, ret, dl, ab
    return {"kind": kind, "attempt": attempt, "returned": returned, "delay": delay, "horizon": horizon,
            "after_block": after_block, "end": end}


def _share(k: int, n: int) -> dict:
    return {"share": (k / n) if n else math.nan, "ci": proportion_ci(k, n), "n": n}


def fit(records: Records, *, interval_minutes: int | None = None, base: Scenario | None = None,
        agents: str | os.PathLike | None = None, name: str = "fitted", sla: dict | None = None,
        min_samples: int = MIN_SAMPLES, period: str = "day") -> Fit:
    """A scenario fitted from call records, with a report of every estimate.

    Parameters
    ----------
    records : from :func:`simcc.calibrate.read_records`.
    interval_minutes : 15, 30 or 60: the arrival profile's resolution (default: the base scenario's, else 30).
    base : a scenario giving the structure (groups and skills, routing, trunks, SLA, headcount,
        outbound work); without one they are inferred from the records (see docs/calibration.md).
    agents : headcount records (CSV ``interval_start, group, agents``); the mean over recorded days is used.
    name : the fitted scenario's name.
    sla : an ``sla`` section for the scenario (without ``base``).
    min_samples : below this many observations a tier's or group's estimate falls back to the pooled one.
    period : ``day`` (a typical day: every recorded day averaged) or ``week`` (a Monday-to-Sunday
        scenario: each weekday's profile and headcount averaged over the recorded days of that weekday).
    """
    rec = records
    if interval_minutes is None:
        interval_minutes = base.interval_minutes if base is not None else 30
    if interval_minutes not in (15, 30, 60):
        raise RecordsError([Problem("interval_minutes", f"{interval_minutes} is not 15, 30 or 60")])
    if base is not None and base.interval_minutes != interval_minutes:
        raise RecordsError([Problem("interval_minutes", f"{interval_minutes} differs from the base scenario's "
                                                        f"{base.interval_minutes}")])
    if period not in ("day", "week"):
        raise RecordsError([Problem("period", f"{period!r} is not 'day' or 'week'")])
    p_day = 24 * 60 // interval_minutes
    P = p_day * (7 if period == "week" else 1)
    if base is not None and base.n_intervals != P and period == "week":
        raise RecordsError([Problem("period", f"a week has {P} intervals of {interval_minutes} min; the base "
                                              f"scenario has {base.n_intervals}")])
    if base is not None:
        P = base.n_intervals
    I = interval_minutes * 60.0
    report = FitReport(len(rec), list(rec.days), dict(rec.skipped))
    warn = report.warnings.append
    est = report.estimates
    h = histories(rec)
    kind = h["kind"]
    if not rec.has_callers:
        warn("no caller_id column: redials and repeat calls cannot be told from first attempts, so every "
             "attempt counts as an arrival and no redial or repeat habit is fitted")
    n_days = len(rec.days)
    types = list(rec.call_types)
    tiers = list(base.tiers) if base is not None else _tier_order(rec)
    tier_ix = {t: i for i, t in enumerate(rec.tiers)}
    interval = ((rec.arrival_s - rec.day * 86_400.0) // I).astype(np.int64)
    weekday = np.array([date.fromisoformat(d).weekday() for d in rec.days], dtype=np.int64)
    if period == "week":
        interval = np.where(interval < p_day, weekday[rec.day] * p_day + interval, P)
        days_of = np.bincount(weekday, minlength=7)       # recorded days per weekday
        missing = [calendar.day_name[w] for w in range(7) if days_of[w] == 0]
        if missing:
            warn(f"no records on {', '.join(missing)}: no calls and no agents on those days of the week")
        per_slot = np.maximum(np.repeat(days_of, p_day), 1).astype(np.float64)    # days behind each interval
    else:
        per_slot = np.full(P, float(n_days))
    in_horizon = interval < P
    if not in_horizon.all():
        warn(f"{int((~in_horizon).sum()):,} attempts arrived after the scenario's {P * I / 3600:g} h day; "
             "they are left out of the arrival profile")
    interval = np.minimum(interval, P - 1)
    first = (kind == FIRST) & in_horizon

    # ---------------- arrivals: first attempts, per entry stream
    streams = []
    est["arrivals"] = {}
    totals = np.zeros(n_days)
    for e, entry in enumerate(rec.entries):
        sel = first & (rec.entry == e)
        counts = np.zeros((n_days, P))
        np.add.at(counts, (rec.day[sel], interval[sel]), 1)
        totals += counts.sum(axis=1)
        mean = counts.sum(axis=0) / per_slot
        daily = counts.sum(axis=1)
        dm = float(daily.mean())
        if n_days == 1:     # one day: the Poisson interval of its count
            half = 1.96 * math.sqrt(dm)
        else:
            from scipy import stats
            half = float(stats.t.ppf(0.975, n_days - 1) * daily.std(ddof=1) / math.sqrt(n_days))
        st: dict[str, Any] = {"name": entry if entry != "ivr" else "ivr", "entry": entry,
                              "calls": [float(round(v, 3)) for v in mean]}
        tier_counts = np.bincount(rec.tier[sel], minlength=len(rec.tiers))
        if len(tiers) > 1:
            tot = tier_counts.sum()
            st["tiers"] = {t: float(tier_counts[tier_ix[t]] / tot) if t in tier_ix and tot else 0.0
                           for t in tiers}
            est["arrivals"][f"{entry}.tier_share"] = {
                t: _share(int(tier_counts[tier_ix[t]]), int(tot)) for t in tiers if t in tier_ix}
        est["arrivals"][f"{entry}.daily_calls"] = {"mean": dm, "ci": (dm - half, dm + half),
                                                   "n": n_days, "family": "mean"}
        streams.append(st)
    volume_cv = 0.0
    if n_days >= 3 and period == "week":
        # each day's total against its weekday's mean: Var(ratio) = 1/mean + cv^2
        wmean = np.array([totals[weekday == w].mean() if (weekday == w).any() else 0.0 for w in range(7)])
        ok = wmean[weekday] > 0
        ratio = totals[ok] / wmean[weekday][ok]
        cv2 = float(ratio.var(ddof=1) - np.mean(1.0 / wmean[weekday][ok])) if ok.sum() >= 3 else 0.0
        volume_cv = math.sqrt(max(cv2, 0.0))
        est["volume_cv"] = {"mean": volume_cv, "ci": (math.nan, math.nan), "n": n_days, "family": "moments"}
    elif n_days >= 3:
        m, v = float(totals.mean()), float(totals.var(ddof=1))
        volume_cv = math.sqrt(max(v - m, 0.0)) / m if m > 0 else 0.0
        est["volume_cv"] = {"mean": volume_cv, "ci": (math.nan, math.nan), "n": n_days, "family": "moments"}
    elif n_days < 3:
        warn(f"{n_days} recorded day(s): day-to-day volume variation (volume_cv) needs at least 3; set to 0")

    # ---------------- IVR
    ivr_data = None
    if "ivr" in rec.entries:
        e = rec.entries.index("ivr")
        on_ivr = (rec.entry == e) & (rec.outcome != BLOCKED)
        fresh = on_ivr & ((kind == FIRST) | h["after_block"])
        n_fresh = int(fresh.sum())
        if "ivr_s" not in rec.present:
            warn("no ivr_s column: the IVR menu time is set to 0")
            menu_time: dict = {"dist": "deterministic", "value_s": 0.0}
        else:
            t_est = fit_duration(rec.ivr_s[on_ivr])
            est["ivr.menu_time"] = t_est
            menu_time = t_est.spec
        n_cont = int((fresh & (rec.outcome == CONTAINED)).sum())
        n_hang = int((fresh & (rec.outcome == IVR_ABANDONED)).sum())
        est["ivr.contained"] = _share(n_cont, n_fresh)
        est["ivr.hangup"] = _share(n_hang, n_fresh)
        # menu shares from first attempts only: which blocked callers redial depends on their need
        routed = fresh & (kind == FIRST) & (rec.call_type >= 0) & ~np.isin(rec.outcome, (CONTAINED, IVR_ABANDONED))
        menu = _menu(rec, routed, types)
        ivr_data = {"menu_time": menu_time, "contained": round(n_cont / n_fresh, 5) if n_fresh else 0.0,
                    "hangup": round(n_hang / n_fresh, 5) if n_fresh else 0.0,
                    "menu": {k: v["share"] for k, v in menu.items()}}
        est["ivr.menu"] = menu
        by_tier = {}
        for t in tiers:
            if t not in tier_ix:
                continue
            sel = routed & (rec.tier == tier_ix[t])
            if sel.sum() < min_samples:
                warn(f"IVR menu of tier {t}: {int(sel.sum())} routed calls (< {min_samples}); pooled menu used")
                continue
            m_t = _menu(rec, sel, types)
            est[f"ivr.menu_by_tier.{t}"] = m_t
            by_tier[t] = {k: v["share"] for k, v in m_t.items()}
        if len(by_tier) > 0 and len(tiers) > 1:
            ivr_data["menu_by_tier"] = by_tier

    # ---------------- call types
    call_types: dict[str, dict] = {}
    handling: dict[str, dict[str, dict]] = {}
    max_attempt_all = int(h["attempt"].max(initial=1))
    for k, tname in enumerate(types):
        mine = rec.call_type == k
        ct: dict[str, Any] = {}
        e_k: dict[str, Any] = {}
        queued = mine & np.isin(rec.outcome, WAITED)     # balkers did not wait: they are not patience data
        ev_mask = queued & (rec.outcome == ABANDONED)
        ce_mask = queued & (rec.outcome != ABANDONED)
        pat = fit_patience(rec.wait_s[ev_mask], rec.wait_s[ce_mask])
        e_k["patience"] = pat
        ct["patience"] = pat.spec
        pbt = {}
        if len(tiers) > 1:
            for t in tiers:
                if t not in tier_ix:
                    continue
                tl = rec.tier == tier_ix[t]
                if (ev_mask & tl).sum() < min_samples:
                    if (queued & tl).any():
                        warn(f"patience of {tname}, tier {t}: {int((ev_mask & tl).sum())} abandons "
                             f"(< {min_samples}); the pooled estimate is used")
                    continue
                pt = fit_patience(rec.wait_s[ev_mask & tl], rec.wait_s[ce_mask & tl])
                e_k[f"patience_by_tier.{t}"] = pt
                pbt[t] = pt.spec
        if pbt:
            ct["patience_by_tier"] = pbt
        n_balk = int((mine & (rec.outcome == BALKED)).sum())
        if n_balk:
            # callers who had to wait: balkers, and those who waited (answered after a wait, or left the queue)
            had_to_wait = n_balk + int((queued & ((rec.wait_s > 0) | (rec.outcome != ANSWERED))).sum())
            e_k["balking"] = _share(n_balk, had_to_wait)
            ct["balking"] = {"prob": round(n_balk / had_to_wait, 5)}
        for code, action in ((MESSAGE, "message"), (DISCONNECTED, "disconnect")):
            sent = mine & (rec.outcome == code)
            if sent.any():
                limit = float(np.median(rec.wait_s[sent]))
                e_k["max_wait"] = {"mean": limit, "ci": (float(rec.wait_s[sent].min()),
                                                         float(rec.wait_s[sent].max())),
                                   "n": int(sent.sum()), "family": f"median wait before {action}"}
                ct["max_wait"] = {"after_s": round(limit, 3), "action": action}
        ans = mine & (rec.outcome == ANSWERED)
        n_ans = int(ans.sum())
        if n_ans == 0:
            warn(f"call type {tname}: no answered calls; talk time set to 1 s as a placeholder")
            ct["talk"] = {"dist": "deterministic", "value_s": 1.0}
        else:
            if n_ans < min_samples:
                warn(f"call type {tname}: {n_ans} answered calls (< {min_samples}); estimates are rough")
            parts = _handling(rec, ans)
            e_k.update(parts["estimates"])
            ct.update(parts["spec"])
            # a group whose mean differs clearly from the pooled one gets its own handling
            for g, gname in enumerate(rec.groups):
                sel = ans & (rec.group == g)
                if sel.sum() < min_samples:
                    continue
                gp = _handling(rec, sel)
                over = {}
                for key in ("talk", "hold", "acw"):
                    pe, ge = parts["estimates"].get(key), gp["estimates"].get(key)
                    if pe is None or ge is None or not (ge.ci[0] > pe.ci[1] or ge.ci[1] < pe.ci[0]):
                        continue
                    over[key] = gp["spec"][key]
                    e_k[f"{key}_by_group.{gname}"] = ge
                hp_p, hp_g = parts["estimates"].get("hold_prob"), gp["estimates"].get("hold_prob")
                if hp_p and hp_g and (hp_g["ci"][0] > hp_p["ci"][1] or hp_g["ci"][1] < hp_p["ci"][0]):
                    over["hold_prob"] = gp["spec"]["hold_prob"]
                    e_k[f"hold_prob_by_group.{gname}"] = hp_g
                if over:
                    handling.setdefault(gname, {})[tname] = over
        if rec.has_callers:
            lost = mine & np.isin(rec.outcome, LOST)
            max_att = int(h["attempt"][mine].max(initial=1))
            if (lost & h["returned"]).any():
                risk = lost & (h["attempt"] < max_att)
                r = fit_return(h["delay"][risk & h["returned"]], h["horizon"][risk & ~h["returned"]],
                               int(risk.sum()))
                e_k["redial"] = r
                if r.delay is not None:
                    ct["redial"] = {"prob": round(r.prob, 5), "delay": r.delay.spec, "max_attempts": max_att}
            if (ans & h["returned"]).any():
                r = fit_return(h["delay"][ans & h["returned"]], h["horizon"][ans & ~h["returned"]], n_ans,
                               families=("exponential", "lognormal"))
                e_k["repeat"] = r
                if r.delay is not None:
                    ct["fcr"] = round(1 - r.prob, 5)
                    ct["repeat_delay"] = r.delay.spec
        est[f"call_types.{tname}"] = e_k
        call_types[tname] = ct
    if rec.has_callers and max_attempt_all > 1:
        blocked_ivr = (rec.outcome == BLOCKED) & (rec.call_type < 0)
        if blocked_ivr.any():
            est["blocked_redial_share"] = _share(int((blocked_ivr & h["returned"]).sum()), int(blocked_ivr.sum()))

    # ---------------- the center: groups, headcount, trunks, routing, SLA
    if base is not None:
        data = base.model_dump(mode="json", exclude_none=True)
        unknown = sorted(set(types) - set(data["call_types"]))
        if unknown:
            raise RecordsError([Problem("call_type", f"'{u}' is in the records but not in the base scenario "
                                                     f"(its call types: {', '.join(data['call_types'])})")
                                for u in unknown])
        for tname, ct in call_types.items():
            kept = {k: v for k, v in data["call_types"][tname].items() if k in ("transfer", "callback")}
            data["call_types"][tname] = {**ct, **kept}
        if ivr_data is not None:
            data["ivr"] = ivr_data
        data["arrivals"] = streams
        data["volume_cv"] = round(volume_cv, 5)
        data["interval_minutes"] = interval_minutes
        data["intervals"] = P
        data.pop("warmup_minutes", None)
        for grp in data["groups"]:
            grp["handling"] = handling.get(grp["name"], {})
        if agents is not None:
            _apply_headcount(data, read_headcount(agents, interval_minutes, week=period == "week"), warn)
    else:
        groups = _groups(rec, types, handling, warn)
        heads = read_headcount(agents, interval_minutes, week=period == "week") if agents is not None else None
        data = {"name": name, "description": f"fitted from {len(rec):,} call records",
                "interval_minutes": interval_minutes, "intervals": P, "tiers": tiers,
                "volume_cv": round(volume_cv, 5), "call_types": call_types}
        if ivr_data is not None:
            data["ivr"] = ivr_data
        data["arrivals"] = streams
        data["groups"] = groups
        if heads is not None:
            _apply_headcount(data, heads, warn)
        else:
            _placeholder_headcount(data, rec, interval, P, I, warn, per_slot)
        trunks = _trunks(rec, h["end"])
        if trunks is not None:
            data["trunks"] = trunks
            est["trunks"] = {"mean": trunks, "ci": (math.nan, math.nan), "n": int((rec.outcome == BLOCKED).sum()),
                             "family": "most lines busy at once"}
        if sla:
            data["sla"] = sla
    data["name"] = f"{base.name}-fitted" if base is not None and name == "fitted" else name
    scenario = from_dict(data)
    return Fit(scenario, report, data)


def _tier_order(rec: Records) -> list[str]:
    """Tiers highest priority first: 'standard' (or the biggest tier) last, the others by size, smallest first."""
    counts = np.bincount(rec.tier, minlength=len(rec.tiers))
    order = sorted(range(len(rec.tiers)), key=lambda i: (rec.tiers[i] == "standard", counts[i]))
    return [rec.tiers[i] for i in order]


def _menu(rec: Records, sel, types) -> dict:
    counts = np.bincount(rec.call_type[sel], minlength=len(types))
    n = int(counts.sum())
    return {t: _share(int(counts[i]), n) for i, t in enumerate(types) if counts[i] > 0}


def _handling(rec: Records, ans) -> dict:
    n = int(ans.sum())
    out_e: dict[str, Any] = {}
    spec: dict[str, Any] = {}
    talk = fit_duration(rec.talk_s[ans])
    out_e["talk"], spec["talk"] = talk, talk.spec
    if "hold_s" in rec.present:
        held = ans & (rec.hold_s > 0)
        nh = int(held.sum())
        out_e["hold_prob"] = _share(nh, n)
        spec["hold_prob"] = round(nh / n, 5)
        if nh:
            hold = fit_duration(rec.hold_s[held])
            out_e["hold"], spec["hold"] = hold, hold.spec
    if "acw_s" in rec.present:
        acw = rec.acw_s[ans]
        if np.any(acw > 0):
            a = fit_duration(acw)
            out_e["acw"], spec["acw"] = a, a.spec
    return {"estimates": out_e, "spec": spec}


def _groups(rec: Records, types, handling, warn) -> list[dict]:
    ans = rec.outcome == ANSWERED
    table = np.zeros((len(rec.groups), len(types)), dtype=np.int64)
    np.add.at(table, (rec.group[ans], rec.call_type[ans]), 1)
    out = []
    for g, gname in enumerate(rec.groups):
        row = table[g]
        skills = {}
        for k, t in enumerate(types):
            if row[k] == 0 or row[k] < SKILL_MIN_SHARE * row.sum():
                continue
            share_of_type = row[k] / max(table[:, k].sum(), 1)
            skills[t] = 1 if share_of_type >= PRIMARY_SHARE else 2
        if not skills:
            continue
        grp: dict[str, Any] = {"name": gname, "skills": skills, "agents": 0}
        if handling.get(gname):
            grp["handling"] = handling[gname]
        out.append(grp)
    unserved = [t for k, t in enumerate(types) if table[:, k].sum() == 0]
    if unserved:
        warn(f"no group answered {', '.join(unserved)}: they have no skill in the fitted scenario")
    warn("skills and levels are inferred from who answered what (level 1 where a group took at least "
         f"{PRIMARY_SHARE:.0%} of a type's calls); check them against the ACD's routing")
    return out


def read_headcount(path, interval_minutes: int, week: bool = False) -> dict[str, np.ndarray]:
    """Headcount records (``interval_start, group, agents``): the mean per group and interval over days
    (with ``week``, per interval of the week over the days of each weekday)."""
    import pandas as pd
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError) as exc:
        raise RecordsError([Problem("agents", f"cannot read {os.fspath(path)}: {exc}")]) from None
    need = [c for c in ("interval_start", "group", "agents") if c not in frame.columns]
    if need:
        raise RecordsError([Problem(c, "column missing in the headcount file") for c in need],
                           source=os.fspath(path))
    t = pd.to_datetime(frame["interval_start"], format="ISO8601", errors="coerce")
    a = pd.to_numeric(frame["agents"], errors="coerce")
    problems = [Problem("interval_start", f"'{frame['interval_start'].iat[i]}' is not a timestamp", i + 2)
                for i in np.flatnonzero(t.isna().to_numpy())[:20]]
    problems += [Problem("agents", f"'{frame['agents'].iat[i]}' is not a headcount (a whole number >= 0)", i + 2)
                 for i in np.flatnonzero((a.isna() | (a < 0) | (a % 1 != 0)).to_numpy())[:20]]
    if problems:
        raise RecordsError(problems, source=os.fspath(path))
    I = interval_minutes * 60
    secs = (t - t.dt.normalize()).dt.total_seconds().to_numpy()
    p = (secs // I).astype(int)
    days = t.dt.normalize()
    out = {}
    P = 24 * 60 // interval_minutes
    for gname in sorted(frame["group"].unique()):
        sel = (frame["group"] == gname).to_numpy()
        per_day: dict = {}
        for d, pi, n in zip(days[sel], p[sel], a[sel]):
            per_day.setdefault(d, np.zeros(P))[pi] = n
        if not week:
            out[gname] = np.mean(list(per_day.values()), axis=0)
            continue
        sums, seen = np.zeros(7 * P), np.zeros(7)
        for d, row in per_day.items():
            w = d.weekday()
            sums[w * P:(w + 1) * P] += row
            seen[w] += 1
        out[gname] = sums / np.maximum(np.repeat(seen, P), 1)
    return out


def _apply_headcount(data, heads, warn) -> None:
    names = {g["name"] for g in data["groups"]}
    for extra in sorted(set(heads) - names):
        warn(f"headcount file names group {extra}, which answered no call; ignored")
    for g in data["groups"]:
        if g["name"] in heads:
            g.pop("roster", None)
            g["agents"] = [int(round(v)) for v in heads[g["name"]]]
        else:
            warn(f"no headcount for group {g['name']} in the headcount file")


def _placeholder_headcount(data, rec: Records, interval, P, I, warn, per_slot) -> None:
    ans = rec.outcome == ANSWERED
    work = rec.talk_s + rec.hold_s + rec.acw_s
    for g in data["groups"]:
        gi = rec.groups.index(g["name"])
        sel = ans & (rec.group == gi) & (interval < P)
        load = np.bincount(interval[sel], weights=work[sel], minlength=P)[:P] / (I * per_slot)
        g["agents"] = [int(math.ceil(v / PLACEHOLDER_OCCUPANCY)) if v > 0 else 0 for v in load]
    warn("no headcount records (--agents): agents per interval are a placeholder, the answered load at "
         f"{PLACEHOLDER_OCCUPANCY:.0%} occupancy; give the real headcount to backtest")


def _trunks(rec: Records, end) -> int | None:
    """Trunk lines, when some attempts were blocked: the lines busy at the instants calls were blocked
    (the most common count; every line is busy then), with exports' rounding of times (a few ms) allowed for."""
    blocked = rec.outcome == BLOCKED
    if not blocked.any():
        return None
    tol = 0.005
    admitted = ~blocked
    starts = np.sort(rec.arrival_s[admitted])
    stops = np.sort(end[admitted])
    t = rec.arrival_s[blocked]
    busy = np.searchsorted(starts, t - tol, side="right") - np.searchsorted(stops, t + tol, side="right")
    values, counts = np.unique(busy, return_counts=True)
    return int(values[np.argmax(counts)])
