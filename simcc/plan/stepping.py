"""Judging a candidate from the interval where it departs from the current plan, and no further than needed.

With full common random numbers a candidate that differs from the current plan
only from interval p on lives exactly the same day as the plan up to the
border of p: the same callers, the same draws, the same agents. The kernel's
:class:`simcc.engine._core.Day` can stop at an interval border, be copied,
take another headcount for the borders still to come and go on, ending
exactly where one uninterrupted run ends. So the search keeps the current
plan's replications standing at a border (the *prefix*) and judges a
candidate by copying them, giving them the candidate's headcount and going
on:

* interval by interval, each interval is judged as soon as its figures are
  final in every replication: it has ended and none of its callers is still
  in the IVR or waiting for an agent (service level and abandonment are
  counted by the interval a call arrives in, when it is answered or hangs up);
* the first interval that fails the rule ends the check: it is the interval
  where the whole day would first fail, with the same figures, so the answer
  is the one a whole-day simulation gives (earlier intervals are the plan's,
  which passes, up to the first one with callers still waiting at the border
  of p: they meet the candidate's agents, and are judged again);
* a candidate that passes every interval has been simulated to the end of
  its day, and its figures are those of :func:`simcc.simulate` bit for bit.

A failing "one agent fewer" check, most of a staffing search, then costs the
two or three intervals after the change instead of a whole day. Used for the
compiled kernel, service-level and abandonment lines (an occupancy line is
judged on whole days: an interval's busy time is booked when calls start),
and candidates whose headcount, after absence, matches the plan's before p.
"""
from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import numpy as np

from ..engine import streams
from ..engine.compile import compile_scenario
from ..engine.replication import day_raw, start_day
from ..run.kpis import INTERVAL_KPIS
from ..run.results import Accumulator, _div
from .rule import _K


@dataclasses.dataclass
class EarlyFail:
    """A candidate judged failing before the end of its day: ``fail`` marks the first failing interval."""

    agents: np.ndarray
    fail: np.ndarray            # [P] bool, True only at the first failing interval
    reason: list                # [P] str
    days: float                 # replication-days simulated to find it
    result: object = None


#: Agents per group a candidate may have beyond the plan the prefix started from (room in the idle rings).
ROOM = 64


@dataclasses.dataclass
class WindowPass:
    """A candidate that passes every interval up to ``judged`` (the rest of its day not simulated)."""

    agents: np.ndarray
    fail: np.ndarray            # [P] all False
    reason: list
    days: float
    group_occ: np.ndarray       # [P, G] occupancy pooled over replications (final before ``judged``)
    judged: int
    result: object = None
    partial: bool = True


class Stepper:
    """The current plan's replications standing at an interval border, and the candidates judged from it."""

    def __init__(self, base_scenario, scenario_of, seed, replications: int, judge, threads: int):
        self.base = base_scenario
        self.scenario_of = scenario_of      # agents [P, G] -> Scenario
        self.entropy = streams.root_entropy(seed)
        self.R = int(replications)
        self.judge = judge          # (agents, iv [R, P, KPI]) -> object with .fail, .reason
        self.sl_den = base_scenario.sla.denominator
        self.pool = ThreadPoolExecutor(max(1, int(threads))) if threads and threads > 1 else None
        self.prefix = None          # (border b, [R] headcounts [P, G] the prefix lived, [R] days, [R] volumes)
        self._compiled: dict = {}
        self._cs0 = None

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()
            self.pool = None

    def _advance(self, days: list, stop: int, pause: float | None = None) -> None:
        """Every day to the border of ``stop`` (or, with ``pause``, no more than that many seconds on)."""
        if pause is None:
            self._map(lambda d: d.advance(stop), days)
        else:
            self._map(lambda d: d.advance(stop, d.now + pause), days)

    def _map(self, fn, items) -> list:
        if self.pool is None:
            return [fn(x) for x in items]
        return list(self.pool.map(fn, items))

    def compiled(self, agents: np.ndarray):
        """(compiled scenario, [R] each replication's headcount after absence), the last few kept. Candidates
        differ from the scenario only in their headcount (``scenario_of`` sets each group's agents per
        interval), so one compiled scenario serves them all with the candidate's headcount."""
        key = agents.tobytes()
        hit = self._compiled.get(key)
        if hit is None:
            if self._cs0 is None:
                self._cs0 = compile_scenario(self.scenario_of(agents))
            cs = dataclasses.replace(self._cs0, headcount=np.ascontiguousarray(agents, dtype=np.int32))
            hit = (cs, [streams.day_headcount(cs, self.entropy, r) for r in range(self.R)])
            if len(self._compiled) > 8:
                self._compiled.pop(next(iter(self._compiled)))
            self._compiled[key] = hit
        return hit

    def _prefix_at(self, cs_plan, hc_plan, p: int) -> tuple[list, list, float]:
        """The plan's replications standing before the border of interval p (p >= 1), reused when they
        lived the plan's headcount so far; returns (days, volumes, replication-days simulated now)."""
        P = cs_plan.n_intervals
        pre = self.prefix
        if pre is not None and pre[0] <= p and all(
                np.array_equal(a[:pre[0]], b[:pre[0]]) for a, b in zip(pre[1], hc_plan)):
            b0, _, days, volumes = pre
        else:
            started = [start_day(cs_plan, self.entropy, r, idle_room=ROOM) for r in range(self.R)]
            b0, days, volumes = 0, [d for d, _ in started], [v for _, v in started]
        if b0 < p:
            for d, hc in zip(days, hc_plan):
                d.set_headcount(hc)
            self._advance(days, p)
        self.prefix = (p, [hc.copy() for hc in hc_plan], days, volumes)
        return days, volumes, self.R * (p - b0) / P

    def check(self, plan_agents: np.ndarray, agents: np.ndarray, p: int, window: int | None = None,
              whole: bool = False):
        """Judge ``agents`` (differing from the passing plan only from interval p on): an :class:`EarlyFail`,
        or (per-replication interval KPIs [R, P, KPI], totals, replication-days simulated) of the whole day;
        with ``window``, a :class:`WindowPass` once intervals p .. p + window - 1 pass; with ``whole``, always
        the whole day (the plan may fail). None when the candidate cannot be judged from the plan's prefix
        (then simulate it whole)."""
        cs_plan, hc_plan = self.compiled(plan_agents)
        cs, hc = self.compiled(agents)
        P = cs.n_intervals
        if p < 0 or p >= P or any(not np.array_equal(a[:p], b[:p]) for a, b in zip(hc, hc_plan)):
            return None
        if p == 0:                  # nothing to share: the candidate's own days from the start
            started = [start_day(cs, self.entropy, r) for r in range(self.R)]
            days, volumes, spent = [d for d, _ in started], [v for _, v in started], 0.0
            prefix = days
        else:
            try:
                prefix, volumes, spent = self._prefix_at(cs_plan, hc_plan, p)
            except ValueError:
                return None

            def branch(i):
                d = prefix[i].copy()
                d.set_headcount(hc[i])
                return d

            try:
                days = self._map(branch, range(self.R))
            except ValueError:      # more agents than the prefix has room for: simulate it whole
                return None
        # every interval before ``judged`` passes: the plan's, final before the border of p (callers of
        # earlier intervals still waiting there meet the candidate's agents), then those judged here
        judged = min(p, min(d.unsettled_from() for d in prefix))
        pause = cs.interval_s / 10.0
        if whole:
            judged = P
            self._advance(days, P)
        while judged < P:
            j = judged
            if j - p < 3:               # the intervals just after the change: each as soon as it is final
                self._advance([d for d in days if d.ended <= j], j + 1)
                lag = [d for d in days if d.unsettled_from() <= j and not d.finished]
                while lag:
                    self._advance(lag, P, pause)
                    lag = [d for d in lag if d.unsettled_from() <= j and not d.finished]
            else:                       # further on, a failure is rarer: longer strides
                stop = max(p + 2 * (j - p), max(d.ended for d in days) + 1)
                if window is not None and judged < p + window:
                    stop = min(stop, p + window + 1)    # no further than the window needs
                stop = min(P, stop)
                self._advance([d for d in days if d.ended < stop], stop)
            settled = min(P if d.finished else min(d.ended, d.unsettled_from()) for d in days)
            if settled > judged:
                iv = _sl_ab_rows([d.stats for d in days], P, self.sl_den)
                ev = self.judge(agents, iv)
                span = np.zeros(P, dtype=bool)
                span[judged:settled] = True
                bad = np.flatnonzero(np.asarray(ev.fail) & span)
                if bad.size:
                    q = int(bad[0])
                    fail = np.zeros(P, dtype=bool)
                    fail[q] = True
                    reason = [""] * P
                    reason[q] = ev.reason[q]
                    return EarlyFail(agents, fail, reason, spent + _days_since(days, p, P))
                judged = settled
                if window is not None and judged >= p + window and judged < P:
                    return WindowPass(agents, np.zeros(P, dtype=bool), [""] * P,
                                      spent + _days_since(days, p, P), _occupancy([d.stats for d in days]), judged)
        for d in days:
            d.advance(P)
        acc = Accumulator(cs, self.sl_den)
        for r, d in enumerate(days):
            acc.add(r, day_raw(d), volumes[r])
        iv = np.stack([acc.interval_rows[r] for r in range(self.R)])
        day = np.stack([acc.day_rows[r] for r in range(self.R)])
        return iv, SimpleNamespace(totals=acc.totals, intervals=iv, day=day), spent + self.R * (P - p) / P


def _days_since(days, p, P) -> float:
    """Replication-days the days simulated since the border of interval p."""
    return sum(max(0.0, d.now / d.interval_s - p) if not d.finished else P - p for d in days) / P



def _occupancy(raws: list) -> np.ndarray:
    """[P, G] occupancy pooled over replications, as the staffing search's diagnostics compute it."""
    staffed = sum(r["staffed_s"].astype(np.float64) for r in raws)
    busy = sum(r["service_busy_s"] for r in raws) + sum(r["acw_busy_s"] for r in raws)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(staffed > 0, busy / np.where(staffed > 0, staffed, 1), 0.0)


def _sl_ab_rows(raws: list, P: int, sl_den: str) -> np.ndarray:
    """[R, P, KPI] with the service level and abandonment of each interval, computed as
    :meth:`simcc.run.results.Stats.by_interval` computes them (the other KPIs are left at 0)."""
    def per(k):
        return np.stack([r[k].reshape(P, -1) for r in raws]).sum(axis=2)
    q_eff = per("queued") - per("abandoned_short")
    den = q_eff if sl_den == "queued" else per("answered")
    iv = np.zeros((len(raws), P, len(INTERVAL_KPIS)))
    iv[:, :, _K["service_level"]] = _div(per("answered_within"), den)
    iv[:, :, _K["abandon_rate"]] = _div(per("abandoned") - per("abandoned_short"), q_eff)
    return iv
