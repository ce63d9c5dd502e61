"""Staffing and shift selection together: fewer paid hours than covering the staffing curve.

The usual way to a roster has two steps. :func:`simcc.plan.staff` finds the
fewest agents per interval and group that meet the targets, and
:func:`simcc.plan.shifts.cover` then buys enough shifts to cover that curve
in every interval. Whole shifts cannot follow the curve exactly, so the
covering leaves a surplus: agents beyond the curve in many intervals.
A surplus agent in one interval also helps the next (the queue it keeps
short is the queue the next interval inherits), and a surplus in one group
helps the callers another group shares with it. The curve cannot see either.
So some shifts of the covering can go with the targets still met.

:func:`select_shifts` starts from the two-step answer and takes shifts away,
judging each removal by simulation under the plan's own rule (the same seed,
replications and confidence, so every candidate meets the same callers):

1. **Two steps.** Each group's curve is covered with the fewest shifts (the
   integer program of :func:`simcc.plan.shifts.cover`), and that headcount is
   simulated: it is the answer to beat. It has at least the curve's agents
   everywhere, yet an interval can fail: other agents serve other callers,
   and a late, quiet interval's abandonment can tip over the line by chance
   (common random numbers make this rare, not impossible). Then shifts are
   added first, one at a time: in the group furthest short at the first
   failing interval, the shift that covers it and most of the rest of the day,
   until every interval passes.
2. **Removals.** Shifts of one kind (group and template) at a time, the kind
   whose intervals have the most surplus first (then the most expensive). The
   headcount loses one agent per shift taken in every interval that shift is
   on the phones. A removal that passes is kept and the same kind is tried
   again, twice as many at once; one that fails is tried again with half as
   many, and a kind is left when one shift of it fails. Removing more shifts never makes a failed
   removal pass (more agents never make a day fail, as the cost search of
   :func:`simcc.plan.staff` also assumes), so one sweep finds a plan from
   which no single shift can go.

Every removal is judged on the whole day as :func:`simcc.simulate` would: with
the compiled kernel it is simulated from the start of the removed shift on
(the day before it is the current plan's, with the same draws; see
:mod:`simcc.plan.stepping`), and a failing one stops at its first failing
interval. Both answers, their paid hours and (with costs) their cost, come
back in a :class:`ShiftSelection`.

This is a local search, not a proof of the cheapest roster: shifts are only
taken away, never moved. In the literature (Avramidis et al., *Optimizing
daily agent scheduling in a multiskill call center*, EJOR 2010) selecting
shifts against the simulated service level directly beats covering a
staffing curve by a few percent; :class:`ShiftSelection` reports both so a
planner sees what it buys on their center.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from ..jsonsafe import jsonable
from ..run.export import csv_text
from ..run.kpis import DAY_KPIS, INTERVAL_KPIS
from .rule import failing, target_lines
from .shifts import ShiftTemplate, _hhmm, _matrix, cover, templates
from .staffing import StaffingPlan, _Evaluator

__all__ = ["ShiftSelection", "select_shifts"]


@dataclass
class ShiftSelection:
    """Shifts per group from two steps (cover the staffing curve) and from selecting them by simulation.

    Attributes
    ----------
    templates : list of ShiftTemplate
    group_names : tuple
    two_step, joint : ndarray [G, S]
        Agents per group and shift template: the covering of the staffing curve, and what is left after
        the removals that still meet the targets.
    two_step_headcount, joint_headcount : ndarray [P, G]
        The agents on the phones per interval and group those shifts give.
    required : ndarray [P, G]
        The staffing plan's curve.
    two_step_passed, joint_passed : bool
        Does the answer meet the rule (``over``: every interval, or the whole day) on the search seed.
    removals : list of dict
        Every change tried, in order: group, shift, ``count`` (shifts taken away at once), ``added`` (a
        shift added because the two-step answer
        failed somewhere; ``for`` the interval), ``kept``, and for a removal not kept the first failing
        interval and why.
    evaluations, days : int, float
        Candidates simulated, and replication-days (a removal that fails early counts its intervals).
    wall_s : float
    cost_per_hour : ndarray [G] or None
    interval_min : int
    rule : str
    over : str
        ``"interval"`` or ``"day"``: what the targets were applied to.
    two_step_kpis, joint_kpis : dict
        Mean service level and abandonment per interval (``service_level``, ``abandon_rate``), of the day
        (``day_service_level``, ``day_abandon_rate``) and of the worst measured interval
        (``worst_interval_service_level``, ``worst_interval_abandon_rate``), on the search seed.
    """

    templates: list
    group_names: tuple
    two_step: np.ndarray
    joint: np.ndarray
    two_step_headcount: np.ndarray
    joint_headcount: np.ndarray
    required: np.ndarray
    two_step_passed: bool
    joint_passed: bool
    removals: list
    evaluations: int
    days: float
    wall_s: float
    interval_min: int
    rule: str
    cost_per_hour: np.ndarray | None = None
    scenario: object = field(default=None, repr=False)
    over: str = "interval"
    two_step_kpis: dict = field(default_factory=dict, repr=False)
    joint_kpis: dict = field(default_factory=dict, repr=False)

    def _paid(self, counts: np.ndarray) -> np.ndarray:
        """Paid hours per group."""
        paid = np.array([t.paid_min for t in self.templates], dtype=np.float64) / 60.0
        return counts @ paid

    @property
    def two_step_paid_hours(self) -> float:
        return float(self._paid(self.two_step).sum())

    @property
    def joint_paid_hours(self) -> float:
        return float(self._paid(self.joint).sum())

    def _cost(self, counts) -> float | None:
        if self.cost_per_hour is None:
            return None
        return float(self._paid(counts) @ self.cost_per_hour)

    @property
    def two_step_cost(self) -> float | None:
        return self._cost(self.two_step)

    @property
    def joint_cost(self) -> float | None:
        return self._cost(self.joint)

    @property
    def saving(self) -> float:
        """Share of the two-step paid hours (or cost, with costs) the selection saves."""
        before = self.two_step_cost if self.cost_per_hour is not None else self.two_step_paid_hours
        after = self.joint_cost if self.cost_per_hour is not None else self.joint_paid_hours
        return 0.0 if not before else 1.0 - after / before

    def summary(self) -> dict:
        groups = {}
        for g, name in enumerate(self.group_names):
            groups[name] = {"two_step_agents": int(self.two_step[g].sum()), "joint_agents": int(self.joint[g].sum()),
                            "two_step_paid_hours": float(self._paid(self.two_step[g])),
                            "joint_paid_hours": float(self._paid(self.joint[g]))}
        return jsonable({
            "two_step_agents": int(self.two_step.sum()), "joint_agents": int(self.joint.sum()),
            "two_step_paid_hours": self.two_step_paid_hours, "joint_paid_hours": self.joint_paid_hours,
            "two_step_cost": self.two_step_cost, "joint_cost": self.joint_cost, "saving": self.saving,
            "required_agent_hours": float(self.required.sum() * self.interval_min / 60),
            "over": self.over, "two_step_passes": bool(self.two_step_passed), "joint_passes": bool(self.joint_passed),
            **{f"{who}_{k}": v for who, kp in (("two_step", self.two_step_kpis), ("joint", self.joint_kpis))
               for k, v in kp.items() if not isinstance(v, np.ndarray)},
            "shifts_added": sum(r["added"] for r in self.removals),
            "removals_tried": sum(not r["added"] for r in self.removals),
            "removals_kept": sum(r["kept"] and not r["added"] for r in self.removals),
            "shifts_removed": sum(r.get("count", 1) for r in self.removals if r["kept"] and not r["added"]),
            "evaluations": self.evaluations, "simulated_days": round(self.days, 1), "wall_s": round(self.wall_s, 1),
            "rule": self.rule, "groups": groups})

    def shifts(self) -> list[dict]:
        """One row per group and shift in use in either answer."""
        rows = []
        for g, name in enumerate(self.group_names):
            for s, t in enumerate(self.templates):
                if self.two_step[g, s] or self.joint[g, s]:
                    rows.append({"group": name, "shift": t.name, "start": _hhmm(t.start_min),
                                 "hours": t.length_min / 60, "two_step": int(self.two_step[g, s]),
                                 "joint": int(self.joint[g, s])})
        return rows

    def to_dict(self) -> dict:
        return jsonable({"summary": self.summary(), "shifts": self.shifts(), "removals": self.removals,
                         "headcount": {"required": self.required.tolist(),
                                       "two_step": self.two_step_headcount.tolist(),
                                       "joint": self.joint_headcount.tolist()},
                         "per_interval": {f"{who}_{k}": kp[k].tolist() for who, kp in
                                          (("two_step", self.two_step_kpis), ("joint", self.joint_kpis))
                                          for k in ("service_level", "abandon_rate") if k in kp}})

    def to_csv(self) -> str:
        rows = [[r["group"], r["shift"], r["start"], r["hours"], r["two_step"], r["joint"]] for r in self.shifts()]
        return csv_text(["group", "shift", "start", "hours", "two_step", "joint"], rows)

    def __repr__(self) -> str:
        s = self.summary()
        return (f"<ShiftSelection {s['joint_agents']} shifts, {s['joint_paid_hours']:,.1f} paid hours "
                f"(two steps: {s['two_step_agents']}, {s['two_step_paid_hours']:,.1f}; saves {self.saving:.1%})>")


def _evaluator(plan: StaffingPlan, progress, floor: float | None = None) -> _Evaluator:
    """An evaluator with the plan's own rule: seed, replications, confidence level, targets, engine. With
    ``floor``, its interval rule is instead: every interval's mean service level at least ``floor``."""
    t = plan.targets
    if floor is None:
        level, sl, amax, occ = plan.check_level, t["service_level"], t["abandon_max"], t["occupancy_max"]
    else:
        level, sl, amax, occ = None, floor, None, None
    E = _Evaluator(plan.scenario, plan.seed, plan.replications, plan.engine, level, sl, amax, occ, plan.measured,
                   progress, run_options=plan.run_options)
    E.set_stepper(int(plan.run_options.get("workers") or 0) or _cores())
    return E


def _cores() -> int:
    from ..run.executors import default_workers
    return default_workers()


def _day_rule(plan: StaffingPlan):
    """The plan's targets applied to the whole day: (a function ev -> fails?, the rule in words).

    Per replication the day's service level and abandonment (as :attr:`simcc.Result.day` counts them,
    after the warm-up); each line's one-sided bound at the plan's confidence, Bonferroni over the lines
    when the plan's rule holds for all its checks at once."""
    t = plan.targets
    if t["occupancy_max"] is not None:
        raise ValueError("over='day' judges the day's service level and abandonment; staff without "
                         "occupancy_max")
    lines = [k for k in ("service_level", "abandon_max") if t[k] is not None]
    level = plan.confidence
    joint = level is not None and plan.check_level is not None and plan.check_level > level + 1e-12
    if joint and len(lines) > 1:            # the plan's rule holds all its checks at once: so does the day's
        level = 1 - (1 - level) / len(lines)
    names = list(DAY_KPIS)

    def fails(ev, E) -> bool:
        day = _day(ev, E)
        rows = np.zeros((day.shape[0], 1, len(INTERVAL_KPIS)))
        for k in ("service_level", "abandon_rate", "occupancy"):
            rows[:, 0, INTERVAL_KPIS.index(k)] = day[:, names.index(k)]
        return bool(failing(rows, t, level, np.ones(1, dtype=bool)).any())

    words = target_lines(t)
    how = ("plain means" if level is None else
           f"one-sided bound at {100 * level:g}% over {plan.replications} replications")
    return fails, f"the whole day: {words} ({how}); seed {plan.seed}, common random numbers for every candidate"


def _day(ev, E) -> np.ndarray:
    """Per-replication day KPIs [R, DAY_KPIS] of an evaluation (simulated again if it has none)."""
    return ev.day if ev.day is not None else E.result(ev).day


def _kpis(ev, E, measured) -> dict:
    """Mean service level and abandonment per interval and of the day, and the worst measured interval."""
    day = _day(ev, E)
    names = list(DAY_KPIS)
    sl, ab = np.asarray(ev.sl[0], dtype=float), np.asarray(ev.ab[0], dtype=float)
    with np.errstate(invalid="ignore"):
        return {"service_level": sl, "abandon_rate": ab,
                "day_service_level": float(np.nanmean(day[:, names.index("service_level")])),
                "day_abandon_rate": float(np.nanmean(day[:, names.index("abandon_rate")])),
                "worst_interval_service_level": float(np.nanmin(np.where(measured, sl, np.nan))),
                "worst_interval_abandon_rate": float(np.nanmax(np.where(measured, ab, np.nan)))}


def select_shifts(plan: StaffingPlan, shift_templates: Sequence[ShiftTemplate] | None = None, *,
                  over: str = "interval", interval_floor: float | None = None, max_evaluations: int = 5000,
                  time_limit_s: float = 60.0,
                  progress: Callable[[int], None] | None = None, **template_options) -> ShiftSelection:
    """Shifts per group, selected by simulation against the plan's targets (module docs: the method).

    Parameters
    ----------
    plan : StaffingPlan
        From :func:`simcc.plan.staff`: its curve, rule (seed, replications, confidence, targets) and
        costs per agent-hour (``cost=``) if it has them.
    shift_templates : sequence of ShiftTemplate, optional
        The shifts that may be used; default :func:`simcc.plan.shifts.templates` with ``template_options``
        (``length_hours``, ``start_every_min``, ``break_after_min``, ``break_min``, ...).
    over : str
        ``"interval"`` (default): the plan's rule, every interval meets the targets. ``"day"``: the
        targets hold for the whole day's calls (each line's one-sided bound over the replications of the
        day's figure); single intervals may then fall below them, and the result says how far.
    interval_floor : float, optional
        With ``over="day"``: every interval's mean service level must also be at least this share (0.8:
        no interval below 80%), so that the day's target is not met by giving up one part of the day.
    max_evaluations : int
        Stop trying removals after this many candidates.
    time_limit_s : float
        Time limit of each group's covering integer program.
    progress : callable, optional
        Called with the number of candidates judged so far.

    Returns
    -------
    ShiftSelection

    Raises
    ------
    ValueError
        A plan with shrinkage (select shifts for the on-phone curve, then roster for shrinkage), a plan
        that fails some interval, ``over="day"`` with an occupancy line, or templates that do not fit the
        scenario's intervals.
    """
    t0 = time.perf_counter()
    if not isinstance(plan, StaffingPlan):
        raise ValueError("select_shifts needs a StaffingPlan from simcc.plan.staff")
    if over not in ("interval", "day"):
        raise ValueError(f"over must be 'interval' or 'day', not {over!r}")
    if interval_floor is not None:
        if over != "day":
            raise ValueError("interval_floor goes with over='day' (the interval rule already holds every interval)")
        if plan.targets["service_level"] is None:
            raise ValueError("interval_floor is a service level: staff with a service-level target")
        if not 0 < float(interval_floor) < 1:
            raise ValueError(f"interval_floor must be a share strictly between 0 and 1, not {interval_floor!r}")
    if not plan.passed[plan.measured].all():
        raise ValueError("the staffing plan fails some intervals (see plan.passed); select shifts for a plan "
                         "that meets the targets")
    if plan.shrinkage is not None:
        raise ValueError("select_shifts works on agents on the phones: staff without shrinkage, select the "
                         "shifts, and add shrinkage when rostering")
    scn = plan.scenario
    P, G = plan.agents.shape
    temps = (list(shift_templates) if shift_templates is not None
             else templates(scn.n_intervals, scn.interval_minutes, **template_options))
    if not temps:
        raise ValueError("give at least one shift template")
    wrap = P * scn.interval_minutes == 1440
    A = _matrix(temps, P, scn.interval_minutes, wrap)          # [P, S]
    x = np.zeros((G, len(temps)), dtype=np.int64)
    for g in range(G):
        x[g] = cover(plan.agents[:, g], temps, scn.interval_minutes, wrap=wrap, time_limit_s=time_limit_s).counts
    two_step = x.copy()
    head = (A @ x.T).astype(np.int64)                          # [P, G]
    if over == "day":
        day_fails, rule = _day_rule(plan)
        if interval_floor is not None:
            rule += f"; and every interval's mean service level >= {100 * interval_floor:g}%"
    else:
        rule = plan.rule
    E = _evaluator(plan, progress, interval_floor)

    def fails(ev) -> bool:
        if over == "interval":
            return bool(ev.fail.any())
        return day_fails(ev, E) or (interval_floor is not None and bool(ev.fail.any()))

    removals: list = []
    try:
        ev = E(head)
        two_step_ev = ev
        cost = plan.cost_per_hour
        paid = np.array([t.paid_min for t in temps], dtype=np.float64)
        added = 0
        while fails(ev) and added < 2 * P and E.count < max_evaluations:
            # more agents than the passing curve, yet an interval fails: noise of another service order
            # (common random numbers keep it small, not zero); add the shift that covers the first failing
            # interval (the day: the interval with the lowest service level) and most of the rest of the
            # day, in the group furthest short there
            if over == "day":
                q = int(np.nanargmin(np.where(plan.measured, np.nan_to_num(ev.sl[0], nan=1.0), np.inf)))
            else:
                q = int(np.flatnonzero(ev.fail)[0])
            g = E.groups_to_add(ev, q, head, 1)[0]
            s = max((s for s in range(len(temps)) if A[q, s]), key=lambda s: (int(A[q:, s].sum()), -s))
            trial = head.copy()
            trial[:, g] += A[:, s]
            ev = E.check(ev, trial, int(np.flatnonzero(A[:, s])[0]), whole=True)
            head = trial
            x[g, s] += 1
            added += 1
            removals.append({"group": plan.group_names[g], "shift": temps[s].name, "kept": True, "added": True,
                             "for": _hhmm(q * scn.interval_minutes), "reason": ev.reason[q] or two_step_ev.reason[q]})
        if not fails(ev):
            def order():
                surplus = head - plan.agents
                cands = [(g, s) for g in range(G) for s in range(len(temps)) if x[g, s] > 0]
                return sorted(cands, key=lambda c: (-int((surplus[A[:, c[1]] > 0, c[0]] > 0).sum()),
                                                    -(paid[c[1]] * (1.0 if cost is None else cost[c[0]])),
                                                    c[0], c[1]))
            for g, s in order():
                k = 1                       # shifts of this kind to take away at once: doubles while it passes
                while x[g, s] > 0 and E.count < max_evaluations:
                    m = int(min(k, x[g, s]))
                    trial = head.copy()
                    trial[:, g] -= m * A[:, s]
                    p = int(np.flatnonzero(A[:, s])[0])
                    out = E.check(ev, trial, p, whole=over == "day")
                    kept = not fails(out)
                    rec = {"group": plan.group_names[g], "shift": temps[s].name, "count": m, "kept": kept,
                           "added": False}
                    if not kept and over == "interval":
                        q = int(np.flatnonzero(out.fail)[0])
                        rec.update(fails_at=q, time=_hhmm(q * scn.interval_minutes), reason=out.reason[q])
                    elif not kept:
                        rec.update(fails_at=None, time=None, reason="the day")
                    removals.append(rec)
                    if not kept:
                        if m == 1:
                            break
                        k = max(1, m // 2)  # too many at once: fewer, down to one
                        continue
                    x[g, s] -= m
                    k = 2 * m
                    head, ev = trial, out
        return ShiftSelection(temps, tuple(plan.group_names), two_step, x, (A @ two_step.T).astype(np.int64), head,
                              plan.agents.copy(), not fails(two_step_ev), not fails(ev), removals, E.count, E.days,
                              time.perf_counter() - t0, scn.interval_minutes, rule, cost, E.scenario(head), over,
                              _kpis(two_step_ev, E, plan.measured), _kpis(ev, E, plan.measured))
    finally:
        E.close()
