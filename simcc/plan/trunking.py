"""Trunk sizing by simulation: the fewest lines (and E1 groups of 30) that keep blocking under a target."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .. import erlang as erl
from ..jsonsafe import jsonable
from ..model.scenario import Scenario
from ..run import arguments
from ..run.export import csv_text
from ..run.simulation import simulate
from ..stats import mean_ci, one_sided
from .rule import _K, SCENARIO, hhmm, resolve

#: Channels in one E1 trunk group.
E1_CHANNELS = 30


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
                f"({hhmm(self.busiest_interval * self.scenario.interval_s)}) {how} over {self.replications} "
                f"replications (seed {self.seed}, common random numbers)")

    def summary(self) -> dict:
        p = self.busiest_interval
        return {
            "lines": self.lines, "e1_groups": self.e1_groups, "blocking_max": self.blocking_max,
            "busiest_interval": hhmm(p * self.scenario.interval_s),
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

    def to_dict(self) -> dict:
        return jsonable(self.summary())

    def to_csv(self) -> str:
        """The summary as one CSV row (what ``simcc trunks --format csv`` prints)."""
        s = self.summary()
        return csv_text(list(s), [list(s.values())])

    def __repr__(self) -> str:
        return (f"<TrunkPlan {self.lines} lines ({self.e1_groups} E1); Erlang B {self.erlang_b_lines} "
                f"({self.erlang_b_e1_groups} E1) at {self.offered_erlangs:.1f} Erlangs>")


def trunks(scenario: Scenario, blocking_max: float | None | str = SCENARIO, *, seed: int = 1,
           replications: int = 20, confidence: float | None = 0.95, engine: str = "kernel",
           progress: Callable[[int], None] | None = None, workers: int | None = None,
           scheduler=None) -> TrunkPlan:
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
    seed, replications, confidence, engine, progress, workers, scheduler
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
    scenario = arguments.scenario(scenario)
    replications = arguments.replications(replications)
    seed = arguments.common_seed(seed)        # one root for every candidate: common random numbers
    arguments.progress(progress)
    arguments.workers(workers)
    bmax = resolve(blocking_max, (scenario.sla.blocking_max_pct or 1.0) / 100, "blocking_max")
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
        res = simulate(scn, seed=seed, replications=replications, engine=engine, workers=workers,
                       scheduler=scheduler)
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
            ub = float(np.nan_to_num(one_sided(b[:, busiest:busiest + 1], confidence)[2][0], nan=0.0))
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
