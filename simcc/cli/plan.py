"""Planners' answers on the command line: ``simcc staff``, ``trunks``, ``shifts`` and ``report``."""
from __future__ import annotations

import contextlib
import shlex
import sys
from pathlib import Path
from typing import Optional

import numpy as np
import typer

from ..atomic import atomic_write
from ..model.targets import parse_share, parse_target
from ..plan import SCENARIO
from ..plan import shifts as shifts_mod
from ..plan import staff as staff_fn
from ..plan import study as study_fn
from ..plan import trunks as trunks_fn
from ..plan.shiftsearch import select_shifts
from ..run.kpis import format_value
from ..run.simulation import DEFAULT_SEED
from .app import (
    DEBUG_HELP,
    EXIT_INTERRUPTED,
    FORMAT_HELP,
    Engine,
    Format,
    app,
    emit,
    fail,
    load_scenario,
    user_errors,
)
from .console import Cell, err, error, note, print_table, say, warning
from .scale import SCHEDULER_HELP, WORKERS_HELP, check_out_dir


def _p2(x) -> str:
    """A share in percent with two decimals (blocking), '-' when missing."""
    return "-" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{100 * x:.2f}%"


def _num(x) -> str:
    return "-" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{x:,.1f}"


def _share(text: Optional[str], name: str) -> Optional[float]:
    if text is None:
        return None
    try:
        return parse_share(text, name)
    except ValueError as exc:
        fail(str(exc))


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


def search_line(state) -> str:
    """One short line for a staffing search's progress: the step, the descent's interval and ETA first (what
    fits an 80-column terminal), then simulations, simulated days and the time so far."""
    parts = [f"staffing: {state.phase}"]
    if state.total:
        parts.append(f"interval {state.done}/{state.total}")
    if state.eta_s is not None:
        parts.append(f"ETA {_clock(state.eta_s)}")
    if state.failing and state.phase == "repair":
        parts.append(f"{state.failing} intervals failing")
    parts.append(f"{state.evaluations:,} simulations")
    if state.resumed:
        parts.append(f"{state.resumed:,} from --out")
    parts.append(f"{state.simulated_days:,} simulated days")
    parts.append(f"elapsed {_clock(state.elapsed_s)}")
    return ", ".join(parts)


@contextlib.contextmanager
def _search_progress():
    """A live progress line for a staffing search on a terminal (stderr); silent otherwise."""
    if not err.is_terminal:
        yield None
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn
    bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), console=err, transient=True)
    with bar:
        task = bar.add_task("staffing: start", total=None)

        def tick(state) -> None:
            bar.update(task, description=search_line(state).replace("[", "\\["))
        yield tick


@contextlib.contextmanager
def _status(what: str):
    """A live "n simulations" counter on a terminal; silent otherwise."""
    if not err.is_terminal:
        yield None
        return
    with err.status(what) as status:
        yield lambda n: status.update(f"{what}: {n} simulations")


def _staff_args(scn, target, abandon_max, occupancy_max):
    kw = {}
    if target is not None:
        try:
            kw["target_sl"], kw["within_s"] = parse_target(target)
        except ValueError as exc:
            fail(str(exc))
    elif scn.sla.service_level is None and scn.sla.abandon_max_pct is None and occupancy_max is None:
        fail("the scenario has no SLA service level; give --target, e.g. --target 90/15")
    kw["abandon_max"] = SCENARIO if abandon_max is None else (
        None if abandon_max.strip().lower() in ("none", "off") else _share(abandon_max, "--abandon-max"))
    kw["occupancy_max"] = _share(occupancy_max, "--occupancy-max")
    return kw


SHRINKAGE_HELP = ("Paid time off the phones, e.g. 30% (or per group: general=30%,fault=25%): the plan also "
                  "gives the agents to roster, on-phone / (1 - shrinkage).")


COST_HELP = ("Cost of an agent-hour per group, e.g. general=1.0,fault=1.1,complaint=1.2 (or 'scenario' for the "
             "groups' cost_per_hour): the plan then minimises cost, not agents (it never costs more than the plan "
             "with the fewest agents).")


def _cost(text: Optional[str]):
    """--cost scenario or GROUP=COST,GROUP=COST (the groups are checked by staff())."""
    if text is None or text.strip() == "scenario":
        return None if text is None else "scenario"
    out = {}
    for part in text.split(","):
        name, sep, value = part.partition("=")
        if not sep or not name.strip():
            fail(f"--cost {text!r}: expected GROUP=COST,GROUP=COST (or 'scenario')")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            fail(f"--cost for {name.strip()}: {value.strip()!r} is not a number")
    return out


def _shrinkage(text: Optional[str], scn):
    """--shrinkage 30% or general=30%,fault=25% (unlisted groups: 0)."""
    if text is None:
        return None
    try:
        if "=" not in text:
            return parse_share(text, "--shrinkage")
        out = {}
        for part in text.split(","):
            name, sep, value = part.partition("=")
            if not sep:
                fail(f"--shrinkage {text!r}: expected 30% or GROUP=SHARE,GROUP=SHARE")
            out[name.strip()] = parse_share(value.strip(), f"--shrinkage for {name.strip()}")
        unknown = sorted(set(out) - {g.name for g in scn.groups})
        if unknown:
            fail(f"--shrinkage names unknown group(s) {', '.join(unknown)}; the groups are "
                 f"{', '.join(g.name for g in scn.groups)}")
        return out
    except ValueError as exc:
        fail(str(exc))


def _confidence(confidence: float) -> Optional[float]:
    if confidence == 0:
        return None
    if not 50 <= confidence < 100:
        fail(f"--confidence must be 0 (plain mean) or a percent from 50 to below 100, not {confidence:g}")
    return confidence / 100


OUT_HELP = ("Keep the search in this folder: every simulated candidate as it ends, then plan.json, plan.csv, "
            "staffed.yaml and meta.json (for --resume after Ctrl-C).")


def _interrupted(exc, out_dir: Optional[Path]):
    """Ctrl-C: say what was kept and how to continue; exit 130."""
    n = getattr(exc, "staff_evaluations", None)
    done = f" after {n} simulations" if n is not None else ""
    if out_dir is None:
        error(f"interrupted{done}; nothing was kept (give --out DIR to keep the search and resume it)")
    else:
        again = " ".join(shlex.quote(a) for a in sys.argv[1:] if a != "--resume")
        error(f"interrupted{done}; they are kept in {out_dir}. Continue with: simcc {again} --resume")
    raise typer.Exit(EXIT_INTERRUPTED)


@app.command()
def staff(
    scenario: Path = typer.Argument(..., help="Scenario YAML file."),
    target: Optional[str] = typer.Option(None, help='Service level "PERCENT/SECONDS", e.g. 90/15 (default: the '
                                                    'scenario\'s SLA).'),
    abandon_max: Optional[str] = typer.Option(None, help='Largest abandonment, e.g. 5% (default: the scenario\'s '
                                                         'SLA; "none" for no limit).'),
    occupancy_max: Optional[str] = typer.Option(None, help="Largest agent occupancy per interval, e.g. 90%."),
    seed: int = typer.Option(DEFAULT_SEED, help="Seed of the common random numbers."),
    replications: int = typer.Option(20, "--replications", "-r", min=2, help="Replications per simulation."),
    confidence: float = typer.Option(95.0, help="Confidence of the rule, percent (0: plain means)."),
    per_interval: bool = typer.Option(False, "--per-interval",
                                      help="Confidence per interval instead of for all intervals at once."),
    verify: bool = typer.Option(True, "--verify/--no-verify",
                                help="Descend interval by interval and check that one agent fewer fails (slower)."),
    fmt: Format = typer.Option(Format.table, "--format", help=FORMAT_HELP),
    save_scenario: Optional[Path] = typer.Option(None, help="Write the scenario with the new headcount to this "
                                                            "YAML file."),
    engine: Engine = typer.Option(Engine.kernel, help="kernel (compiled) or reference (SimPy, slow)."),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", min=1, help=WORKERS_HELP),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help=SCHEDULER_HELP),
    shrinkage: Optional[str] = typer.Option(None, "--shrinkage", help=SHRINKAGE_HELP),
    cost: Optional[str] = typer.Option(None, "--cost", help=COST_HELP),
    out_dir: Optional[Path] = typer.Option(None, "--out", help=OUT_HELP),
    resume: bool = typer.Option(False, "--resume", help="Continue the search kept in --out: candidates already "
                                                        "simulated there are read back; the plan is the same as "
                                                        "an uninterrupted search's."),
    debug: bool = typer.Option(False, help=DEBUG_HELP),
):
    """The fewest agents per interval (and group) that meet every SLA line, found by simulation."""
    scn = load_scenario(scenario, debug)
    if save_scenario is not None and save_scenario.is_dir():
        fail(f"--save-scenario {save_scenario} is a folder; give a file name")
    if resume and out_dir is None:
        fail("--resume needs --out (the folder of the search to continue)")
    check_out_dir(out_dir)
    kw = _staff_args(scn, target, abandon_max, occupancy_max)
    with user_errors(debug), _search_progress() as tick:
        try:
            plan = staff_fn(scn, seed=seed, replications=replications, confidence=_confidence(confidence),
                            joint=not per_interval, verify=verify, engine=engine.value, progress=tick,
                            workers=workers, scheduler=scheduler, shrinkage=_shrinkage(shrinkage, scn),
                            out_dir=out_dir, resume=resume, cost=_cost(cost), **kw)
        except KeyboardInterrupt as exc:
            _interrupted(exc, out_dir)
    emit(plan, fmt, lambda: _print_plan(plan))
    if save_scenario is not None:
        atomic_write(save_scenario, plan.scenario_yaml())
        note(f"wrote {save_scenario}")
    if out_dir is not None:
        note(f"wrote {out_dir}/plan.json, plan.csv and staffed.yaml")
    if not plan.passed[plan.measured].all():
        warning("the search stopped before every interval met the rule (see 'rule met')")


def _print_plan(plan) -> None:
    t = plan.table()
    groups = [c for c in t if c.startswith("agents_")]
    rows = []
    for p in range(len(t["required"])):
        sl = (f"{format_value('service_level', t['service_level'][p])} "
              f"({format_value('service_level', t['service_level_ci_low'][p])}-"
              f"{format_value('service_level', t['service_level_ci_high'][p])})")
        ab = (f"{format_value('abandon_rate', t['abandon_rate'][p])} "
              f"({format_value('abandon_rate', t['abandon_rate_ci_low'][p])}-"
              f"{format_value('abandon_rate', t['abandon_rate_ci_high'][p])})")
        fewer, where = t["one_fewer_fails"][p], t["one_fewer_fails_where"][p]
        fewer_txt = "-" if fewer is None else ("yes" if where == "here" else f"yes ({where})")
        met = ("warm-up" if not t["measured"][p] else
               Cell("yes", "green") if t["passed"][p] else Cell("NO", "bold red"))
        rows.append([t["time"][p], str(t["required"][p]), *[str(t[c][p]) for c in groups], str(t["erlang_a"][p]),
                     str(t["erlang_c"][p]), str(t["scheduled"][p]),
                     *([str(t["rostered"][p])] if "rostered" in t else []), sl, ab,
                     format_value("occupancy", t["occupancy"][p]), met, fewer_txt])
    print_table(["interval", "required", *[c[len("agents_"):] for c in groups], "Erlang A", "Erlang C", "scheduled",
                 *(["to roster"] if "rostered" in t else []),
                 "service level (95% CI)", "abandon (95% CI)", "occupancy", "rule met", "1 fewer fails"], rows,
                title=f"{plan.source.name}: required agents per interval")
    s = plan.summary()
    print_table(["", "agent-hours"], [
        ["required (simulation)", _num(s["agent_hours"])],
        *([[f"to roster with shrinkage ({', '.join(f'{g} {100 * v:g}%' for g, v in s['shrinkage'].items())})",
            _num(s["rostered_agent_hours"])]] if s["shrinkage"] else []),
        ["scheduled (scenario)", _num(s["scheduled_agent_hours"])],
        ["Erlang A (center as one queue)", _num(s["erlang_a_agent_hours"])],
        ["Erlang C (center as one queue)", _num(s["erlang_c_agent_hours"])]], title="Agent-hours")
    if s["cost"] is not None:
        per = ", ".join(f"{g} {v:g}" for g, v in s["cost_per_hour"].items())
        say(f"Cost per day: {s['cost']:,.1f} (agent-hours x cost per hour: {per}).")
    say(f"Rule: {plan.rule}.")
    wall = "" if s["wall_s"] is None else f", {s['wall_s']:,.1f} s wall time"
    kept = f", {s['resumed_evaluations']:,} of them read back from --out" if s["resumed_evaluations"] else ""
    say(f"Service level = {s['sl_definition']}. {plan.evaluations:,} simulations ({s['simulated_days']:,} "
        f"simulated days{kept}){wall}.")


@app.command()
def trunks(
    scenario: Path = typer.Argument(..., help="Scenario YAML file."),
    blocking_max: Optional[str] = typer.Option(None, help="Largest blocking in any interval, e.g. 1% (default: the "
                                                          "scenario's SLA, else 1%)."),
    seed: int = typer.Option(DEFAULT_SEED, help="Seed of the common random numbers."),
    replications: int = typer.Option(20, "--replications", "-r", min=2, help="Replications per simulation."),
    confidence: float = typer.Option(95.0, help="Confidence of the rule, percent (0: plain means)."),
    fmt: Format = typer.Option(Format.table, "--format", help=FORMAT_HELP),
    engine: Engine = typer.Option(Engine.kernel, help="kernel (compiled) or reference (SimPy, slow)."),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", min=1, help=WORKERS_HELP),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help=SCHEDULER_HELP),
    debug: bool = typer.Option(False, help=DEBUG_HELP),
):
    """The fewest trunk lines (and E1 groups of 30) that keep blocking under the target, with Erlang B beside it."""
    scn = load_scenario(scenario, debug)
    bmax = SCENARIO if blocking_max is None else _share(blocking_max, "--blocking-max")
    with user_errors(debug), _status("sizing trunks") as tick:
        tp = trunks_fn(scn, bmax, seed=seed, replications=replications, confidence=_confidence(confidence),
                       engine=engine.value, progress=tick, workers=workers, scheduler=scheduler)

    def table():
        s = tp.summary()
        print_table(["", "simulation", "Erlang B"], [
            ["lines", str(s["lines"]), str(s["erlang_b_lines"])],
            ["E1 groups (30 channels)", str(s["e1_groups"]), str(s["erlang_b_e1_groups"])],
            ["busiest interval", s["busiest_interval"], s["busiest_interval"]],
            ["load there, Erlangs", "", _num(s["offered_erlangs"])],
            ["line holding time per call, s", "", _num(s["holding_time_s"])],
            ["blocking there (mean / rule's bound)", f"{_p2(s['blocking_at_busiest'])} / {_p2(s['bound_at_busiest'])}",
             ""],
            ["... with one line fewer",
             f"{_p2(s['blocking_at_busiest_one_fewer'])} / {_p2(s['bound_at_busiest_one_fewer'])}", ""],
            ["worst interval blocking (mean)", _p2(s["worst_interval_blocking"]), ""],
            ["most lines busy (unlimited lines)", str(s["peak_lines_unlimited"]), ""],
            ["trunk lines in the scenario", "unlimited" if s["scenario_trunks"] is None else str(s["scenario_trunks"]),
             ""]], title=f"{scn.name}: trunk lines for blocking <= {100 * tp.blocking_max:g}%")
        say(f"Rule: {tp.rule}. Holding time = IVR + wait + talk + HOLD per call, measured with unlimited lines.")
    emit(tp, fmt, table)


@app.command()
def shifts(
    scenario: Path = typer.Argument(..., help="Scenario YAML file."),
    shift_hours: float = typer.Option(8.0, help="Shift length, hours (including the break)."),
    start_every: Optional[int] = typer.Option(None, min=1, help="Minutes between possible shift starts (default: "
                                                                "every interval)."),
    break_after: Optional[int] = typer.Option(None, help="Unpaid break starts this many minutes into the shift."),
    break_minutes: int = typer.Option(0, min=0, help="Length of the unpaid break, minutes."),
    method: str = typer.Option("milp", help="milp (optimal integer program, HiGHS) or greedy (hand-written covering)."),
    headcount: bool = typer.Option(False, "--headcount", help="Cover the scenario's own headcount instead of the "
                                                              "staffing found by simulation."),
    target: Optional[str] = typer.Option(None, help='Service level for the staffing, e.g. 90/15 (default: the '
                                                    'scenario\'s).'),
    abandon_max: Optional[str] = typer.Option(None, help="Largest abandonment for the staffing, e.g. 5%."),
    seed: int = typer.Option(DEFAULT_SEED, help="Seed of the common random numbers."),
    replications: int = typer.Option(20, "--replications", "-r", min=2, help="Replications per simulation."),
    verify: bool = typer.Option(False, "--verify/--no-verify", help="Full staffing descent and minimality check "
                                                                    "first (slower)."),
    select: bool = typer.Option(False, "--select", help="Staff with the full descent, cover, then take shifts away "
                                                        "by simulation while every interval still meets the "
                                                        "targets (staffing and shifts together); prints both "
                                                        "answers."),
    over: str = typer.Option("interval", "--over", help="With --select: the targets hold in every interval "
                                                         "(interval) or for the whole day's calls (day)."),
    interval_floor: Optional[str] = typer.Option(None, "--interval-floor", help="With --over day: no interval's "
                                                                              "mean service level below this, "
                                                                              "e.g. 80%."),
    cost: Optional[str] = typer.Option(None, "--cost", help=COST_HELP),
    fmt: Format = typer.Option(Format.table, "--format", help=FORMAT_HELP),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", min=1, help=WORKERS_HELP),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help=SCHEDULER_HELP),
    debug: bool = typer.Option(False, help=DEBUG_HELP),
):
    """A roster: agents per shift template that covers the required agents in every interval."""
    scn = load_scenario(scenario, debug)
    if select and headcount:
        fail("--select needs the staffing found by simulation (leave out --headcount)")
    if cost is not None and not select:
        fail("--cost weighs the shifts --select takes away (give --select too)")
    if over not in ("interval", "day"):
        fail(f"--over must be interval or day, not {over!r}")
    if (over != "interval" or interval_floor is not None) and not select:
        fail("--over and --interval-floor go with --select")
    if interval_floor is not None and over != "day":
        fail("--interval-floor goes with --over day (the interval rule already holds every interval)")
    floor = None if interval_floor is None else parse_share(interval_floor, "--interval-floor")
    with user_errors(debug):
        if select:
            temps = shifts_mod.templates(scn.n_intervals, scn.interval_minutes, length_hours=shift_hours,
                                         start_every_min=start_every, break_after_min=break_after,
                                         break_min=break_minutes)
            with _search_progress() as tick:
                plan = staff_fn(scn, seed=seed, replications=replications, verify=True, progress=tick,
                                workers=workers, scheduler=scheduler, cost=_cost(cost),
                                **_staff_args(scn, target, abandon_max, None))
            with _status("selecting shifts") as tick:
                sel = select_shifts(plan, temps, over=over, interval_floor=floor, progress=tick)
            emit(sel, fmt, lambda: _print_selection(sel))
            return
        kw = None if headcount else _staff_args(scn, target, abandon_max, None)
        temps = shifts_mod.templates(scn.n_intervals, scn.interval_minutes, length_hours=shift_hours,
                                     start_every_min=start_every, break_after_min=break_after, break_min=break_minutes)
        if kw is None:
            names = [g.name for g in scn.groups]
            req = np.array([scn.agents_per_interval(g) for g in scn.groups]).T
        else:
            with _search_progress() as tick:
                plan = staff_fn(scn, seed=seed, replications=replications, verify=verify, progress=tick,
                                workers=workers, scheduler=scheduler, **kw)
            names, req = list(plan.group_names), plan.agents
        if method not in ("milp", "greedy"):
            fail(f"--method must be milp or greedy, not {method!r}")
        rosters = {name: shifts_mod.cover(req[:, g], temps, scn.interval_minutes, method=method)
                   for g, name in enumerate(names)}
        if len(names) > 1:
            rosters["all groups"] = shifts_mod.cover(req.sum(axis=1), temps, scn.interval_minutes, method=method)
    result = shifts_mod.ShiftPlan(rosters)

    def table():
        for name, r in rosters.items():
            say(f"{name}: {r.agents} agents (no roster from these shifts has fewer than {r.lower_bound}); "
                f"{r.paid_hours:,.1f} paid hours for {r.required_hours:,.1f} required ({r.efficiency:.1%})",
                style="bold")
            print_table(["shift", "agents"], [[n, str(c)] for n, c in r.shifts()])
        rows = []
        for p in range(scn.n_intervals):
            m = int(p * scn.interval_minutes)
            rows.append([f"{m // 60:02d}:{m % 60:02d}",
                         *[f"{r.required[p]} / {r.coverage[p]} / {r.surplus[p]:+d}" for r in rosters.values()]])
        print_table(["interval", *rosters], rows, title="Coverage per interval (required / scheduled / surplus)")
        say(f"Method: {next(iter(rosters.values())).method}.")
        if not headcount:
            say("The covering is not simulated: --select simulates it and takes away the shifts the targets do "
                "not need.")
    emit(result, fmt, table)


def _print_selection(sel) -> None:
    s = sel.summary()
    money = sel.cost_per_hour is not None
    rows = []
    for label, who in (("two steps: cover the staffing curve", "two_step"), ("shifts selected by simulation", "joint")):
        rows.append([label, str(s[f"{who}_agents"]), f"{s[f'{who}_paid_hours']:,.1f}",
                     *([f"{s[f'{who}_cost']:,.1f}"] if money else []), "yes" if s[f"{who}_passes"] else "NO",
                     format_value("service_level", s[f"{who}_day_service_level"]),
                     format_value("service_level", s[f"{who}_worst_interval_service_level"]),
                     format_value("abandon_rate", s[f"{who}_worst_interval_abandon_rate"])])
    passes = "every interval passes" if sel.over == "interval" else "the day passes"
    print_table(["answer", "shifts", "paid hours", *(["cost"] if money else []), passes, "day SL",
                 "worst interval SL", "worst interval abandonment"], rows,
                title=f"Staffing and shifts together: saves {sel.saving:.1%}")
    print_table(["group", "shift", "two steps", "selected"],
                [[r["group"], r["shift"], str(r["two_step"]), str(r["joint"])] for r in sel.shifts()])
    say(f"Removals tried {s['removals_tried']}, kept {s['removals_kept']}; shifts added where the covering "
        f"failed {s['shifts_added']}; {s['evaluations']} candidates, {s['simulated_days']:,} replication-days, "
        f"{s['wall_s']:.1f} s.")
    say(f"Rule: {s['rule']}.")


@app.command()
def report(
    scenario: Path = typer.Argument(..., help="Scenario YAML file."),
    out_dir: Path = typer.Option(..., "--out", help="Folder for index.html and the charts (replaced if it holds an "
                                                    "earlier report)."),
    seed: int = typer.Option(DEFAULT_SEED, help="Seed for every run in the report."),
    replications: int = typer.Option(20, "--replications", "-r", min=2, help="Replications per run."),
    do_staff: bool = typer.Option(True, "--staff/--no-staff", help="Find the staffing by simulation."),
    verify: bool = typer.Option(False, "--verify/--no-verify", help="Full staffing descent and minimality check "
                                                                    "(slower)."),
    do_trunks: bool = typer.Option(True, "--trunks/--no-trunks", help="Size the trunk lines."),
    do_shifts: bool = typer.Option(True, "--shifts/--no-shifts", help="Build a shift roster for the staffing."),
    engine: Engine = typer.Option(Engine.kernel, help="kernel (compiled) or reference (SimPy, slow)."),
    debug: bool = typer.Option(False, help=DEBUG_HELP),
):
    """Write an HTML report with charts: SLA pass/fail, per-interval KPIs, staffing, roster, trunks."""
    from ..present.report import ReportError, check_target, write_report
    scn = load_scenario(scenario, debug)
    try:
        check_target(str(out_dir.resolve()))
    except ReportError as exc:
        fail(str(exc))
    status = err.status("report") if err.is_terminal else contextlib.nullcontext()
    with user_errors(debug), status as st:
        progress = (lambda text: st.update(text)) if st is not None else None
        try:
            found = study_fn(scn, seed=seed, replications=replications, staff=do_staff, verify=verify,
                             trunks=do_trunks, shifts=do_shifts, engine=engine.value, progress=progress)
            rep = write_report(found, out_dir, progress=progress)
        except ReportError as exc:
            fail(str(exc))
    say(f"wrote {rep.index} ({', '.join(rep.files)})")
    fails = [line["sla"] for line in rep.result.sla_report() if line["passed"] is False]
    say("SLA: " + ("all lines pass" if not fails else "FAIL: " + ", ".join(fails)))
    sl = rep.result.summary()["service_level"]["mean"]
    if np.isfinite(sl):
        say(f"service level {format_value('service_level', sl)} ({rep.result.meta['sl_definition']['text']})")


