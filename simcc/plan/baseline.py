"""The Erlang baseline: the whole center pooled into one Erlang queue per interval.

What reaches agents (:func:`agent_load`: calls after the IVR, handle time,
patience), the Erlang A and Erlang C answers per interval
(:func:`erlang_baseline`), and the Erlang curves the staffing search uses to
size its steps (:class:`ErlangCurves`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import erlang as erl
from ..model.dists import dist_mean
from ..model.scenario import Scenario
from .shrinkage import scheduled_for


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
    P = calls.shape[0]
    aht = np.zeros((P, K))
    patience = np.zeros((P, K, L))
    for k, name in enumerate(types):
        ct = scenario.call_types[name]
        hold = dist_mean(ct.hold) if ct.hold is not None else 0.0
        acw = dist_mean(ct.acw) if ct.acw is not None else 0.0
        talk_scale = np.broadcast_to(np.asarray(1.0 if ct.talk_scale is None else ct.talk_scale, float), (P,))
        patience_scale = np.broadcast_to(np.asarray(1.0 if ct.patience_scale is None else ct.patience_scale,
                                                    float), (P,))
        aht[:, k] = dist_mean(ct.talk) * talk_scale + ct.hold_prob * hold + acw
        for l, tier in enumerate(tiers):
            patience[:, k, l] = dist_mean(ct.patience_by_tier.get(tier, ct.patience)) * patience_scale
    total = calls.sum(axis=(1, 2))
    by_type = calls.sum(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        aht_p = np.where(total > 0, (by_type * aht).sum(axis=1) / np.where(total > 0, total, 1), aht.mean(axis=1))
        finite = np.isfinite(patience)
        fin_calls = (calls * finite).sum(axis=(1, 2))
        pat_p = np.where(
            fin_calls > 0,
            (calls * np.where(finite, patience, 0)).sum(axis=(1, 2)) / np.where(fin_calls > 0, fin_calls, 1),
            np.inf,
        )
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


def erlang_baseline(
    scenario: Scenario,
    target_sl: float | None,
    within_s: float,
    abandon_max: float | None = None,
    occupancy_max: float | None = None,
) -> ErlangBaseline:
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
        if math.isinf(pat):  # callers never hang up: Erlang C (no abandonment to cap)
            n = nc[p]
        else:
            n = erl.erlang_a_agents(lam, aht, pat, sl, within_s, abandon_max=abandon_max)
            while erl.erlang_a(n, lam, aht, pat, within_s).occupancy > occ:
                n += 1
        na[p] = n
    return ErlangBaseline(load, na, nc)


class ErlangCurves:
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
        sign = 1.0 if kind == "sl" else -1.0  # make the curve increasing in n
        f = lambda m: sign * self.value(p, m, kind)  # noqa: E731
        v = sign * v
        lo = n
        if f(lo) >= v:  # walk down to the last headcount below v
            while lo > 0 and f(lo) >= v and n - lo < 1000:
                lo -= 1
            if f(lo) >= v:
                return float(lo)
        else:  # walk up to the first headcount at or above v
            while f(lo + 1) < v and lo - n < 1000:
                lo += 1
        a, b = f(lo), f(lo + 1)
        return lo + (1.0 if b == a else min(1.0, max(0.0, (v - a) / (b - a))))

    def gap(self, p: int, n: int, value: float, target: float, kind: str) -> float:
        """Agents to add at p (real-valued; <= 0: none) so the simulated ``value`` reaches ``target``."""
        if self.load.calls[p] <= 0 or not np.isfinite(value):
            return 1.0
        return self.locate(p, n, target, kind) - self.locate(p, n, value, kind)


@dataclass(frozen=True)
class QueueAnswer:
    """Exact Erlang answers for one queue (``simcc erlang``): the agents, what they achieve, the trunk lines.

    Shares are fractions; ``None`` where a quantity does not apply (abandonment
    without patience) or is infinite (an overloaded queue).
    """

    model: str  # "Erlang C" or "Erlang A"
    calls_per_hour: float
    aht_s: float
    offered_erlangs: float
    agents: int
    p_wait: float
    service_level: float
    within_s: float
    abandon_rate: float | None
    asa_s: float
    occupancy: float
    trunk_lines: int | None
    blocking_max: float
    shrinkage: float | None = None
    scheduled: int | None = None      # agents to schedule: agents / (1 - shrinkage), rounded up

    def to_dict(self) -> dict:
        from ..jsonsafe import jsonable

        return jsonable(self.__dict__)

    def to_csv(self) -> str:
        from ..run.export import csv_text

        d = self.__dict__
        return csv_text(list(d), [list(d.values())])


def queue_answer(
    calls_per_hour: float,
    aht_s: float,
    *,
    agents: int | None = None,
    patience_s: float | None = None,
    within_s: float = 15.0,
    target: float = 0.9,
    blocking_max: float = 0.01,
    shrinkage: float | None = None,
) -> QueueAnswer:
    """Erlang C (or, with ``patience_s``, Erlang A) for one queue: the fewest agents meeting ``target``
    within ``within_s`` unless ``agents`` is given, and the trunk lines for ``blocking_max`` by Erlang B on
    the time a call holds a line (wait + talk, as Westbay sizes trunks).

    Examples
    --------
    >>> a = queue_answer(1200, 280, within_s=15, target=0.9)
    >>> a.agents, round(a.service_level, 3) >= 0.9
    (105, True)
    >>> b = queue_answer(200, 180, within_s=20, target=0.8, shrinkage=0.3)   # 100 calls per half hour
    >>> b.agents, b.scheduled
    (14, 20)
    """
    lam = calls_per_hour / 3600.0
    if agents is None:
        agents = (
            erl.erlang_c_agents(lam, aht_s, target, within_s)
            if patience_s is None
            else erl.erlang_a_agents(lam, aht_s, patience_s, target, within_s)
        )
    a = lam * aht_s
    if patience_s is None:
        sl = erl.erlang_c_service_level(agents, lam, aht_s, within_s)
        p_wait, asa, ab = erl.erlang_c(agents, a), erl.erlang_c_asa(agents, lam, aht_s), None
        occ, wait = (a / agents if agents else math.inf), erl.erlang_c_asa(agents, lam, aht_s)
    else:
        r = erl.erlang_a(agents, lam, aht_s, patience_s, within_s)
        sl, p_wait, asa, ab, occ, wait = r.service_level, r.p_wait, r.asa_s, r.abandon_rate, r.occupancy, r.mean_wait_s
    lines = erl.erlang_b_lines(lam * (aht_s + wait), blocking_max) if math.isfinite(wait) else None
    return QueueAnswer(
        "Erlang C" if patience_s is None else "Erlang A",
        calls_per_hour,
        aht_s,
        a,
        int(agents),
        p_wait,
        sl,
        within_s,
        ab,
        asa,
        occ,
        lines,
        blocking_max,
        shrinkage,
        None if shrinkage is None else scheduled_for(int(agents), shrinkage),
    )
