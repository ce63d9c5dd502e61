"""The cheapest headcount of one interval that passes the rule (the cost step of ``staff(cost=...)``).

With every other interval's headcount fixed, :func:`cheapest_row` looks for the headcount row of one
interval (agents per group) with the lowest cost ``cost . row`` whose day passes the rule, judging
rows with the caller's ``judge`` (the search's evaluator: the same seed, replications and confidence
rule for every row).

Assumption (monotonicity): one more agent in any group never makes the day fail. Then a row that fails
tells that every row it dominates (no more agents in any group) fails too, and those rows are not
simulated. With common random numbers the assumption holds up to sampling noise only: one agent more
re-deals talk, HOLD and ACW times for the rest of the day and can tip a marginal interval.

Method: a best-first enumeration over the rows cheaper than the incumbent (the cheapest passing row so
far, at first the caller's row). The rows searched lie in a box: at least ``floor`` per group, at most
``start + margin`` per group (and at most what the cost bound allows). Each step takes a *maximal*
candidate (cheaper than the incumbent, in the box, not dominated by a failing row, and one more agent
in any group would no longer be cheaper), the nearest the incumbent first (then the dearest), and
judges it: a pass becomes the incumbent, a failure prunes everything it dominates. A maximal candidate
prunes more when it fails than any candidate below it. When no candidate is left, the incumbent is the
cheapest row in the box that passes (under the assumption): the search is *exhausted*. ``patience``
bounds the work: the search stops after that many rows in a row fail (a passing row starts the count
again, so a long chain of improvements is followed to its end); a search stopped early keeps the
cheapest row found, which passes and costs no more than the start.

A candidate with the most agents possible in one group is found without listing the box: for each
combination of the other groups the largest count of that group that stays cheaper than the
incumbent is the only one that can be the highest-cost candidate.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

TOL = 1e-9
MAX_GRID = 2_000_000        # combinations of all groups but the widest one listed at once
COST_MARGIN = 1000          # most agents a group may gain over the interval's row, per search
COST_CALLS = 5_000_000      # patience of the cost step, in simulated calls (calls a day x replications) ...
COST_PATIENCE = 8           # ... but at least this many rows in a row that fail, per interval


@dataclass
class RowSearch:
    """What :func:`cheapest_row` found.

    ``row`` is the cheapest passing row found (the start when nothing cheaper passed), ``trials`` the
    rows judged (``first`` rows included), ``exhausted`` True when every cheaper row in the box is known
    or assumed to fail (so ``row`` is the cheapest there), False when ``patience`` or the judge stopped
    the search first.
    ``failed`` lists the failing rows judged, ``lower``/``upper`` the box.
    """

    row: np.ndarray
    trials: int
    exhausted: bool
    failed: list = field(default_factory=list)
    lower: np.ndarray | None = None
    upper: np.ndarray | None = None


def cheapest_row(start, cost, floor, judge: Callable[[np.ndarray], bool | None], *, margin: int,
                 patience: int | None = None, first=()) -> RowSearch:
    """The cheapest row in the box that passes, by best-first enumeration with dominance pruning.

    Parameters
    ----------
    start : array [G] of int
        A row that passes (its cost bounds the search).
    cost : array [G]
        Cost of one agent of each group (positive).
    floor : array [G] of int
        Fewest agents of each group.
    judge : callable
        ``judge(row)`` -> True (the day passes), False (it fails) or None (stop: out of evaluations).
        Rows are judged only when cheaper than the incumbent.
    margin : int
        Most agents added to a group above ``start``.
    patience : int, optional
        Stop after this many rows of the enumeration in a row fail (a row that passes starts the count
        again; the ``first`` rows are not counted).
    first : sequence of rows
        Rows to judge before the enumeration (e.g. one agent fewer in each group, already known to the
        caller); those not cheaper than the incumbent or dominated by a failure are skipped.
    """
    c = np.asarray(cost, dtype=np.float64)
    best = np.asarray(start, dtype=np.int64).copy()
    lo = np.minimum(np.asarray(floor, dtype=np.int64), best)
    hi = best + int(margin)
    lo = _deepest(best, lo, hi)
    out = RowSearch(best, 0, False, [], lo, hi)
    failed: list[np.ndarray] = []
    queue = [np.asarray(r, dtype=np.int64) for r in first]
    misses = 0                  # rows of the enumeration that failed since the last one that passed
    while True:
        bound = float(c @ best) - TOL
        x = None
        while queue:
            r = queue.pop(0)
            if np.all(r >= lo) and np.all(r <= hi) and float(c @ r) < bound and not _dominated(r, failed):
                x = r
                break
        if x is None:
            if patience is not None and misses >= patience:
                return out
            x = _next_candidate(best, c, lo, hi, bound, failed)
            if x is not None:
                misses += 1
        if x is None:
            out.exhausted = True
            return out
        verdict = judge(x.copy())
        if verdict is None:
            return out
        out.trials += 1
        if verdict:
            best = x
            out.row = best
            misses = 0
        else:
            failed.append(x)
            out.failed.append(x)


def _deepest(best, lo, hi):
    """The box's lower corner: the floor, or, where listing every combination of all groups but the widest
    would take more than MAX_GRID rows, the floor or ``depth`` agents below the start, whichever is higher,
    with the largest such depth."""
    def grid(low):
        span = np.sort(hi - low + 1)
        return float(np.prod(span[:-1], dtype=np.float64))
    if grid(lo) <= MAX_GRID:
        return lo
    depth = int((best - lo).max())
    while depth > 0 and grid(np.maximum(lo, best - depth)) > MAX_GRID:
        depth = depth * 3 // 4 if depth > 8 else depth - 1
    return np.maximum(lo, best - depth)


def _dominated(x: np.ndarray, failed) -> bool:
    return any(np.all(x <= f) for f in failed)


def _next_candidate(best, c, lo, hi, bound, failed):
    """The highest-cost row in [lo, hi] with cost < bound not dominated by a failing row (nearest ``best``
    among equal costs, then the first in lexicographic order); None when there is none."""
    G = len(c)
    # rows cheaper than the bound cannot hold more of group g than the bound allows with the others at lo
    room = bound - float(c @ lo)
    if room < 0:
        return None
    top = np.minimum(hi, lo + np.floor(room / c + TOL).astype(np.int64))
    span = top - lo + 1
    last = int(np.argmax(span))             # solved for, not listed
    others = [g for g in range(G) if g != last]
    axes = [np.arange(lo[g], top[g] + 1) for g in others]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, G - 1) if others else \
        np.zeros((1, 0), dtype=np.int64)
    partial = grid @ c[others] if others else np.zeros(1)
    # the most agents of group `last` that keep the row cheaper than the bound (one step either way
    # where floating point rounding put the boundary on the wrong side)
    rows = np.empty((len(grid), G), dtype=np.int64)
    rows[:, others] = grid
    rows[:, last] = np.minimum(np.floor((bound - partial) / c[last]).astype(np.int64), top[last])
    up = (rows[:, last] < top[last]) & (rows @ c + c[last] < bound)
    rows[up, last] += 1
    rows[rows @ c >= bound, last] -= 1
    costs = rows @ c
    ok = rows[:, last] >= lo[last]
    for f in failed:
        ok &= ~np.all(rows <= f, axis=1)
    if not ok.any():
        return None
    rows, costs = rows[ok], costs[ok]
    # maximal rows only: one more agent in any group would leave the box or not be cheaper
    room_left = bound - costs
    maximal = np.all((rows >= hi) | (c[None, :] >= room_left[:, None]), axis=1)
    rows, costs = rows[maximal], costs[maximal]
    dist = np.abs(rows - best).sum(axis=1)
    order = np.lexsort(tuple(rows[:, g] for g in reversed(range(G))) + (-np.round(costs, 9), dist))
    return rows[order[0]]
