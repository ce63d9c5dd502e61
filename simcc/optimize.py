"""Staffing and trunk sizing by simulation, seeded by the Erlang formulas.

Two questions a capacity planner asks, answered for the whole center (IVR,
skills, tiers, trunks, abandonment, the queue carried from one interval to
the next), not for one Erlang queue:

* :func:`staff`: the fewest agents per interval and per group that meet every
  SLA line in every interval with a stated confidence;
* :func:`trunks`: the fewest trunk lines (and E1 groups of 30) that keep
  blocking under a target in every interval.

Both search with *common random numbers*: every candidate is simulated with
the same seed and replications, so two staffing levels see the same callers
and the comparison between them is not blurred by sampling noise.

The confidence rule
-------------------
An interval meets an "at least" line (service level) when a one-sided lower
confidence bound of its mean over replications is at least the target, and an
"at most" line (abandonment, occupancy, blocking) when the one-sided upper
bound is at most the target::

    bound = mean -/+ t(level, R - 1) * sd / sqrt(R)

By default (``joint=True``) the statement covers the whole day at once: with
``confidence=0.95``, m interval checks (intervals x SLA lines) are each made
at ``level = 1 - 0.05 / m`` (Bonferroni), so "every interval meets every
target in expectation" holds with 95% confidence. ``joint=False`` makes each
interval's check at 95% on its own (about one interval in twenty may then
miss its target in expectation); ``confidence=None`` compares plain means
(what an Erlang calculator states, but a fresh seed then misses the target in
about half of the tight intervals). Per-interval KPIs are those of
:meth:`simcc.Result.by_interval`: calls counted in the interval they arrive
in, the service level as defined by the scenario's SLA block.

Common random numbers are only partly synchronised across candidates: the
kernel draws talk, HOLD and ACW times in the order calls are answered, so one
agent more or fewer at 09:00 re-deals those times for the rest of the day.
Arrivals, IVR and patience stay synchronised. The search therefore judges
every candidate on the whole day, and :meth:`StaffingPlan.one_fewer_where`
says whether one agent fewer fails at the interval itself or only at a
distant, marginal interval.
"""
from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from . import erlang as erl
from .results import INTERVAL_KPIS, mean_ci, t_quantile
from .scenario import Scenario, dist_mean
from .simulate import simulate

__all__ = [
    "AgentLoad", "ErlangBaseline", "StaffingPlan", "TrunkPlan", "Verification",
    "agent_load", "erlang_baseline", "parse_share", "parse_target", "staff", "trunks",
    "E1_CHANNELS", "SCENARIO",
]

#: Channels in one E1 trunk group.
E1_CHANNELS = 30
#: Default for targets: take the value from the scenario's SLA block.
SCENARIO = "scenario"

_K = {name: i for i, name in enumerate(INTERVAL_KPIS)}


# --------------------------------------------------------------------------
# Targets as planners type them
# --------------------------------------------------------------------------
def parse_target(text: str) -> tuple[float, float]:
    """``"90/15"`` -> ``(0.90, 15.0)``: share answered within so many seconds.

    Examples
    --------
    >>> parse_target("90/15")
    (0.9, 15.0)
    >>> parse_target("80 / 20s")
    (0.8, 20.0)
    """
    m = re.fullmatch(r"\s*(\d+(?:\.\d*)?)\s*%?\s*/\s*(\d+(?:\.\d*)?)\s*s?\s*", str(text))
    if not m:
        raise ValueError(f'write the target as PERCENT/SECONDS, e.g. "90/15", not {text!r}')
    pct, within = float(m.group(1)), float(m.group(2))
    if not 0 < pct < 100:
        raise ValueError(f"the service-level percent must be above 0 and below 100, not {pct:g}")
    return round(pct / 100, 12), within


def parse_share(text, name: str = "value") -> float:
    """A percentage as typed: ``"5%"`` or ``"5"`` -> ``0.05`` (always read as percent).

    Examples
    --------
    >>> parse_share("5%"), parse_share("0.5"), parse_share(90)
    (0.05, 0.005, 0.9)
    """
    m = re.fullmatch(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*%?\s*", str(text))
    if not m:
        raise ValueError(f'{name} must be a percentage such as "5%" or "5", not {text!r}')
    pct = float(m.group(1))
    if not 0 < pct < 100:
        raise ValueError(f"{name} must be above 0% and below 100%, not {pct:g}%")
    return round(pct / 100, 12)


def _share_arg(x, name):
    if x is None:
        return None
    x = float(x)
    if not 0 < x < 1:
        hint = f" (give a share: {x / 100:g} for {x:g}%)" if 1 <= x < 100 else ""
        raise ValueError(f"{name} must be a share strictly between 0 and 1, not {x!r}{hint}")
    return x


# --------------------------------------------------------------------------
# Erlang baseline: the whole center as one Erlang queue per interval
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class AgentLoad:
    """Expected work reaching agents per interval (before any queueing).

    ``calls`` excludes calls contained in or abandoned in the IVR; ``aht_s`` is
    the call-weighted talk + HOLD share x HOLD time + ACW of the call types'
    defaults; ``patience_s`` the call-weighted mean patience (``inf`` when most
    callers never hang up); ``calls_by_type`` is [P, K]. Redials, repeat
    calls, transfers, callbacks and outbound work are not in it (the
    simulation has them).
    """

    calls: np.ndarray
    aht_s: np.ndarray
    patience_s: np.ndarray
    calls_by_type: np.ndarray
    interval_s: float

    @property
    def offered_erlangs(self) -> np.ndarray:
        return self.calls * self.aht_s / self.interval_s


def agent_load(scenario: Scenario) -> AgentLoad:
    """Expected calls, handle time and patience that reach the agent queues, per interval."""
    types = list(scenario.call_types)
    tiers = list(scenario.tiers)
    P, K, L = scenario.n_intervals, len(types), len(tiers)
    calls = np.zeros((P, K, L))
    for a in scenario.arrivals:
        c = np.asarray(scenario.calls_per_interval(a), dtype=np.float64)
        for tier, share in (a.tiers or {tiers[0]: 1.0}).items():
            l = tiers.index(tier)
            if a.entry == "ivr":
                ivr = scenario.ivr
                reach = max(0.0, 1.0 - ivr.contained - ivr.hangup)
                for k, m in ivr.menu_by_tier.get(tier, ivr.menu).items():
                    calls[:, types.index(k), l] += c * share * reach * m
            else:
                calls[:, types.index(a.entry), l] += c * share
    aht = np.zeros(K)
    patience = np.zeros((K, L))
    for k, name in enumerate(types):
        ct = scenario.call_types[name]
        hold = dist_mean(ct.hold) if ct.hold is not None else 0.0
        acw = dist_mean(ct.acw) if ct.acw is not None else 0.0
        aht[k] = dist_mean(ct.talk) + ct.hold_prob * hold + acw
        for l, tier in enumerate(tiers):
            patience[k, l] = dist_mean(ct.patience_by_tier.get(tier, ct.patience))
    total = calls.sum(axis=(1, 2))
    by_type = calls.sum(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        aht_p = np.where(total > 0, (by_type * aht).sum(axis=1) / np.where(total > 0, total, 1), aht.mean())
        finite = np.isfinite(patience)
        fin_calls = (calls * finite).sum(axis=(1, 2))
        pat_p = np.where(fin_calls > 0, (calls * np.where(finite, patience, 0)).sum(axis=(1, 2)) / np.where(fin_calls > 0, fin_calls, 1), np.inf)
    never_share = np.where(total > 0, 1 - fin_calls / np.where(total > 0, total, 1), 0.0)
    pat_p = np.where(never_share > 0.5, np.inf, pat_p)
    return AgentLoad(total, aht_p, pat_p, by_type, scenario.interval_s)


@dataclass(frozen=True)
class ErlangBaseline:
    """Per-interval Erlang answers for the center pooled into one queue.

    ``erlang_a``: M/M/n+M with the interval's mean patience (Erlang C where
    callers never hang up); ``erlang_c``: M/M/n, no abandonment. Both meet the
    service-level target (and the abandonment and occupancy caps where given)
    in steady state; an interval with no calls needs 0.
    """

    load: AgentLoad
    erlang_a: np.ndarray
    erlang_c: np.ndarray


def erlang_baseline(scenario: Scenario, target_sl: float | None, within_s: float,
                    abandon_max: float | None = None, occupancy_max: float | None = None) -> ErlangBaseline:
    """Erlang A and Erlang C agents per interval (see :class:`ErlangBaseline`).

    Examples
    --------
    >>> import simcc
    >>> s = simcc.textbook.erlang(arrival_rate=100 / 1800, mean_talk_s=180, agents=14, hours=1)
    >>> erlang_baseline(s, 0.8, 20.0).erlang_c.tolist()
    [14, 14]
    """
    load = agent_load(scenario)
    occ = 1.0 if occupancy_max is None else occupancy_max
    na = np.zeros(len(load.calls), dtype=np.int64)
    nc = np.zeros(len(load.calls), dtype=np.int64)
    for p, (c, aht, pat) in enumerate(zip(load.calls, load.aht_s, load.patience_s)):
        if c <= 0:
            continue
        lam = c / load.interval_s
        sl = target_sl if target_sl is not None else 1e-9
        nc[p] = erl.erlang_c_agents(lam, aht, sl, within_s, max_occupancy=occ)
        if math.isinf(pat):          # callers never hang up: Erlang C (no abandonment to cap)
            n = nc[p]
        else:
            n = erl.erlang_a_agents(lam, aht, pat, sl, within_s, abandon_max=abandon_max)
            while erl.erlang_a(n, lam, aht, pat, within_s).occupancy > occ:
                n += 1
        na[p] = n
    return ErlangBaseline(load, na, nc)


# --------------------------------------------------------------------------
# Evaluating one staffing (all intervals together, fixed seed)
# --------------------------------------------------------------------------
def _bounds(x: np.ndarray, confidence: float | None):
    """(mean, lower, upper) over axis 0 with the one-sided rule; NaN-aware."""
    mean, _, _ = mean_ci(x)
    if confidence is None:
        return mean, mean, mean
    n = np.sum(~np.isnan(x), axis=0)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        sd = np.nanstd(x, axis=0, ddof=1) if x.shape[0] > 1 else np.full(np.shape(mean), np.nan)
    tq = np.array([t_quantile(confidence, int(d)) if d >= 1 else np.nan for d in np.ravel(n - 1)]).reshape(np.shape(n))
    half = np.where(n > 1, tq * sd / np.sqrt(np.maximum(n, 1)), 0.0)   # one valid replication: the mean
    return mean, mean - half, mean + half


@dataclass
class _Eval:
    agents: np.ndarray          # [P, G]
    result: object              # simcc.Result
    sl: tuple                   # (mean, low, high) per interval
    ab: tuple
    occ: tuple
    fail: np.ndarray            # [P] bool
    reason: list                # [P] str
    type_deficit: np.ndarray    # [P, K] calls short of the targets, pooled over replications
    group_occ: np.ndarray       # [P, G]


class _Evaluator:
    """Simulates a staffing matrix with a fixed seed (CRN) and checks the rule per interval."""

    def __init__(self, base: Scenario, seed, replications: int, engine: str, confidence, target_sl,
                 abandon_max, occupancy_max, measured: np.ndarray, progress=None, max_events=None):
        self.base = base
        self.seed = seed
        self.replications = replications
        self.engine = engine
        self.confidence = confidence
        self.target_sl = target_sl
        self.abandon_max = abandon_max
        self.occupancy_max = occupancy_max
        self.measured = measured
        self.progress = progress
        self.max_events = max_events
        self.cache: dict[bytes, _Eval] = {}
        self.count = 0
        self.skills = [dict(g.skills) for g in base.groups]
        self.types = list(base.call_types)

    def scenario(self, agents: np.ndarray) -> Scenario:
        groups = []
        for g, grp in enumerate(self.base.groups):
            d = grp.model_dump(mode="python")
            col = [int(v) for v in agents[:, g]]
            d["agents"] = col[0] if len(set(col)) == 1 else col
            d.pop("roster", None)       # the plan's headcount replaces a roster
            groups.append(d)
        return self.base.with_changes(groups=groups)

    def __call__(self, agents: np.ndarray) -> _Eval:
        agents = np.asarray(agents, dtype=np.int64)
        key = agents.tobytes()
        if key in self.cache:
            return self.cache[key]
        scn = self.scenario(agents)
        kw = dict(seed=self.seed, replications=self.replications, engine=self.engine)
        if self.max_events is not None:
            kw["max_events"] = self.max_events
        res = simulate(scn, **kw)
        self.count += 1
        if self.progress is not None:
            self.progress(self.count)
        iv = res.intervals                                    # [R, P, KPI]
        sl = _bounds(iv[:, :, _K["service_level"]], self.confidence)
        ab = _bounds(iv[:, :, _K["abandon_rate"]], self.confidence)
        occ = _bounds(iv[:, :, _K["occupancy"]], self.confidence)
        P = agents.shape[0]
        fail = np.zeros(P, dtype=bool)
        reason = [""] * P
        for p in range(P):
            if not self.measured[p]:
                continue
            why = []
            if self.target_sl is not None and not np.isnan(sl[1][p]) and sl[1][p] < self.target_sl - 1e-12:
                why.append("service level")
            if self.abandon_max is not None and not np.isnan(ab[2][p]) and ab[2][p] > self.abandon_max + 1e-12:
                why.append("abandonment")
            if self.occupancy_max is not None and not np.isnan(occ[2][p]) and occ[2][p] > self.occupancy_max + 1e-12:
                why.append("occupancy")
            fail[p] = bool(why)
            reason[p] = ", ".join(why)
        ev = _Eval(agents, res, sl, ab, occ, fail, reason, *self._diagnostics(res, P, agents.shape[1]))
        self.cache[key] = ev
        return ev

    def _diagnostics(self, res, P, G):
        """Per call type: calls short of the SL / abandonment targets; per group: occupancy (pooled)."""
        t = getattr(res, "totals", {}) or {}
        K = len(self.types)
        deficit = np.zeros((P, K))
        try:
            q = t["queued"].reshape(P, K, -1).sum(axis=2) - t["abandoned_short"].reshape(P, K, -1).sum(axis=2)
            if self.target_sl is not None:
                aw = t["answered_within"].reshape(P, K, -1).sum(axis=2)
                deficit += np.maximum(0.0, self.target_sl * q - aw)
            if self.abandon_max is not None:
                ab = t["abandoned"].reshape(P, K, -1).sum(axis=2) - t["abandoned_short"].reshape(P, K, -1).sum(axis=2)
                deficit += np.maximum(0.0, ab - self.abandon_max * q)
            staffed = t["staffed_s"]
            busy = t["service_busy_s"] + t["acw_busy_s"]
            with np.errstate(invalid="ignore", divide="ignore"):
                gocc = np.where(staffed > 0, busy / np.where(staffed > 0, staffed, 1), 0.0)
        except (KeyError, ValueError):   # pragma: no cover - a results layout we do not know: occupancy only
            gocc = np.zeros((P, G))
        return deficit, gocc

    # which group gains / loses an agent in interval p ------------------------
    def groups_to_add(self, ev: _Eval, p: int, agents: np.ndarray, k: int) -> list[int]:
        """``k`` groups (with repeats) to give one more agent each in interval p: in proportion to how far the
        call types each group serves (weighted by 1 / skill level) are short of the targets; else the busiest."""
        G = agents.shape[1]
        score = np.zeros(G)
        for g in range(G):
            for t, level in self.skills[g].items():
                score[g] += ev.type_deficit[p, self.types.index(t)] / level
        if score.max() <= 0:
            busiest = sorted(range(G), key=lambda g: (-ev.group_occ[p, g], g))[0]
            return [busiest] * k
        share = _split(k, score, np.zeros(G, dtype=np.int64))
        out = []
        for g in sorted(range(G), key=lambda g: (-score[g], g)):
            out += [g] * int(share[g])
        return out

    def groups_to_remove(self, ev: _Eval, p: int, agents: np.ndarray, floor: np.ndarray) -> list[int]:
        G = agents.shape[1]
        cand = [g for g in range(G) if agents[p, g] > floor[p, g]]
        return sorted(cand, key=lambda g: (ev.group_occ[p, g], -agents[p, g], g))


# --------------------------------------------------------------------------
# The staffing plan
# --------------------------------------------------------------------------
@dataclass
class Verification:
    """A fresh run of a plan with another seed: does every interval still meet the targets?"""

    seed: int
    replications: int
    result: object
    interval_passed: np.ndarray      # [P] True / False (None-free: unmeasured intervals pass)
    interval_mean_passed: np.ndarray  # [P] the plain mean meets the targets
    sla: list

    @property
    def passed(self) -> bool:
        """Every interval meets the targets on the mean of the fresh run, and the day's SLA lines pass."""
        return bool(self.interval_mean_passed.all()) and all(line["passed"] is not False for line in self.sla)


@dataclass
class StaffingPlan:
    """What :func:`staff` found.

    Attributes
    ----------
    agents : ndarray [P, G]
        Required agents per interval and group.
    group_names : tuple
    erlang_a, erlang_c : ndarray [P]
        Erlang baseline for the center pooled into one queue.
    scheduled : ndarray [P]
        The scenario's own headcount (all groups).
    kpis : dict
        Per interval, from the final evaluation (search seed):
        ``{kpi: (mean, ci_low, ci_high)}`` with the two-sided 95% CI, for
        service_level, abandon_rate, occupancy, asa_s, offered, queued.
    bound : dict
        The one-sided bound the rule compared with the target, per line.
    passed : ndarray [P] of bool
    one_fewer : list
        Per interval checked by the descent: ``{group: {"fails_at": q, "time":
        "HH:MM", "reason": "service level"}}``, where the plan with one agent
        fewer in that group first fails (interval ``q``; ``fails_at`` None and
        reason "at floor" when the group cannot lose an agent); ``None`` when
        not checked. A removal that passed was kept, so every checked entry
        fails.
    measured : ndarray [P] of bool
        False for warm-up intervals (held at the Erlang answer, not searched).
    scenario : Scenario
        The scenario with the new headcount and the targets in its SLA block.
    source : Scenario
    result : Result
        The final evaluation.
    """

    agents: np.ndarray
    group_names: tuple
    erlang_a: np.ndarray
    erlang_c: np.ndarray
    scheduled: np.ndarray
    kpis: dict
    bound: dict
    passed: np.ndarray
    one_fewer: list
    measured: np.ndarray
    scenario: Scenario
    source: Scenario
    result: object
    targets: dict
    seed: object
    replications: int
    confidence: float | None
    evaluations: int
    engine: str = "kernel"
    history: list = field(default_factory=list)
    check_level: float | None = None      # the one-sided level of each interval check (Bonferroni when joint)
    n_checks: int = 1

    @property
    def interval_s(self) -> float:
        return self.scenario.interval_s

    @property
    def total(self) -> np.ndarray:
        """Required agents per interval, all groups."""
        return self.agents.sum(axis=1)

    def _hours(self, per_interval) -> float:
        return float(np.sum(per_interval) * self.interval_s / 3600.0)

    @property
    def agent_hours(self) -> float:
        return self._hours(self.total)

    @property
    def scheduled_agent_hours(self) -> float:
        return self._hours(self.scheduled)

    @property
    def erlang_a_agent_hours(self) -> float:
        return self._hours(self.erlang_a)

    @property
    def erlang_c_agent_hours(self) -> float:
        return self._hours(self.erlang_c)

    @property
    def rule(self) -> str:
        """The confidence rule in words (printed with every plan)."""
        return _rule_text(self.targets, self.confidence, self.replications, self.seed, self.check_level,
                          self.n_checks)

    def one_fewer_fails(self) -> list:
        """Per interval: True when one agent fewer (in any group) fails some interval, None if not checked."""
        return [None if not x else True for x in self.one_fewer]

    def one_fewer_where(self) -> list:
        """Per interval: where one agent fewer fails, in words.

        ``"here"``: every removal fails in this interval or the next (through
        the queue carried over); ``"elsewhere"``: some removal still meets the
        targets here and in the next interval but tips a marginal interval
        later in the day. That is sampling noise, not queue carry-over: the
        simulation deals talk, HOLD and ACW times in the order calls are
        answered, so one agent fewer re-deals them for the rest of the day.
        ``"floor"``: no group can lose an agent; None: not checked.
        """
        out = []
        for p, x in enumerate(self.one_fewer):
            if not x:
                out.append(None)
                continue
            qs = [v["fails_at"] for v in x.values() if v["fails_at"] is not None]
            if not qs:
                out.append("floor")
            elif all(q <= p + 1 for q in qs):
                out.append("here")
            else:
                out.append("elsewhere")
        return out

    def table(self) -> dict[str, list]:
        """The per-interval table as columns (what ``simcc staff`` prints)."""
        P = len(self.total)
        start = np.arange(P) * self.interval_s
        cols: dict[str, list] = {"interval_start": start.tolist(),
                                 "time": [_hhmm(s) for s in start]}
        cols["required"] = self.total.tolist()
        if len(self.group_names) > 1:
            for g, name in enumerate(self.group_names):
                cols[f"agents_{name}"] = self.agents[:, g].tolist()
        cols["erlang_a"] = self.erlang_a.tolist()
        cols["erlang_c"] = self.erlang_c.tolist()
        cols["scheduled"] = self.scheduled.tolist()
        for k in ("offered", "service_level", "abandon_rate", "occupancy", "asa_s"):
            m, lo, hi = self.kpis[k]
            cols[k] = m.tolist()
            cols[f"{k}_ci_low"] = lo.tolist()
            cols[f"{k}_ci_high"] = hi.tolist()
        cols["passed"] = [bool(x) for x in self.passed]
        cols["one_fewer_fails"] = self.one_fewer_fails()
        cols["one_fewer_fails_where"] = self.one_fewer_where()
        cols["measured"] = [bool(x) for x in self.measured]
        return cols

    def to_csv(self) -> str:
        import csv
        import io
        cols = self.table()
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(list(cols))
        for p in range(len(self.total)):
            w.writerow([_cell(cols[c][p]) for c in cols])
        return buf.getvalue()

    def summary(self) -> dict:
        """Totals and the rule, JSON-ready."""
        return {
            "scenario": self.source.name,
            "rule": self.rule,
            "targets": dict(self.targets),
            "seed": self.seed,
            "replications": self.replications,
            "confidence": self.confidence,
            "check_level": self.check_level,
            "evaluations": self.evaluations,
            "agent_hours": self.agent_hours,
            "scheduled_agent_hours": self.scheduled_agent_hours,
            "erlang_a_agent_hours": self.erlang_a_agent_hours,
            "erlang_c_agent_hours": self.erlang_c_agent_hours,
            "peak_agents": int(self.total.max()) if len(self.total) else 0,
            "all_intervals_pass": bool(self.passed[self.measured].all()),
            "groups": list(self.group_names),
            "sl_definition": self.result.meta["sl_definition"]["text"],
        }

    def to_dict(self) -> dict:
        from .results import _jsonable
        return _jsonable({"summary": self.summary(), "intervals": self.table()})

    def verify(self, seed: int, replications: int | None = None, engine: str | None = None) -> Verification:
        """Run the plan again with a different seed (fresh random numbers) and check every interval.

        ``interval_passed`` uses the plan's confidence rule on the fresh run;
        ``interval_mean_passed`` the plain mean (is the target met on
        average?); ``sla`` is the scenario's day-level SLA report.
        """
        reps = replications or self.replications
        res = simulate(self.scenario, seed=seed, replications=reps, engine=engine or self.engine)
        iv = res.intervals
        strict = _check(iv, self.targets, self.check_level, self.measured)
        mean_ok = _check(iv, self.targets, None, self.measured)
        return Verification(seed, reps, res, ~strict, ~mean_ok, res.sla_report())

    def __repr__(self) -> str:
        return (f"<StaffingPlan {self.source.name!r}: {self.agent_hours:,.1f} agent-hours "
                f"(scenario {self.scheduled_agent_hours:,.1f}, Erlang A {self.erlang_a_agent_hours:,.1f}), "
                f"peak {int(self.total.max()) if len(self.total) else 0} agents, {self.evaluations} simulations>")


def _check(iv, targets, confidence, measured) -> np.ndarray:
    """Failing intervals of per-replication interval KPIs [R, P, KPI] under a rule."""
    sl = _bounds(iv[:, :, _K["service_level"]], confidence)
    ab = _bounds(iv[:, :, _K["abandon_rate"]], confidence)
    occ = _bounds(iv[:, :, _K["occupancy"]], confidence)
    fail = np.zeros(iv.shape[1], dtype=bool)
    with np.errstate(invalid="ignore"):
        if targets.get("service_level") is not None:
            fail |= np.nan_to_num(sl[1], nan=1.0) < targets["service_level"] - 1e-12
        if targets.get("abandon_max") is not None:
            fail |= np.nan_to_num(ab[2], nan=0.0) > targets["abandon_max"] + 1e-12
        if targets.get("occupancy_max") is not None:
            fail |= np.nan_to_num(occ[2], nan=0.0) > targets["occupancy_max"] + 1e-12
    return fail & measured


def _rule_text(targets, confidence, replications, seed, level=None, n_checks=1) -> str:
    parts = []
    if targets.get("service_level") is not None:
        parts.append(f"service level >= {100 * targets['service_level']:g}% within {targets['within_s']:g} s")
    if targets.get("abandon_max") is not None:
        parts.append(f"abandonment <= {100 * targets['abandon_max']:g}%")
    if targets.get("occupancy_max") is not None:
        parts.append(f"occupancy <= {100 * targets['occupancy_max']:g}%")
    lines = "; ".join(parts)
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


def _hhmm(seconds: float) -> str:
    m = int(round(seconds / 60))
    return f"{m // 60:02d}:{m % 60:02d}"


def _cell(x):
    if x is None:
        return ""
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, float):
        return "" if math.isnan(x) else repr(round(x, 6))
    return str(x)


def _split(total: int, shares: np.ndarray, floor: np.ndarray) -> np.ndarray:
    """Split ``total`` agents across groups by largest remainder, then lift groups to their floor."""
    G = len(shares)
    if shares.sum() <= 0:
        shares = np.ones(G)
    raw = total * shares / shares.sum()
    out = np.floor(raw).astype(np.int64)
    rest = total - out.sum()
    for g in np.argsort(-(raw - out), kind="stable")[:rest]:
        out[g] += 1
    for g in range(G):
        while out[g] < floor[g]:
            donor = max((h for h in range(G) if out[h] > floor[h]), key=lambda h: out[h], default=None)
            if donor is None:
                out[g] = floor[g]
                break
            out[donor] -= 1
            out[g] += 1
    return out


def _resolve(value, scenario_value, name):
    if isinstance(value, str) and value == SCENARIO:
        return scenario_value
    return _share_arg(value, name)


class _ErlangCurves:
    """Erlang A service level and abandonment against agents, per interval, to size repair steps.

    The simulated value at ``n`` agents is located on the interval's Erlang
    curve (an "Erlang-equivalent" headcount); the gap to the target on the
    same curve is the step. Skills, IVR and non-exponential times shift the
    curve but barely change its slope, so one step is usually enough.
    """

    def __init__(self, load: AgentLoad, within_s: float):
        self.load = load
        self.within_s = within_s
        self.cache: dict = {}

    def value(self, p: int, n: int, kind: str) -> float:
        """Erlang A (Erlang C if nobody hangs up) service level or abandonment at n agents in interval p."""
        key = (p, n, kind)
        v = self.cache.get(key)
        if v is None:
            lam = self.load.calls[p] / self.load.interval_s
            aht, pat = float(self.load.aht_s[p]), float(self.load.patience_s[p])
            if n <= 0:
                v = 0.0 if kind == "sl" else 1.0
            elif math.isinf(pat):
                v = erl.erlang_c_service_level(n, lam, aht, self.within_s) if kind == "sl" else 0.0
            else:
                r = erl.erlang_a(n, lam, aht, pat, self.within_s)
                v = r.service_level if kind == "sl" else r.abandon_rate
            self.cache[key] = v
        return v

    def locate(self, p: int, n: int, v: float, kind: str) -> float:
        """Real-valued headcount at which interval p's Erlang curve reaches v, searched from n."""
        sign = 1.0 if kind == "sl" else -1.0        # make the curve increasing in n
        f = lambda m: sign * self.value(p, m, kind)  # noqa: E731
        v = sign * v
        lo = n
        if f(lo) >= v:                      # walk down to the last headcount below v
            while lo > 0 and f(lo) >= v and n - lo < 1000:
                lo -= 1
            if f(lo) >= v:
                return float(lo)
        else:                               # walk up to the first headcount at or above v
            while f(lo + 1) < v and lo - n < 1000:
                lo += 1
        a, b = f(lo), f(lo + 1)
        return lo + (1.0 if b == a else min(1.0, max(0.0, (v - a) / (b - a))))

    def gap(self, p: int, n: int, value: float, target: float, kind: str) -> float:
        """Agents to add at p (real-valued; <= 0: none) so the simulated ``value`` reaches ``target``."""
        if self.load.calls[p] <= 0 or not np.isfinite(value):
            return 1.0
        return self.locate(p, n, target, kind) - self.locate(p, n, value, kind)


def staff(scenario: Scenario, target_sl: float | None | str = SCENARIO, within_s: float | None = None,
          abandon_max: float | None | str = SCENARIO, occupancy_max: float | None = None, *,
          seed: int = 1, replications: int = 20, confidence: float | None = 0.95, joint: bool = True,
          engine: str = "kernel", verify: bool | Sequence[int] = True, max_evaluations: int = 1000,
          progress: Callable[[int], None] | None = None) -> StaffingPlan:
    """The fewest agents per interval and group that meet the targets in every interval.

    Method (all simulations use the same ``seed`` and ``replications``, so
    every candidate sees the same callers; the day is always simulated as a
    whole, because intervals interact through the queue carried over):

    1. **Start** at the per-interval Erlang A answer for the center pooled
       into one queue (Erlang C where callers never hang up), split across
       groups in proportion to the scenario's headcount in that interval,
       keeping at least one agent in a group the scenario staffs then.
       Warm-up intervals are held at this answer and not searched.
    2. **Repair**: in every failing interval add agents: as many as the
       interval's Erlang curve, shifted to pass through the simulated value,
       says are missing (at least one; doubling if an interval keeps
       failing), given to the groups whose call types are furthest short of
       the targets (weighted by 1 / skill level; else the busiest group).
       Repeat until every interval passes.
    3. **Descend and verify** (``verify=True``, or a list of intervals): in
       time order, take one agent from each group in turn (least busy first)
       and simulate the day; a removal after which every interval still
       passes is kept and the interval is tried again. When no removal
       passes, the plan records, per group, where the day with one agent
       fewer first fails. Time order makes one pass enough: a change at p
       moves only p and later intervals.

    Parameters
    ----------
    scenario : Scenario
    target_sl : float or None
        Share answered within ``within_s`` (0.9 for 90%); default from the
        scenario's SLA block; None for no service-level line.
    within_s : float, optional
        Service-level threshold, s; default from the scenario.
    abandon_max : float or None
        Largest abandonment share; default from the scenario; None for none.
    occupancy_max : float, optional
        Largest agent occupancy per interval (e.g. 0.9).
    seed, replications : int
        The common random numbers; ``replications`` >= 2 with a confidence.
    confidence : float or None
        One-sided confidence of the rule (module docs); None: plain means.
    joint : bool
        Make the confidence hold for all intervals and lines at once
        (Bonferroni: each of the m interval-line checks at ``1 - (1 -
        confidence) / m``) instead of for each interval on its own.
    engine : str
    verify : bool or sequence of int
        Check (and improve) minimality interval by interval: True for every
        interval, a sequence for those intervals, False to skip.
    max_evaluations : int
        Stop searching after this many simulations (the plan then says whether
        every interval passes).
    progress : callable, optional
        Called with the number of simulations done.

    Returns
    -------
    StaffingPlan

    Examples
    --------
    >>> import simcc
    >>> from simcc.optimize import staff
    >>> s = simcc.textbook.erlang(arrival_rate=100 / 1800, mean_talk_s=180, agents=14,
    ...                           mean_patience_s=300, hours=2)
    >>> plan = staff(s, target_sl=0.8, within_s=20, abandon_max=None, replications=10, verify=False)
    >>> plan.total.shape, plan.erlang_a.tolist()
    ((4,), [13, 13, 13, 13])
    """
    sla = scenario.sla
    sl_default = sla.service_level.percent / 100 if sla.service_level is not None else None
    target = _resolve(target_sl, sl_default, "target_sl")
    if within_s is None:
        within_s = scenario.sl_threshold_s
    within_s = float(within_s)
    if not (math.isfinite(within_s) and within_s >= 0):
        raise ValueError(f"within_s must be a non-negative number of seconds, not {within_s!r}")
    amax = _resolve(abandon_max, sla.abandon_max_pct / 100 if sla.abandon_max_pct else None, "abandon_max")
    occ = _share_arg(occupancy_max, "occupancy_max")
    if occ is not None and occ >= 1:
        occ = None
    if target is None and amax is None and occ is None:
        raise ValueError("nothing to staff for: give target_sl (or an SLA service level in the scenario), "
                         "abandon_max or occupancy_max")
    if confidence is not None:
        confidence = float(confidence)
        if not 0.5 <= confidence < 1:
            raise ValueError(f"confidence must be in [0.5, 1) or None, not {confidence!r}")
        if replications < 2:
            raise ValueError("a confidence bound needs at least 2 replications (or confidence=None)")
    if isinstance(replications, bool) or int(replications) != replications or replications < 1:
        raise ValueError(f"replications must be a positive whole number, not {replications!r}")

    # the targets become the scenario's SLA block (so the simulation measures within_s)
    sla_new = sla.model_dump(mode="python")
    sla_new["service_level"] = (None if target is None else
                                {"percent": round(100 * target, 10), "within_s": within_s})
    if target is None and sla.service_level is not None:      # keep measuring the scenario's threshold
        sla_new["service_level"] = {"percent": sla.service_level.percent, "within_s": sla.service_level.within_s}
    if amax is not None:
        sla_new["abandon_max_pct"] = round(100 * amax, 10)
    base = scenario.with_changes(sla=sla_new)
    targets = {"service_level": target, "within_s": within_s, "abandon_max": amax, "occupancy_max": occ}

    P, G = base.n_intervals, len(base.groups)
    measured = np.arange(P) * base.interval_s >= base.warmup_minutes * 60.0
    scheduled_pg = np.array([base.agents_per_interval(g) for g in base.groups], dtype=np.int64).T   # [P, G]
    floor = (scheduled_pg > 0).astype(np.int64)
    base_line = erlang_baseline(base, target, within_s, amax, occ)
    day_share = scheduled_pg.sum(axis=0).astype(np.float64)
    start = np.zeros((P, G), dtype=np.int64)
    for p in range(P):
        shares = scheduled_pg[p].astype(np.float64)
        if shares.sum() <= 0:
            shares = day_share
        start[p] = _split(int(base_line.erlang_a[p]), shares, floor[p])

    n_checks = int(measured.sum()) * sum(v is not None for v in (target, amax, occ))
    level = confidence
    if confidence is not None and joint and n_checks > 1:
        level = 1 - (1 - confidence) / n_checks
    E = _Evaluator(base, seed, int(replications), engine, level, target, amax, occ, measured, progress)
    history: list = []

    def note(stage, ev):
        history.append({"stage": stage, "agent_hours": float(ev.agents.sum() * base.interval_s / 3600),
                        "failing": int(ev.fail.sum())})

    curves = _ErlangCurves(base_line.load, within_s)

    def shortfall(ev, p) -> float:
        """Agents interval p is short of (from the Erlang curve calibrated to the simulation)."""
        n = int(ev.agents[p].sum())
        need = 0.0
        if target is not None and ev.sl[1][p] < target:
            need = max(need, curves.gap(p, n, ev.sl[1][p], target, "sl"))
        if amax is not None and ev.ab[2][p] > amax:
            need = max(need, curves.gap(p, n, ev.ab[2][p], amax, "ab"))
        if occ is not None and ev.occ[2][p] > occ:
            need = max(need, ev.occ[2][p] * n / occ - n)
        return need

    def repair(x, ev):
        streak = np.zeros(P, dtype=np.int64)
        while ev.fail.any() and E.count < max_evaluations:
            x = x.copy()
            for p in np.flatnonzero(ev.fail):
                streak[p] += 1
                k = max(1, math.ceil(shortfall(ev, p) - 1e-9))
                if streak[p] > 2:                      # the curve keeps underestimating: double
                    k = max(k, 2 ** (streak[p] - 2))
                for g in E.groups_to_add(ev, p, x, min(k, 256)):
                    x[p, g] += 1
            streak[~ev.fail] = 0
            ev = E(x)
            note("repair", ev)
        return x, ev

    x = start.copy()
    ev = E(x)
    note("start", ev)
    x, ev = repair(x, ev)

    # descend and verify, interval by interval in time order (a change at p only affects p and later)
    one_fewer: list = [None] * P
    if verify is not False and verify is not None:
        check = list(range(P)) if verify is True else sorted({int(p) for p in verify})
        for p in check:
            if not 0 <= p < P:
                raise ValueError(f"verify: interval {p} is outside 0..{P - 1}")
        check = [p for p in check if measured[p]]
        changed_at: list = []           # intervals where a removal was kept, in order
        checked_when: dict = {}         # interval -> len(changed_at) when its check finished
        while check and E.count < max_evaluations:
            for p in check:
                while E.count < max_evaluations:
                    outcome = {}
                    improved = False
                    for g in E.groups_to_remove(ev, p, x, floor):
                        trial = x.copy()
                        trial[p, g] -= 1
                        ev2 = E(trial)
                        if not ev2.fail.any():
                            x, ev = trial, ev2
                            changed_at.append(p)
                            note("descend", ev)
                            improved = True
                            break
                        q = int(np.flatnonzero(ev2.fail)[0])
                        outcome[base.groups[g].name] = {"fails_at": q, "time": _hhmm(q * base.interval_s),
                                                        "reason": ev2.reason[q]}
                    if not improved:
                        for g in range(G):
                            if x[p, g] <= floor[p, g]:
                                outcome[base.groups[g].name] = {"fails_at": None, "time": "", "reason": "at floor"}
                        one_fewer[p] = outcome
                        checked_when[p] = len(changed_at)
                        break
            # a check is stale if a later kept removal could have moved the interval where it failed
            # (noise, since the random numbers are re-dealt after a change): check those again
            check = []
            for p, when in checked_when.items():
                qs = [v["fails_at"] for v in (one_fewer[p] or {}).values() if v["fails_at"] is not None]
                if qs and any(c <= max(qs) for c in changed_at[when:]):
                    check.append(p)
                    checked_when[p] = len(changed_at)
            check.sort()

    res = ev.result
    iv_m, iv_lo, iv_hi = mean_ci(res.intervals)
    kpis = {k: (iv_m[:, _K[k]], iv_lo[:, _K[k]], iv_hi[:, _K[k]])
            for k in ("offered", "queued", "service_level", "abandon_rate", "occupancy", "asa_s", "agents")}
    bound = {"service_level": ev.sl[1], "abandon_rate": ev.ab[2], "occupancy": ev.occ[2]}
    return StaffingPlan(
        agents=x, group_names=tuple(g.name for g in base.groups), erlang_a=base_line.erlang_a,
        erlang_c=base_line.erlang_c, scheduled=scheduled_pg.sum(axis=1), kpis=kpis, bound=bound,
        passed=~ev.fail, one_fewer=one_fewer, measured=measured, scenario=E.scenario(x), source=scenario,
        result=res, targets=targets, seed=seed, replications=int(replications), confidence=confidence,
        evaluations=E.count, engine=engine, history=history, check_level=level, n_checks=n_checks)


# --------------------------------------------------------------------------
# Trunk sizing
# --------------------------------------------------------------------------
@dataclass
class TrunkPlan:
    """What :func:`trunks` found.

    ``lines`` is the fewest trunk lines whose blocking in the busiest
    interval meets the target (by the confidence rule); ``e1_groups =
    ceil(lines / 30)``. ``erlang_b_lines`` is Erlang B on that interval: the
    offered load is the mean number of calls holding a line there when lines
    are unlimited (Little's law: arrival rate x time a call holds a line,
    IVR + wait + talk + HOLD), and ``holding_time_s`` that time per call.
    """

    lines: int
    e1_groups: int
    blocking_max: float
    blocking: tuple                   # (mean, ci_low, ci_high) per interval at `lines`
    blocking_one_fewer: tuple | None  # the same at lines - 1 (None when lines == 0)
    bound: float                      # the rule's bound at the busiest interval, at `lines`
    bound_one_fewer: float | None
    busiest_interval: int
    offered_erlangs: float
    holding_time_s: float
    erlang_b_lines: int
    erlang_b_e1_groups: int
    peak_lines_unlimited: int
    scenario_trunks: int | None
    scenario: Scenario
    result: object
    seed: object
    replications: int
    confidence: float | None
    evaluations: int

    @property
    def rule(self) -> str:
        how = ("on the mean" if self.confidence is None else
               f"with {100 * self.confidence:g}% confidence (one-sided upper bound)")
        return (f"blocking <= {100 * self.blocking_max:g}% in the busiest interval "
                f"({_hhmm(self.busiest_interval * self.scenario.interval_s)}) {how} over {self.replications} "
                f"replications (seed {self.seed}, common random numbers)")

    def summary(self) -> dict:
        p = self.busiest_interval
        return {
            "lines": self.lines, "e1_groups": self.e1_groups, "blocking_max": self.blocking_max,
            "busiest_interval": _hhmm(p * self.scenario.interval_s),
            "blocking_at_busiest": float(self.blocking[0][p]),
            "bound_at_busiest": self.bound,
            "blocking_at_busiest_one_fewer": (None if self.blocking_one_fewer is None
                                              else float(self.blocking_one_fewer[0][p])),
            "bound_at_busiest_one_fewer": self.bound_one_fewer,
            "worst_interval_blocking": float(np.nanmax(self.blocking[0])) if len(self.blocking[0]) else 0.0,
            "offered_erlangs": self.offered_erlangs, "holding_time_s": self.holding_time_s,
            "erlang_b_lines": self.erlang_b_lines, "erlang_b_e1_groups": self.erlang_b_e1_groups,
            "peak_lines_unlimited": self.peak_lines_unlimited, "scenario_trunks": self.scenario_trunks,
            "rule": self.rule, "evaluations": self.evaluations,
        }

    def __repr__(self) -> str:
        return (f"<TrunkPlan {self.lines} lines ({self.e1_groups} E1); Erlang B {self.erlang_b_lines} "
                f"({self.erlang_b_e1_groups} E1) at {self.offered_erlangs:.1f} Erlangs>")


def trunks(scenario: Scenario, blocking_max: float | None | str = SCENARIO, *, seed: int = 1,
           replications: int = 20, confidence: float | None = 0.95, engine: str = "kernel",
           progress: Callable[[int], None] | None = None) -> TrunkPlan:
    """The fewest trunk lines that keep blocking in the busiest interval under ``blocking_max``.

    The busiest interval is the one with the most calls holding lines when
    lines are unlimited (simulated with the same seed). Then bisection on the
    line count, with common random numbers, between 0 and the most lines ever
    busy with unlimited lines (with the same seed, that count blocks nobody).
    The agents are the scenario's: size agents first (for example
    ``trunks(staff(s).scenario)``), because waiting callers hold lines too.

    Parameters
    ----------
    scenario : Scenario
    blocking_max : float
        Largest blocking share (0.01 for 1%); default from the scenario's
        SLA block, else 1%.
    seed, replications, confidence, engine, progress
        As for :func:`staff`.

    Returns
    -------
    TrunkPlan

    Examples
    --------
    >>> import simcc
    >>> s = simcc.textbook.erlang(arrival_rate=25 / 180, mean_talk_s=180, agents=80, hours=2)
    >>> t = trunks(s, 0.01, replications=10, confidence=None)
    >>> t.erlang_b_lines, abs(t.lines - t.erlang_b_lines) <= 2, t.e1_groups
    (36, True, 2)
    """
    bmax = _resolve(blocking_max, (scenario.sla.blocking_max_pct or 1.0) / 100, "blocking_max")
    if bmax is None:
        raise ValueError("give blocking_max (a share, e.g. 0.01)")
    if confidence is not None:
        confidence = float(confidence)
        if not 0.5 <= confidence < 1:
            raise ValueError(f"confidence must be in [0.5, 1) or None, not {confidence!r}")
        if replications < 2:
            raise ValueError("a confidence bound needs at least 2 replications (or confidence=None)")
    P = scenario.n_intervals
    measured = np.arange(P) * scenario.interval_s >= scenario.warmup_minutes * 60.0
    count = 0
    cache: dict = {}

    def sim(scn):
        nonlocal count
        res = simulate(scn, seed=seed, replications=replications, engine=engine)
        count += 1
        if progress is not None:
            progress(count)
        return res

    unlimited = sim(scenario.with_changes(trunks=None))
    iv = unlimited.by_interval()
    peak = int(np.max(unlimited.totals["lines_peak"])) if "lines_peak" in unlimited.totals \
        else int(np.nanmax(iv["lines_peak"]))
    busiest = int(np.argmax(np.where(measured, np.nan_to_num(iv["lines_mean"]), -1.0)))
    offered = float(iv["offered"][busiest])
    a = float(iv["lines_mean"][busiest])        # Erlangs carried with no blocking = load offered to the lines
    holding = a * scenario.interval_s / offered if offered > 0 else 0.0
    eb = erl.erlang_b_lines(a, bmax) if a > 0 else 0

    def run(lines):
        if lines not in cache:
            res = sim(scenario.with_changes(trunks=lines))
            b = res.intervals[:, :, _K["blocking_rate"]]
            ub = float(np.nan_to_num(_bounds(b[:, busiest:busiest + 1], confidence)[2][0], nan=0.0))
            cache[lines] = (ub <= bmax + 1e-12, res, mean_ci(b), ub)
        return cache[lines]

    lo, hi = -1, max(peak, 1)
    while not run(hi)[0]:            # with CRN `peak` blocks nobody; guard anyway
        lo, hi = hi, 2 * hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if run(mid)[0]:
            hi = mid
        else:
            lo = mid
    _, res, blocking, ub = run(hi)
    fewer = run(hi - 1) if hi > 0 else None
    return TrunkPlan(
        lines=hi, e1_groups=math.ceil(hi / E1_CHANNELS), blocking_max=bmax, blocking=blocking,
        blocking_one_fewer=None if fewer is None else fewer[2], bound=ub,
        bound_one_fewer=None if fewer is None else fewer[3], busiest_interval=busiest, offered_erlangs=a,
        holding_time_s=holding, erlang_b_lines=eb, erlang_b_e1_groups=math.ceil(eb / E1_CHANNELS),
        peak_lines_unlimited=peak, scenario_trunks=scenario.trunks, scenario=scenario.with_changes(trunks=hi),
        result=res, seed=seed, replications=replications, confidence=confidence, evaluations=count)
