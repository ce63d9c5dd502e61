"""``simcc run``, ``validate``, ``schema``, ``erlang`` and ``compare``."""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import typer

from ..errors import ScenarioError
from ..model.scenario import json_schema, load
from ..model.targets import parse_share
from ..plan.baseline import erlang_baseline, queue_answer
from ..run.comparison import DEFAULT_KPIS
from ..run.comparison import compare as run_compare
from ..run.export import csv_text
from ..run.kpis import format_value
from ..run.simulation import DEFAULT_SEED, MAX_EVENTS
from .app import (
    DEBUG_HELP,
    EXIT_SLA_FAILED,
    EXIT_USAGE,
    FORMAT_HELP,
    Engine,
    Format,
    app,
    emit,
    fail,
    load_scenario,
    print_problems,
    user_errors,
)
from .console import Cell, note, print_table, say, warning
from .scale import MAX_MEMORY_HELP, RESUME_HELP, SCHEDULER_HELP, WORKERS_HELP, run_replications


def hhmm(seconds: float) -> str:
    m = int(round(seconds / 60))
    return f"{m // 60:02d}:{m % 60:02d}"


def _ci(name: str, lo, hi) -> str:
    lo_s, hi_s = format_value(name, lo), format_value(name, hi)
    return "-" if lo_s == "-" or hi_s == "-" else f"{lo_s} .. {hi_s}"


def verdict(passed) -> Cell:
    return {True: Cell("PASS", "bold green"), False: Cell("FAIL", "bold red"), None: Cell("n/a")}[passed]


def _erlang_c_column(scenario):
    """Erlang C agents per interval for the center pooled into one queue (None without an SL target)."""
    sl = scenario.sla.service_level
    if sl is None:
        return None
    try:
        return erlang_baseline(scenario, sl.percent / 100, sl.within_s).erlang_c
    except ValueError:
        return None


def print_result(result) -> None:
    """The three tables of ``simcc run``: per interval, the day with 95% CIs, the SLA lines."""
    iv = result.by_interval()
    erlang_c = _erlang_c_column(result.scenario)
    cols = ["interval", "offered", "answered", "abandoned", "blocked", "service level", "abandon", "ASA s",
            "agents", "occupancy", "lines peak"]
    kpis = ["offered", "answered", "abandoned", "blocked", "service_level", "abandon_rate", "asa_s", "agents",
            "occupancy", "lines_peak"]
    if erlang_c is not None:
        cols.append("Erlang C agents")
    rows = []
    for p in range(result.compiled.n_intervals):
        row = [hhmm(iv["interval_start"][p])] + [format_value(k, iv[k][p]) for k in kpis]
        if erlang_c is not None:
            row.append(str(int(erlang_c[p])))
        rows.append(row)
    print_table(cols, rows, title=f"{result.scenario.name}: per interval (mean of {len(result.replications)} "
                                  f"replication(s))")
    if erlang_c is not None:
        say("Erlang C agents: the center pooled into one queue for the SLA target (a planner's first guess; "
            "`simcc staff` answers for the whole center).")
    s = result.summary()
    print_table(["KPI", "mean", "95% CI"],
                [[k, format_value(k, v["mean"]), _ci(k, v["ci_low"], v["ci_high"])] for k, v in s.items()],
                title="Day summary (95% confidence interval over replications)")
    sla = result.sla_report()
    if sla:
        print_table(["SLA line", "target", "measured", "95% CI", "result"],
                    [[line["sla"], f"{line['op']} {format_value(line['kpi'], line['target'])}",
                      format_value(line["kpi"], line["mean"]), _ci(line["kpi"], line["ci_low"], line["ci_high"]),
                      verdict(line["passed"])] for line in sla],
                    title=f"SLA (service level = {result.meta['sl_definition']['text']})", left=("target",))


@app.command()
def run(
    scenario: Path = typer.Argument(..., help="Scenario YAML file."),
    seed: int = typer.Option(DEFAULT_SEED, help="Root seed; same seed, same results."),
    replications: int = typer.Option(
        10, "--replications", "-r", min=1, max=1_000_000, help="Independent days to simulate."
    ),
    out_dir: Optional[Path] = typer.Option(
        None,
        "--out",
        help="Write summary.csv, intervals.csv, result.json, "
        "meta.json here, and keep each finished replication in reps/ (for --resume).",
    ),
    fmt: Format = typer.Option(Format.table, "--format", help=FORMAT_HELP),
    engine: Engine = typer.Option(Engine.kernel, help="kernel (compiled) or reference (SimPy, slow)."),
    max_events: float = typer.Option(
        MAX_EVENTS, help="Refuse a scenario whose one replication (a day) is estimated above this many events."
    ),
    max_memory_gb: Optional[float] = typer.Option(None, "--max-memory-gb", help=MAX_MEMORY_HELP),
    check_sla: bool = typer.Option(False, "--check-sla", help="Exit with code 3 if an SLA line fails."),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", min=1, help=WORKERS_HELP),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help=SCHEDULER_HELP),
    resume: bool = typer.Option(False, "--resume", help=RESUME_HELP),
    records: Optional[Path] = typer.Option(
        None, "--records", help="Also write one call record per attempt (CSV, or Parquet for .parquet), each "
        "replication a day from 2026-01-05: synthetic records in the format simcc fit reads."
    ),
    roster: Optional[Path] = typer.Option(
        None, "--roster", help="Staff the groups from a roster.csv of simcc roster: the agents on the phones on "
        "one date (--roster-date) replace each rostered group's headcount."
    ),
    roster_date: Optional[str] = typer.Option(None, "--roster-date", help="Date of the roster to simulate "
                                                                          "(default: its first date)."),
    debug: bool = typer.Option(False, help=DEBUG_HELP),
):
    """Simulate a scenario and report KPIs per interval and for the day, with SLA pass/fail."""
    scn = load_scenario(scenario, debug)
    if roster is not None:
        from ..plan.rosters import roster_day_scenario
        with user_errors(debug):
            scn, when = roster_day_scenario(scn, roster, roster_date)
        note(f"agents from {roster} on {when}")
    elif roster_date is not None:
        fail("--roster-date needs --roster")
    if records is not None and records.is_dir():
        fail(f"--records {records} is a folder; give a file name such as {records / 'calls.csv'}")
    result = run_replications(
        scn,
        seed=seed,
        replications=replications,
        engine=engine.value,
        max_events=max_events,
        workers=workers,
        scheduler=scheduler,
        out_dir=out_dir,
        resume=resume,
        debug=debug,
        max_memory_gb=max_memory_gb,
        call_log=records is not None,
    )
    emit(result, fmt, lambda: print_result(result))
    if records is not None:
        from ..calibrate import records_from_logs, write_records
        with user_errors(debug):
            write_records(records, records_from_logs(scn, result.call_logs))
        note(f"wrote {records} ({sum(len(log) for log in result.call_logs):,} attempts)")
    if out_dir is not None:  # simulate() wrote them (meta.json last) and keeps every replication in reps/
        note(
            f"wrote {', '.join(str(out_dir / f) for f in ('summary.csv', 'intervals.csv', 'result.json', 'meta.json'))}"
            f" and {out_dir / 'reps'}/"
        )
    if check_sla and any(line["passed"] is False for line in result.sla_report()):
        raise typer.Exit(EXIT_SLA_FAILED)


@dataclass
class Validation:
    """What ``simcc validate`` found, in every output format."""

    file: str
    problems: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    summary: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "file": self.file,
            "valid": not self.problems,
            "problems": self.problems,
            "warnings": self.warnings,
            "summary": self.summary,
        }

    def to_csv(self) -> str:
        return csv_text(
            ["kind", "line", "field", "message", "hint"],
            [["problem", p["line"], p["field"], p["message"], p["hint"]] for p in self.problems]
            + [["warning", None, None, w, None] for w in self.warnings],
        )


@app.command()
def validate(
    scenario: Path = typer.Argument(..., help="Scenario YAML file."),
    fmt: Format = typer.Option(Format.table, "--format", help=FORMAT_HELP),
    debug: bool = typer.Option(False, help=DEBUG_HELP),
):
    """Check a scenario file and list every problem (exit code 2 if there are any)."""
    v = Validation(str(scenario))
    try:
        scn = load(scenario)
    except ScenarioError as exc:
        if debug:
            raise
        v.problems = [{"line": p.line, "field": p.path, "message": p.message, "hint": p.hint} for p in exc.problems]
        if fmt.value == "table":
            print_problems(exc)
        else:
            emit(v, fmt, None)
        raise typer.Exit(EXIT_USAGE) from None
    v.warnings = scn.warnings()
    v.summary = {
        "call_types": len(scn.call_types),
        "groups": len(scn.groups),
        "intervals": scn.n_intervals,
        "interval_minutes": scn.interval_minutes,
        "expected_calls": scn.expected_calls(),
    }

    def table():
        for w in v.warnings:
            warning(w)
        say(
            f"{scenario}: valid ({len(scn.call_types)} call types, {len(scn.groups)} groups, {scn.n_intervals} "
            f"intervals of {scn.interval_minutes} min, {scn.expected_calls():,.0f} calls expected)"
        )

    emit(v, fmt, table)


@app.command()
def schema():
    """Print the JSON Schema of scenario files (for editor autocompletion and checks)."""
    sys.stdout.write(json.dumps(json_schema(), indent=2) + "\n")


def _percent(text: str, name: str) -> float:
    try:
        return parse_share(text, name)
    except ValueError as exc:
        fail(str(exc))


@app.command("erlang")
def erlang_cmd(
    calls_per_hour: float = typer.Option(..., help="Offered calls per hour."),
    aht_s: float = typer.Option(..., help="Average handle time, s."),
    agents: Optional[int] = typer.Option(None, help="Agents (default: the fewest that meet --target)."),
    patience_s: Optional[float] = typer.Option(None, help="Mean patience, s: Erlang A (M/M/n+M)."),
    sl_s: float = typer.Option(15.0, help="Service-level threshold T, s."),
    target: str = typer.Option("90", help='Service-level target, percent: 90 or "90%".'),
    blocking_max: str = typer.Option("1", help='Trunk blocking target for line sizing, percent: 1 or "1%".'),
    shrinkage: Optional[str] = typer.Option(None, help='Paid time off the phones, e.g. 30%: also the agents to '
                                                      'schedule, agents / (1 - shrinkage).'),
    fmt: Format = typer.Option(Format.table, "--format", help=FORMAT_HELP),
    debug: bool = typer.Option(False, help=DEBUG_HELP),
):
    """Exact Erlang B / C / A answers for one queue: a quick first guess."""
    tgt, bmax = _percent(target, "--target"), _percent(blocking_max, "--blocking-max")
    shrink = None if shrinkage is None else _percent(shrinkage, "--shrinkage")
    with user_errors(debug):
        a = queue_answer(
            calls_per_hour, aht_s, agents=agents, patience_s=patience_s, within_s=sl_s, target=tgt, blocking_max=bmax,
            shrinkage=shrink,
        )

    def table():
        rows = [
            ["offered load, Erlangs", f"{a.offered_erlangs:,.2f}"],
            ["agents", str(a.agents)],
            ["waiting probability", format_value("service_level", a.p_wait)],
            [f"answered within {a.within_s:g} s", format_value("service_level", a.service_level)],
        ]
        if a.abandon_rate is not None:
            rows.append(["abandonment", format_value("abandon_rate", a.abandon_rate)])
        if a.scheduled is not None:
            rows.append([f"agents to schedule with {100 * a.shrinkage:g}% shrinkage", str(a.scheduled)])
        rows += [
            ["ASA, s", format_value("asa_s", a.asa_s)],
            ["occupancy", format_value("occupancy", a.occupancy)],
            [
                f"trunk lines for {100 * a.blocking_max:g}% blocking",
                "-" if a.trunk_lines is None else str(a.trunk_lines),
            ],
        ]
        print_table(["quantity", "value"], rows, title=f"{a.model}: {calls_per_hour:g} calls/h, AHT {aht_s:g} s")

    emit(a, fmt, table)


@app.command()
def compare(
    scenario: Path = typer.Argument(..., help="Scenario YAML file."),
    policy: list[str] = typer.Option(
        ...,
        "--policy",
        "-p",
        help="Policy name, e.g. priority, weighted_wait, "
        "priority+overflow, priority+reserve. Give two or more; the first is the baseline.",
    ),
    seed: int = typer.Option(DEFAULT_SEED, help="Root seed, shared by all policies (common random numbers)."),
    replications: int = typer.Option(20, "--replications", "-r", min=2, max=1_000_000),
    kpi: list[str] = typer.Option(list(DEFAULT_KPIS), "--kpi", help="KPIs to compare."),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", min=1, help=WORKERS_HELP),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help=SCHEDULER_HELP),
    fmt: Format = typer.Option(Format.table, "--format", help=FORMAT_HELP),
    debug: bool = typer.Option(False, help=DEBUG_HELP),
):
    """Compare routing policies on common random numbers: paired differences with 95% CIs."""
    scn = load_scenario(scenario, debug)
    with user_errors(debug):
        cmp = run_compare(
            scn, policy, seed=seed, replications=replications, kpis=kpi, workers=workers, scheduler=scheduler
        )

    def table():
        summaries = [r.summary() for r in cmp.results]
        print_table(
            ["KPI", *policy],
            [[k, *[format_value(k, s[k]["mean"]) for s in summaries]] for k in kpi],
            title=f"{scn.name}: policies on common random numbers ({replications} replications, seed {seed})",
        )
        print_table(
            ["policy", "KPI", "difference", "95% CI", "unpaired +/-", ""],
            [
                [
                    x.variant,
                    x.kpi,
                    format_value(x.kpi, x.diff, signed=True),
                    f"{format_value(x.kpi, x.ci_low, signed=True)} .. {format_value(x.kpi, x.ci_high, signed=True)}",
                    format_value(x.kpi, x.independent_half_width, signed=True).lstrip("+"),
                    "significant" if x.significant else "",
                ]
                for x in cmp.differences()
            ],
            title=f"Differences against {policy[0]} (paired 95% CI; unpaired half-width for contrast)",
            left=("KPI",),
        )

    emit(cmp, fmt, table)
