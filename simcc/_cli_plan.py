"""CLI commands for planners' answers: staffing, trunks, shifts, report (registered on simcc.cli.app)."""
from __future__ import annotations

import contextlib
import enum
import json
import math
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from .cli import EXIT_USAGE, _load, _num, _pct, app, err, out
from .errors import ScenarioError, SizeError
from .simulate import DEFAULT_SEED


class PlanFormat(str, enum.Enum):
    table = "table"
    csv = "csv"
    json = "json"


def _fail(message: str):
    err.print(f"[red]error:[/] {message}")
    raise typer.Exit(EXIT_USAGE)


def _p2(x) -> str:
    """A share in percent with two decimals (blocking), '-' when missing."""
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.2f}%"


def _share(text: Optional[str], name: str) -> Optional[float]:
    from .optimize import parse_share
    if text is None:
        return None
    try:
        return parse_share(text, name)
    except ValueError as exc:
        _fail(str(exc))


@contextlib.contextmanager
def _status(what: str):
    """A live "n simulations" counter on a terminal; silent otherwise."""
    if not err.is_terminal:
        yield None
        return
    with err.status(what) as status:
        yield lambda n: status.update(f"{what}: {n} simulations")


@contextlib.contextmanager
def _user_errors(debug: bool):
    try:
        yield
    except (ValueError, SizeError, ScenarioError) as exc:
        if debug:
            raise
        _fail(str(exc))
    except KeyboardInterrupt:
        err.print("interrupted")
        raise typer.Exit(130) from None


def _staff_args(scn, target, abandon_max, occupancy_max):
    from .optimize import SCENARIO, parse_target
    kw = {}
    if target is not None:
        try:
            kw["target_sl"], kw["within_s"] = parse_target(target)
        except ValueError as exc:
            _fail(str(exc))
    elif scn.sla.service_level is None and scn.sla.abandon_max_pct is None and occupancy_max is None:
        _fail("the scenario has no SLA service level; give --target, e.g. --target 90/15")
    kw["abandon_max"] = SCENARIO if abandon_max is None else (
        None if abandon_max.strip().lower() in ("none", "off") else _share(abandon_max, "--abandon-max"))
    kw["occupancy_max"] = _share(occupancy_max, "--occupancy-max")
    return kw


def _confidence(confidence: float) -> Optional[float]:
    if confidence == 0:
        return None
    if not 50 <= confidence < 100:
        _fail(f"--confidence must be 0 (plain mean) or a percent from 50 to below 100, not {confidence:g}")
    return confidence / 100


@app.command()
def staff(
    scenario: Path = typer.Argument(..., help="Scenario YAML file."),
    target: Optional[str] = typer.Option(None, help='Service level "PERCENT/SECONDS", e.g. 90/15 (default: the scenario\'s SLA).'),
    abandon_max: Optional[str] = typer.Option(None, help='Largest abandonment, e.g. 5% (default: the scenario\'s SLA; "none" for no limit).'),
    occupancy_max: Optional[str] = typer.Option(None, help="Largest agent occupancy per interval, e.g. 90%."),
    seed: int = typer.Option(DEFAULT_SEED, help="Seed of the common random numbers."),
    replications: int = typer.Option(20, "--replications", "-r", min=2, help="Replications per simulation."),
    confidence: float = typer.Option(95.0, help="Confidence of the rule, percent (0: plain means)."),
    per_interval: bool = typer.Option(False, "--per-interval", help="Confidence per interval instead of for all intervals at once."),
    verify: bool = typer.Option(True, "--verify/--no-verify", help="Descend interval by interval and check that one agent fewer fails (slower)."),
    fmt: PlanFormat = typer.Option(PlanFormat.table, "--format", help="table, csv (per interval) or json."),
    save_scenario: Optional[Path] = typer.Option(None, help="Write the scenario with the new headcount to this YAML file."),
    engine: str = typer.Option("kernel", help="kernel or reference."),
    debug: bool = typer.Option(False, help="Show tracebacks."),
):
    """The fewest agents per interval (and group) that meet every SLA line, found by simulation."""
    from .optimize import staff as staff_fn
    scn = _load(scenario, debug)
    if save_scenario is not None and save_scenario.is_dir():
        err.print(f"[red]error:[/] --save-scenario {save_scenario} is a folder; give a file name")
        raise typer.Exit(2)
    kw = _staff_args(scn, target, abandon_max, occupancy_max)
    with _user_errors(debug), _status("staffing") as tick:
        plan = staff_fn(scn, seed=seed, replications=replications, confidence=_confidence(confidence),
                        joint=not per_interval, verify=verify, engine=engine, progress=tick, **kw)
    if fmt is PlanFormat.csv:
        sys.stdout.write(plan.to_csv())
    elif fmt is PlanFormat.json:
        sys.stdout.write(json.dumps(plan.to_dict(), indent=2, allow_nan=False) + "\n")
    else:
        _print_plan(plan)
    if save_scenario is not None:
        _save_scenario(plan.scenario, save_scenario)
        err.print(f"wrote {save_scenario}")
    if not plan.passed[plan.measured].all():
        err.print("[yellow]warning:[/] the search stopped before every interval met the rule (see 'rule met')")


def _print_plan(plan) -> None:
    t = plan.table()
    groups = [c for c in t if c.startswith("agents_")]
    tab = Table(title=f"{plan.source.name}: required agents per interval", title_justify="left")
    for col in ["interval", "required"] + [c[len("agents_"):] for c in groups] + [
            "Erlang A", "Erlang C", "scheduled", "service level (95% CI)", "abandon (95% CI)", "occupancy",
            "rule met", "1 fewer fails"]:
        tab.add_column(col, justify="right")
    for p in range(len(t["required"])):
        sl = f"{_pct(t['service_level'][p])} ({_pct(t['service_level_ci_low'][p])}-{_pct(t['service_level_ci_high'][p])})"
        ab = f"{_pct(t['abandon_rate'][p])} ({_pct(t['abandon_rate_ci_low'][p])}-{_pct(t['abandon_rate_ci_high'][p])})"
        fewer = t["one_fewer_fails"][p]
        where = t["one_fewer_fails_where"][p]
        fewer_txt = "-" if fewer is None else ("yes" if where == "here" else f"yes ({where})")
        met = "warm-up" if not t["measured"][p] else ("[green]yes[/]" if t["passed"][p] else "[red]NO[/]")
        tab.add_row(t["time"][p], str(t["required"][p]), *[str(t[c][p]) for c in groups], str(t["erlang_a"][p]),
                    str(t["erlang_c"][p]), str(t["scheduled"][p]), sl, ab, _pct(t["occupancy"][p]), met, fewer_txt)
    out.print(tab)
    s = plan.summary()
    tot = Table(title="Agent-hours", title_justify="left")
    tot.add_column("")
    tot.add_column("agent-hours", justify="right")
    tot.add_row("required (simulation)", _num(s["agent_hours"]))
    tot.add_row("scheduled (scenario)", _num(s["scheduled_agent_hours"]))
    tot.add_row("Erlang A (center as one queue)", _num(s["erlang_a_agent_hours"]))
    tot.add_row("Erlang C (center as one queue)", _num(s["erlang_c_agent_hours"]))
    out.print(tot)
    out.print(f"Rule: {plan.rule}.")
    out.print(f"Service level = {s['sl_definition']}. {plan.evaluations} simulations.")


def _save_scenario(scenario, path: Path) -> None:
    import yaml

    from .io import atomic_write
    data = scenario.model_dump(mode="json", exclude_none=True)
    atomic_write(path, "# written by simcc staff\n" + yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


@app.command()
def trunks(
    scenario: Path = typer.Argument(..., help="Scenario YAML file."),
    blocking_max: Optional[str] = typer.Option(None, help="Largest blocking in any interval, e.g. 1% (default: the scenario's SLA, else 1%)."),
    seed: int = typer.Option(DEFAULT_SEED, help="Seed of the common random numbers."),
    replications: int = typer.Option(20, "--replications", "-r", min=2, help="Replications per simulation."),
    confidence: float = typer.Option(95.0, help="Confidence of the rule, percent (0: plain means)."),
    fmt: PlanFormat = typer.Option(PlanFormat.table, "--format", help="table or json."),
    engine: str = typer.Option("kernel", help="kernel or reference."),
    debug: bool = typer.Option(False, help="Show tracebacks."),
):
    """The fewest trunk lines (and E1 groups of 30) that keep blocking under the target, with Erlang B beside it."""
    from .optimize import SCENARIO
    from .optimize import trunks as trunks_fn
    scn = _load(scenario, debug)
    bmax = SCENARIO if blocking_max is None else _share(blocking_max, "--blocking-max")
    with _user_errors(debug), _status("sizing trunks") as tick:
        tp = trunks_fn(scn, bmax, seed=seed, replications=replications, confidence=_confidence(confidence),
                       engine=engine, progress=tick)
    s = tp.summary()
    if fmt is PlanFormat.json:
        sys.stdout.write(json.dumps(s, indent=2) + "\n")
        return
    tab = Table(title=f"{scn.name}: trunk lines for blocking <= {100 * tp.blocking_max:g}%", title_justify="left")
    tab.add_column("")
    tab.add_column("simulation", justify="right")
    tab.add_column("Erlang B", justify="right")
    tab.add_row("lines", str(s["lines"]), str(s["erlang_b_lines"]))
    tab.add_row("E1 groups (30 channels)", str(s["e1_groups"]), str(s["erlang_b_e1_groups"]))
    tab.add_row("busiest interval", s["busiest_interval"], s["busiest_interval"])
    tab.add_row("load there, Erlangs", "", _num(s["offered_erlangs"]))
    tab.add_row("line holding time per call, s", "", _num(s["holding_time_s"]))
    tab.add_row("blocking there (mean / rule's bound)", f"{_p2(s['blocking_at_busiest'])} / {_p2(s['bound_at_busiest'])}", "")
    tab.add_row("... with one line fewer", f"{_p2(s['blocking_at_busiest_one_fewer'])} / {_p2(s['bound_at_busiest_one_fewer'])}", "")
    tab.add_row("worst interval blocking (mean)", _p2(s["worst_interval_blocking"]), "")
    tab.add_row("most lines busy (unlimited lines)", str(s["peak_lines_unlimited"]), "")
    tab.add_row("trunk lines in the scenario", "unlimited" if s["scenario_trunks"] is None else str(s["scenario_trunks"]), "")
    out.print(tab)
    out.print(f"Rule: {tp.rule}. Holding time = IVR + wait + talk + HOLD per call, measured with unlimited lines.")


@app.command()
def shifts(
    scenario: Path = typer.Argument(..., help="Scenario YAML file."),
    shift_hours: float = typer.Option(8.0, help="Shift length, hours (including the break)."),
    start_every: Optional[int] = typer.Option(None, min=1, help="Minutes between possible shift starts (default: every interval)."),
    break_after: Optional[int] = typer.Option(None, help="Unpaid break starts this many minutes into the shift."),
    break_minutes: int = typer.Option(0, min=0, help="Length of the unpaid break, minutes."),
    headcount: bool = typer.Option(False, "--headcount", help="Cover the scenario's own headcount instead of the staffing found by simulation."),
    target: Optional[str] = typer.Option(None, help='Service level for the staffing, e.g. 90/15 (default: the scenario\'s).'),
    abandon_max: Optional[str] = typer.Option(None, help="Largest abandonment for the staffing, e.g. 5%."),
    seed: int = typer.Option(DEFAULT_SEED, help="Seed of the common random numbers."),
    replications: int = typer.Option(20, "--replications", "-r", min=2, help="Replications per simulation."),
    verify: bool = typer.Option(False, "--verify/--no-verify", help="Full staffing descent and minimality check first (slower)."),
    debug: bool = typer.Option(False, help="Show tracebacks."),
):
    """A roster: agents per shift template that covers the required agents in every interval."""
    import numpy as np

    from .optimize import staff as staff_fn
    from .shifts import cover, templates
    scn = _load(scenario, debug)
    with _user_errors(debug):
        temps = templates(scn.n_intervals, scn.interval_minutes, length_hours=shift_hours, start_every_min=start_every,
                          break_after_min=break_after, break_min=break_minutes)
        if headcount:
            names = [g.name for g in scn.groups]
            req = np.array([scn.agents_per_interval(g) for g in scn.groups]).T
        else:
            kw = _staff_args(scn, target, abandon_max, None)
            with _status("staffing") as tick:
                plan = staff_fn(scn, seed=seed, replications=replications, verify=verify, progress=tick, **kw)
            names, req = list(plan.group_names), plan.agents
        rosters = {name: cover(req[:, g], temps, scn.interval_minutes) for g, name in enumerate(names)}
        if len(names) > 1:
            rosters["all groups"] = cover(req.sum(axis=1), temps, scn.interval_minutes)
    for name, r in rosters.items():
        out.print(f"[bold]{name}[/]: {r.agents} agents (no roster from these shifts has fewer than "
                  f"{r.lower_bound}); {r.paid_hours:,.1f} paid hours for {r.required_hours:,.1f} required "
                  f"({r.efficiency:.1%})")
        tab = Table()
        tab.add_column("shift")
        tab.add_column("agents", justify="right")
        for n, c in r.shifts():
            tab.add_row(n, str(c))
        out.print(tab)
    any_r = next(iter(rosters.values()))
    cov = Table(title="Coverage per interval (required / scheduled / surplus)", title_justify="left")
    cov.add_column("interval")
    for name in rosters:
        cov.add_column(name, justify="right")
    for p in range(scn.n_intervals):
        m = int(p * scn.interval_minutes)
        cov.add_row(f"{m // 60:02d}:{m % 60:02d}", *[f"{r.required[p]} / {r.coverage[p]} / {r.surplus[p]:+d}"
                                                     for r in rosters.values()])
    out.print(cov)
    out.print(f"Method: {any_r.method}.")


@app.command()
def report(
    scenario: Path = typer.Argument(..., help="Scenario YAML file."),
    out_dir: Path = typer.Option(..., "--out", help="Folder for index.html and the charts (replaced if it holds an earlier report)."),
    seed: int = typer.Option(DEFAULT_SEED, help="Seed for every run in the report."),
    replications: int = typer.Option(20, "--replications", "-r", min=2, help="Replications per run."),
    do_staff: bool = typer.Option(True, "--staff/--no-staff", help="Find the staffing by simulation."),
    verify: bool = typer.Option(False, "--verify/--no-verify", help="Full staffing descent and minimality check (slower)."),
    do_trunks: bool = typer.Option(True, "--trunks/--no-trunks", help="Size the trunk lines."),
    do_shifts: bool = typer.Option(True, "--shifts/--no-shifts", help="Build a shift roster for the staffing."),
    engine: str = typer.Option("kernel", help="kernel or reference."),
    debug: bool = typer.Option(False, help="Show tracebacks."),
):
    """Write an HTML report with charts: SLA pass/fail, per-interval KPIs, staffing, roster, trunks."""
    from .report import ReportError, write_report
    scn = _load(scenario, debug)
    status = err.status("report") if err.is_terminal else contextlib.nullcontext()
    with _user_errors(debug), status as st:
        try:
            rep = write_report(scn, out_dir, seed=seed, replications=replications, staff=do_staff, verify=verify,
                               trunks=do_trunks, shifts=do_shifts, engine=engine,
                               progress=(lambda text: st.update(text)) if st is not None else None)
        except ReportError as exc:
            _fail(str(exc))
    out.print(f"wrote {rep.index} ({', '.join(rep.files)})")
    fails = [line["sla"] for line in rep.result.sla_report() if line["passed"] is False]
    out.print("SLA: " + ("all lines pass" if not fails else "FAIL: " + ", ".join(fails)))
    if math.isfinite(rep.result.summary()["service_level"]["mean"]):
        out.print(f"service level {_pct(rep.result.summary()['service_level']['mean'])} "
                  f"({rep.result.meta['sl_definition']['text']})")
