"""Shift coverage: turn required agents per interval into a roster of shifts.

Given the agents required in each interval (from :func:`simcc.plan.staff`)
and a set of shift templates (start, length, optional unpaid break), find how
many agents to put on each template so that every interval is covered, with as
few agents (and so paid hours) as possible.

Method: an integer program (HiGHS), with a greedy fallback
----------------------------------------------------------
This is a set-covering integer program, ``min sum x_j`` subject to
``A x >= required``, ``x`` whole. ``method="milp"`` (the default) solves it
with scipy's ``milp`` (the HiGHS branch-and-cut solver): the answer is optimal
(or, past ``time_limit_s``, the best found with the solver's proven bound),
with breaks, wrap-around and any template set. ``method="greedy"`` is the
hand-written covering below, kept as a fallback and for comparison:

1. **Greedy, earliest deficit first.** Walk through the day; at the first
   interval still short, add one agent on the template that covers it and
   covers the most of the remaining shortfall from there on (ties: the one
   that ends latest). Without breaks and without wrapping past midnight the
   coverage matrix is an interval matrix, which is totally unimodular, and
   this rule is *exactly optimal* (it is the classic interval-covering
   argument: the latest-ending shift covering the first uncovered interval is
   never a worse choice).
2. **24-hour days wrap around midnight.** A night shift starting 22:00 covers
   00:00-06:00 of the same simulated day (the day repeats). The greedy is
   then run from every possible starting interval and the best result kept.
3. **Local improvement.** Drop any agent whose removal keeps every interval
   covered; then try "two out, one in" swaps (remove two agents, add one on
   another template, keep if still covered), repeating until nothing
   improves. This removes most of the waste that breaks and wrapping cause.

The answer is compared with a lower bound (the busiest interval's
requirement, and the required agent-intervals divided by the most intervals a
single shift covers), so the planner sees how far from optimal it can be at
most.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..jsonsafe import jsonable
from ..run.export import csv_text

__all__ = ["ShiftTemplate", "Roster", "ShiftPlan", "templates", "cover", "roster_for_plan"]


@dataclass(frozen=True)
class ShiftTemplate:
    """One kind of shift: start (minutes from the start of the horizon), paid length, optional unpaid break.

    ``break_start_min`` counts from the shift's start. Times must fall on
    interval borders.
    """

    start_min: int
    length_min: int
    break_start_min: int | None = None
    break_min: int = 0

    @property
    def name(self) -> str:
        h, m = divmod(self.start_min % 1440, 60)
        label = f"{h:02d}:{m:02d} {self.length_min / 60:g}h"
        if self.break_min:
            bh, bm = divmod((self.start_min + self.break_start_min) % 1440, 60)
            label += f" (break {bh:02d}:{bm:02d} {self.break_min}m)"
        return label

    @property
    def end_min(self) -> int:
        """When the shift ends, in minutes from the start of its day (past 1440: the next morning)."""
        return self.start_min + self.length_min

    @property
    def paid_min(self) -> int:
        return self.length_min - self.break_min

    def on_phones(self, interval_min: int) -> list[int]:
        """The intervals the shift works, counted from the start of its day (not wrapped), break left out."""
        return np.flatnonzero(self.coverage(-(-self.end_min // interval_min), interval_min, wrap=False)).tolist()

    def coverage(self, n_intervals: int, interval_min: int, wrap: bool) -> np.ndarray:
        """0/1 vector over intervals: 1 where an agent on this shift is present."""
        for what, v in (("start", self.start_min), ("length", self.length_min),
                        ("break start", self.break_start_min or 0), ("break", self.break_min)):
            if v % interval_min:
                raise ValueError(f"shift {what} ({v} min) must be a multiple of the {interval_min}-minute interval")
        a = np.zeros(n_intervals, dtype=np.int64)
        first = self.start_min // interval_min
        for k in range(self.length_min // interval_min):
            if self.break_min and self.break_start_min is not None:
                off = k * interval_min
                if self.break_start_min <= off < self.break_start_min + self.break_min:
                    continue
            p = first + k
            if wrap:
                a[p % n_intervals] = 1
            elif 0 <= p < n_intervals:
                a[p] = 1
        return a


def templates(n_intervals: int, interval_minutes: int, *, length_hours: float = 8.0, start_every_min: int | None = None,
              first_start_min: int = 0, last_start_min: int | None = None, break_after_min: int | None = None,
              break_min: int = 0) -> list[ShiftTemplate]:
    """Shift templates of one length starting at regular times.

    Parameters
    ----------
    n_intervals, interval_minutes : int
        The horizon (e.g. 48 intervals of 30 min).
    length_hours : float
        Shift length including the break (8 h by default).
    start_every_min : int, optional
        Minutes between possible starts (default: every interval).
    first_start_min, last_start_min : int
        Earliest and latest start (default: any time in a 24-hour day; on a
        shorter horizon the last start that still ends by the horizon).
    break_after_min, break_min : int
        An unpaid break of ``break_min`` minutes ``break_after_min`` minutes
        into the shift (none by default).

    Examples
    --------
    >>> ts = templates(48, 30, length_hours=8, start_every_min=60)
    >>> len(ts), ts[7].name
    (24, '07:00 8h')
    """
    horizon = n_intervals * interval_minutes
    length = int(round(length_hours * 60))
    step = start_every_min or interval_minutes
    if length <= 0 or length > horizon:
        raise ValueError(
            f"shift length must be above 0 and at most the horizon ({horizon / 60:g} h), not {length_hours:g} h"
        )
    if step <= 0 or step % interval_minutes:
        raise ValueError(f"start_every_min must be a positive multiple of the {interval_minutes}-minute interval")
    if break_min and (break_after_min is None or not 0 < break_after_min < length - break_min + 1):
        raise ValueError("a break needs break_after_min inside the shift")
    wrap = horizon == 1440
    if last_start_min is None:
        last_start_min = horizon - step if wrap else horizon - length
    out = []
    t = first_start_min
    while t <= last_start_min:
        out.append(ShiftTemplate(t, length, break_after_min if break_min else None, break_min))
        t += step
    if not out:
        raise ValueError("no shift template fits: check first/last start and the shift length")
    return out


@dataclass
class Roster:
    """Agents per shift template and the coverage they give.

    Attributes
    ----------
    templates : list of ShiftTemplate
    counts : ndarray
        Agents on each template.
    required, coverage, surplus : ndarray [P]
        Required agents, agents present, and coverage - required.
    lower_bound : int
        No roster from these templates can use fewer agents.
    method : str
    """

    templates: list
    counts: np.ndarray
    required: np.ndarray
    coverage: np.ndarray
    interval_minutes: int
    lower_bound: int
    method: str

    @property
    def agents(self) -> int:
        """Agents on the roster (one shift each)."""
        return int(self.counts.sum())

    @property
    def surplus(self) -> np.ndarray:
        return self.coverage - self.required

    @property
    def paid_hours(self) -> float:
        return float(sum(c * (t.length_min - t.break_min) for c, t in zip(self.counts, self.templates)) / 60)

    @property
    def required_hours(self) -> float:
        return float(self.required.sum() * self.interval_minutes / 60)

    @property
    def efficiency(self) -> float:
        """Required agent-hours / paid agent-hours (1.0 = no idle paid time)."""
        return self.required_hours / self.paid_hours if self.paid_hours else 1.0

    def shifts(self) -> list[tuple[str, int]]:
        """(template name, agents) for the templates in use."""
        return [(t.name, int(c)) for t, c in zip(self.templates, self.counts) if c > 0]

    def __repr__(self) -> str:
        return (
            f"<Roster {self.agents} agents on {len(self.shifts())} shift(s), lower bound {self.lower_bound}, "
            f"efficiency {self.efficiency:.1%}>"
        )


def _matrix(temps, n, interval_min, wrap):
    return np.stack([t.coverage(n, interval_min, wrap) for t in temps], axis=1)  # [P, T]


def _greedy(req: np.ndarray, A: np.ndarray, order: np.ndarray) -> np.ndarray:
    P, T = A.shape
    x = np.zeros(T, dtype=np.int64)
    cov = np.zeros(P, dtype=np.int64)
    rank = np.empty(P, dtype=np.int64)
    rank[order] = np.arange(P)
    # last interval (in walk order) each template covers, for the tie-break
    last = np.array([rank[A[:, j] > 0].max() if A[:, j].any() else -1 for j in range(T)])
    for pos, p in enumerate(order):
        while cov[p] < req[p]:
            cands = np.flatnonzero(A[p] > 0)
            if len(cands) == 0:
                raise ValueError(f"no shift template covers interval {p}; add templates that start earlier or later")
            future = rank >= pos
            short = np.maximum(req - cov, 0) * future
            gain = A[:, cands].T @ np.minimum(short, 1)
            best = cands[np.lexsort((-last[cands], -gain))[0]]
            x[best] += 1
            cov += A[:, best]
    return x


def _drop(req: np.ndarray, A: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Take agents off templates while every interval stays covered."""
    x = x.copy()
    cov = A @ x
    for j in np.argsort(-A.sum(axis=0), kind="stable"):
        while x[j] > 0 and np.all(cov - A[:, j] >= req):
            x[j] -= 1
            cov -= A[:, j]
    return x


def _improve(req: np.ndarray, A: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Drop agents that are not needed; then "two out, one in" swaps; until nothing improves."""
    x = x.copy()
    cov = A @ x
    changed = True
    while changed:
        changed = False
        for j in np.argsort(-A.sum(axis=0), kind="stable"):
            while x[j] > 0 and np.all(cov - A[:, j] >= req):
                x[j] -= 1
                cov -= A[:, j]
                changed = True
        used = np.flatnonzero(x)
        for a, i in enumerate(used):
            for k in used[a:]:
                if x[i] == 0 or x[k] == 0 or (k == i and x[i] < 2):
                    continue
                base = cov - A[:, i] - A[:, k]
                need = req - base
                short = need > 0
                if not short.any():  # both were redundant
                    j = None
                elif need.max() > 1:  # one 0/1 shift cannot fill a gap of 2
                    continue
                else:
                    fits = np.flatnonzero(A[short].all(axis=0))
                    if len(fits) == 0:
                        continue
                    j = int(fits[0])
                x[i] -= 1
                x[k] -= 1
                cov = base
                if j is not None:
                    x[j] += 1
                    cov = cov + A[:, j]
                changed = True
    return x


def _rebuild(req: np.ndarray, A: np.ndarray, x: np.ndarray, starts: np.ndarray, wrap: bool) -> np.ndarray:
    """Destroy and repair: take every agent off the templates starting in a window of the day, cover what
    is then short again greedily (from the window's start), and keep the result if it uses fewer agents."""
    P, T = A.shape
    best = x.copy()
    improved = True
    while improved:
        improved = False
        for width in (2, 4, 8, 16):
            for w in range(P):
                window = ((starts - w) % P < width) if wrap else ((starts >= w) & (starts < w + width))
                if not (best[window] > 0).any():
                    continue
                trial = best.copy()
                trial[window] = 0
                rest = np.maximum(req - A @ trial, 0)
                order = (np.arange(P) + w) % P if wrap else np.arange(P)
                trial = _drop(req, A, trial + _greedy(rest, A, order))
                if trial.sum() <= best.sum() + 2:  # promising: polish it (the swaps are the costly part)
                    trial = _improve(req, A, trial)
                if trial.sum() < best.sum():
                    best = trial
                    improved = True
    return best


def solve_covering(required, A, time_limit_s: float = 60.0) -> tuple[np.ndarray, int, bool]:
    """``min sum x`` s.t. ``A x >= required``, ``x`` whole and >= 0, by HiGHS (``scipy.optimize.milp``).

    Returns (x, proven lower bound, optimal). Ties between optimal answers go to fewer paid
    intervals (a tiny secondary cost), so the same input always gives the same roster.

    Examples
    --------
    >>> A = np.array([[1, 0, 0, 1, 1, 1, 1], [1, 1, 0, 0, 1, 1, 1], [1, 1, 1, 0, 0, 1, 1], [1, 1, 1, 1, 0, 0, 1],
    ...               [1, 1, 1, 1, 1, 0, 0], [0, 1, 1, 1, 1, 1, 0], [0, 0, 1, 1, 1, 1, 1]])
    >>> x, bound, optimal = solve_covering([17, 13, 15, 19, 14, 16, 11], A)   # five days on, two off
    >>> int(x.sum()), bound, optimal
    (23, 23, True)
    """
    from scipy.optimize import Bounds, LinearConstraint, milp
    req = np.asarray(required, dtype=np.float64)
    A = np.asarray(A, dtype=np.float64)
    T = A.shape[1]
    paid = A.sum(axis=0)
    c = 1.0 + 1e-6 * paid / max(float(paid.max(initial=1.0)), 1.0)
    res = milp(c, constraints=LinearConstraint(A, lb=req, ub=np.inf), integrality=np.ones(T),
               bounds=Bounds(0, np.inf), options={"time_limit": float(time_limit_s), "disp": False})
    if res.x is None:
        raise RuntimeError(f"the shift covering program found no answer ({res.message})")
    x = np.round(res.x).astype(np.int64)
    bound = getattr(res, "mip_dual_bound", None)
    # the objective carries the tiny secondary cost (at most 1e-6 per agent): take it out of the bound
    lb = int(math.ceil(bound / (1.0 + 1e-6) - 1e-6)) if bound is not None and math.isfinite(bound) else 0
    return x, lb, res.status == 0


def cover(
    required: Sequence[int], shift_templates: Sequence[ShiftTemplate], interval_minutes: int, wrap: bool | None = None,
    method: str = "milp", time_limit_s: float = 60.0,
) -> Roster:
    """Agents per shift template covering ``required`` agents per interval (module docs: method).

    Parameters
    ----------
    required : sequence of int
        Agents required per interval.
    shift_templates : sequence of ShiftTemplate
        The shifts that may be used (see :func:`templates`).
    interval_minutes : int
    wrap : bool, optional
        Shifts running past the end continue at the start (a 24-hour day that
        repeats). Default: True when the horizon is exactly 24 hours.
    method : str
        ``milp`` (optimal, HiGHS) or ``greedy`` (the hand-written covering).
    time_limit_s : float
        Time limit of the integer program; past it, the best roster found and the proven bound.

    Returns
    -------
    Roster

    Raises
    ------
    ValueError
        A required count is negative or not whole, or some interval that needs
        agents is covered by no template.

    Examples
    --------
    >>> req = [2, 2, 3, 3, 1, 1]
    >>> r = cover(req, templates(6, 60, length_hours=3), 60)
    >>> r.agents, r.coverage.tolist()
    (5, [2, 2, 4, 3, 3, 1])
    """
    req = np.asarray(required)
    if req.ndim != 1 or len(req) == 0:
        raise ValueError("required must be a non-empty list of agents per interval")
    if np.any(req < 0) or np.any(req != np.round(req)):
        raise ValueError("required agents must be whole numbers >= 0")
    req = req.astype(np.int64)
    P = len(req)
    if wrap is None:
        wrap = P * interval_minutes == 1440
    temps = list(shift_templates)
    if not temps:
        raise ValueError("give at least one shift template")
    A = _matrix(temps, P, interval_minutes, wrap)
    starts_of = np.array([(t.start_min // interval_minutes) % P for t in temps])
    uncovered = np.flatnonzero((req > 0) & (A.sum(axis=1) == 0))
    if len(uncovered):
        p = int(uncovered[0])
        raise ValueError(
            f"no shift template covers interval {p} ({_hhmm(p * interval_minutes)}), which needs {int(req[p])} agent(s)"
        )
    per_shift = int(A.sum(axis=0).max())
    lb = int(max(req.max(initial=0), math.ceil(req.sum() / per_shift) if per_shift else 0))
    if method not in ("milp", "greedy"):
        raise ValueError(f"method must be 'milp' or 'greedy', not {method!r}")
    if method == "milp":
        x, bound, optimal = solve_covering(req, A, time_limit_s)
        lb = max(lb, bound)
        how = "optimal" if optimal else f"best found in {time_limit_s:g} s"
        return Roster(temps, x, req, A @ x, interval_minutes, lb,
                      f"integer program, HiGHS ({how}{'; wraps past midnight' if wrap else ''})")
    if wrap:
        starts = sorted(set(np.flatnonzero(req > 0).tolist()) | {0}) if req.any() else [0]
        found = sorted(
            ((_greedy(req, A, (np.arange(P) + s) % P), s) for s in starts), key=lambda t: (int(t[0].sum()), t[1])
        )
        x = min((_improve(req, A, g) for g, _ in found[:3]), key=lambda v: int(v.sum()))
        if any(t.break_min for t in temps):
            x = _rebuild(req, A, x, starts_of, wrap)
        method = (
            "greedy covering from every start interval + local improvement"
            + (" + destroy-and-repair" if any(t.break_min for t in temps) else "")
            + " (wraps past midnight)"
        )
    else:
        x = _greedy(req, A, np.arange(P))
        exact = all(t.break_min == 0 for t in temps)
        x = _improve(req, A, x)
        if not exact:
            x = _rebuild(req, A, x, starts_of, wrap)
        method = (
            "greedy earliest-deficit covering (exact: interval matrix, no breaks)"
            if exact
            else "greedy earliest-deficit covering + local improvement"
        )
    return Roster(temps, x, req, A @ x, interval_minutes, lb, method)


@dataclass
class ShiftPlan:
    """Rosters for a center (``simcc shifts``): one per agent group and, with several groups, one for all."""

    rosters: dict

    def to_dict(self) -> dict:
        out = {}
        for name, r in self.rosters.items():
            out[name] = {
                "agents": r.agents,
                "lower_bound": r.lower_bound,
                "paid_hours": r.paid_hours,
                "required_hours": r.required_hours,
                "efficiency": r.efficiency,
                "method": r.method,
                "shifts": [
                    {
                        "shift": t.name,
                        "start": _hhmm(t.start_min),
                        "hours": t.length_min / 60,
                        "break_start": None if t.break_start_min is None else _hhmm(t.start_min + t.break_start_min),
                        "break_minutes": t.break_min,
                        "agents": int(c),
                    }
                    for t, c in zip(r.templates, r.counts)
                    if c > 0
                ],
                "coverage": {
                    "required": r.required.tolist(),
                    "scheduled": r.coverage.tolist(),
                    "surplus": r.surplus.tolist(),
                },
            }
        return jsonable(out)

    def to_csv(self) -> str:
        """One row per roster and shift in use: when it starts, how long, its break, how many agents."""
        rows = []
        for name, r in self.to_dict().items():
            rows += [
                [name, s["shift"], s["start"], s["hours"], s["break_start"], s["break_minutes"], s["agents"]]
                for s in r["shifts"]
            ]
        return csv_text(["roster", "shift", "start", "hours", "break_start", "break_minutes", "agents"], rows)


def roster_for_plan(
    plan, shift_templates: Sequence[ShiftTemplate] | None = None, method: str = "milp", **template_options
) -> dict[str, Roster]:
    """One roster per agent group of a :class:`simcc.plan.StaffingPlan` (and ``"all"`` for the total
    when there is more than one group). ``template_options`` go to :func:`templates`."""
    scn = plan.scenario
    temps = (
        list(shift_templates)
        if shift_templates is not None
        else templates(scn.n_intervals, scn.interval_minutes, **template_options)
    )
    out = {}
    for g, name in enumerate(plan.group_names):
        out[name] = cover(plan.agents[:, g], temps, scn.interval_minutes, method=method)
    if len(plan.group_names) > 1:
        out["all"] = cover(plan.total, temps, scn.interval_minutes, method=method)
    return out


def _hhmm(minutes: float) -> str:
    m = int(round(minutes))
    return f"{m // 60 % 24:02d}:{m % 60:02d}"
