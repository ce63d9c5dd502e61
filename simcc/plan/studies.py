"""A planning study: every answer the HTML report shows, computed once for one scenario.

The scenario simulated as given, the staffing found by simulation, a shift
roster covering it, the trunk lines it needs, and headcount variants, all on
common random numbers (one seed for every run). ``simcc report`` renders a
study (:func:`simcc.present.report.write_report`); scripts can use its parts.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..model.scenario import Scenario
from ..run.simulation import simulate
from . import shifts as shifts_mod
from .staffing import staff as staff_fn
from .trunking import trunks as trunks_fn


@dataclass
class Study:
    """What :func:`study` computed (``None`` / empty for the parts it was asked to skip)."""

    scenario: Scenario
    result: object
    plan: object = None
    rosters: dict = field(default_factory=dict)
    trunk_plan: object = None
    variants: dict = field(default_factory=dict)


def scaled(scenario: Scenario, factor: float) -> Scenario:
    """The scenario with every group's headcount multiplied by ``factor`` (rounded, at least 0)."""
    groups = []
    for g in scenario.groups:
        d = g.model_dump(mode="python")
        d["agents"] = [max(0, int(round(a * factor))) for a in scenario.agents_per_interval(g)]
        d.pop("roster", None)
        groups.append(d)
    return scenario.with_changes(groups=groups)


def study(scenario: Scenario, *, seed: int = 1, replications: int = 20, staff: bool = True, verify: bool = False,
          trunks: bool = True, shifts: bool = True, sweep: tuple = (0.9, 1.1), shift_options: dict | None = None,
          engine: str = "kernel", progress=None) -> Study:
    """Compute the planning answers for ``scenario`` (see the module docs).

    Parameters
    ----------
    seed, replications : int
        For every run (common random numbers across variants).
    staff : bool
        Find the staffing by simulation (:func:`simcc.plan.staff`); needs an
        SLA service level or abandonment line in the scenario.
    verify : bool
        Run the staffing's interval-by-interval descent and minimality check (slower).
    trunks, shifts : bool
        Size the trunk lines, and build a shift roster for the staffing.
    sweep : tuple of float
        Headcount factors compared with the scenario (the staffing plan is
        added when found).
    shift_options : dict, optional
        Passed to :func:`simcc.plan.shifts.templates`.
    progress : callable, optional
        Called with a short text before each step.
    """
    say = progress or (lambda text: None)
    sla = scenario.sla
    say("simulating the scenario")
    result = simulate(scenario, seed=seed, replications=replications, engine=engine)
    out = Study(scenario, result)
    if staff and (sla.service_level is not None or sla.abandon_max_pct is not None):
        say("finding the staffing by simulation")
        out.plan = staff_fn(scenario, seed=seed, replications=replications, engine=engine, verify=verify)
    if shifts and out.plan is not None:
        say("building the shift roster")
        out.rosters = shifts_mod.roster_for_plan(out.plan, **(shift_options or {}))
    if trunks:
        say("sizing the trunk lines")
        out.trunk_plan = trunks_fn(out.plan.scenario if out.plan is not None else scenario, seed=seed,
                                   replications=replications, engine=engine)
    if sweep:
        say("running the comparison")
        for f in sorted(set(sweep) | {1.0}):
            label = "scenario" if f == 1.0 else f"headcount x{f:g}"
            out.variants[label] = result if f == 1.0 else simulate(scaled(scenario, f), seed=seed,
                                                                    replications=replications, engine=engine)
        if out.plan is not None:
            plan = out.plan
            out.variants["staffing plan"] = (plan.result if plan.replications == replications and plan.seed == seed
                                             else simulate(plan.scenario, seed=seed, replications=replications,
                                                           engine=engine))
    return out
