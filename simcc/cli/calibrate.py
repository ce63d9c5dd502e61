"""``simcc fit`` (call records -> a scenario) and ``simcc backtest`` (recorded days vs simulated bands)."""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Optional

import typer

from ..atomic import atomic_write
from ..calibrate import backtest as backtest_fn
from ..calibrate import fit as fit_fn
from ..calibrate import read_records
from ..jsonsafe import dumps
from ..model.targets import parse_share, parse_target
from ..run.simulation import DEFAULT_SEED
from .app import DEBUG_HELP, EXIT_SLA_FAILED, FORMAT_HELP, Format, app, emit, fail, load_scenario, user_errors
from .console import note, print_table, warning
from .scale import WORKERS_HELP

COLUMN_HELP = ("Map a canonical column to the export's name, e.g. --column arrival=StartTime "
               "(repeat it; docs/records.md lists the columns).")
OUTCOME_HELP = "Map the export's outcome code to a canonical outcome, e.g. --outcome ANS=answered (repeat it)."
MAPPING_HELP = "A YAML file with columns, outcome_values and time_format for this export."
SKIP_HELP = "Drop rows with problems instead of stopping (the count and reasons are reported)."


def _pairs(items: list[str], what: str) -> dict[str, str]:
    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            fail(f"{what} {item!r}: expected NAME=VALUE")
        out[key.strip()] = value.strip()
    return out


def _read(records: Path, column, outcome, time_format, mapping, skip_bad):
    recs = read_records(records, _pairs(column, "--column"), outcome_values=_pairs(outcome, "--outcome"),
                        time_format=time_format, skip_bad=skip_bad, mapping=mapping)
    if recs.skipped:
        warning(f"skipped {sum(recs.skipped.values()):,} bad row(s): "
                + ", ".join(f"{n:,} {why}" for why, n in sorted(recs.skipped.items())))
    note(f"read {len(recs):,} call records over {len(recs.days)} day(s) ({recs.days[0]} .. {recs.days[-1]})")
    return recs


def _cell(x, family: str = "") -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if family == "share":
        return f"{100 * x:.2f}%"
    return f"{x:,.1f}" if abs(x) >= 10 else f"{x:.3f}"


@app.command()
def fit(
    records: Path = typer.Argument(..., help="Call records, CSV or Parquet (docs/records.md)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the fitted scenario YAML here "
                                                          "(and its report beside it, .fit.json)."),
    base: Optional[Path] = typer.Option(None, "--base", help="A scenario giving the structure (groups, skills, "
                                                            "routing, trunks, SLA, headcount); only behaviour "
                                                            "is fitted."),
    agents: Optional[Path] = typer.Option(None, "--agents", help="Headcount records: interval_start, group, agents."),
    interval_minutes: Optional[int] = typer.Option(None, "--interval-minutes",
                                                   help="15, 30 or 60 (default: the base scenario's, else 30)."),
    name: str = typer.Option("fitted", "--name", help="Name of the fitted scenario."),
    period: str = typer.Option("day", "--period", help="day (a typical day) or week (Monday to Sunday, each "
                                                       "weekday's own profile and headcount)."),
    target: Optional[str] = typer.Option(None, "--target", help="SLA for the scenario, e.g. 90/15."),
    abandon_max: Optional[str] = typer.Option(None, "--abandon-max", help="SLA abandonment limit, e.g. 5%."),
    column: list[str] = typer.Option([], "--column", help=COLUMN_HELP),
    outcome: list[str] = typer.Option([], "--outcome", help=OUTCOME_HELP),
    time_format: Optional[str] = typer.Option(None, "--time-format", help="strftime format of arrival, when "
                                                                          "not ISO 8601."),
    mapping: Optional[Path] = typer.Option(None, "--mapping", help=MAPPING_HELP),
    skip_bad: bool = typer.Option(False, "--skip-bad", help=SKIP_HELP),
    fmt: Format = typer.Option(Format.table, "--format", help=FORMAT_HELP),
    debug: bool = typer.Option(False, help=DEBUG_HELP),
):
    """Fit a scenario from call records: arrivals, IVR, patience, handling times, redials, with 95% CIs."""
    if out is not None and out.is_dir():
        fail(f"--out {out} is a folder; give a file name such as {out / 'fitted.yaml'}")
    sla = {}
    if target is not None:
        try:
            pct, within = parse_target(target)
        except ValueError as exc:
            fail(str(exc))
        sla["service_level"] = {"percent": pct * 100, "within_s": within}
    if abandon_max is not None:
        try:
            sla["abandon_max_pct"] = parse_share(abandon_max, "--abandon-max") * 100
        except ValueError as exc:
            fail(str(exc))
    base_scn = load_scenario(base, debug, warn=False) if base is not None else None
    if base_scn is not None and sla:
        fail("--target and --abandon-max come from --base; edit the base scenario's sla instead")
    with user_errors(debug):
        recs = _read(records, column, outcome, time_format, mapping, skip_bad)
        result = fit_fn(recs, interval_minutes=interval_minutes, base=base_scn, agents=agents, name=name,
                        sla=sla or None, period=period)

    def table():
        print_table(["estimate", "value", "95% CI", "n", "family"],
                    [[r["name"], _cell(r["value"], r["family"]),
                      f"{_cell(r['ci_low'], r['family'])} .. {_cell(r['ci_high'], r['family'])}",
                      f"{r['n']:,}", r["family"]] for r in result.report.rows()],
                    title=f"Fitted from {len(recs):,} records ({len(recs.days)} day(s))",
                    left=("estimate", "family"))
    emit(result, fmt, table)
    for w in result.report.warnings:
        warning(w)
    if out is not None:
        atomic_write(out, result.to_yaml())
        report = out.with_suffix(".fit.json")
        atomic_write(report, dumps(result.report.to_dict()) + "\n")
        note(f"wrote {out} and {report}")


@app.command()
def backtest(
    scenario: Path = typer.Argument(..., help="Scenario YAML file (for example one written by simcc fit)."),
    records: Path = typer.Argument(..., help="Call records of the days to compare (docs/records.md)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Folder for backtest.json, verdicts.csv, "
                                                          "intervals.csv, day.csv and backtest.png."),
    replications: int = typer.Option(100, "--replications", "-r", min=20, max=100_000,
                                     help="Simulated days per recorded day (the band is their 2.5-97.5% range)."),
    seed: int = typer.Option(DEFAULT_SEED, help="Root seed; same seed, same results."),
    agents: Optional[Path] = typer.Option(None, "--agents", help="Headcount records with dates: each day is "
                                                                "simulated with its own headcount."),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", min=1, help=WORKERS_HELP),
    column: list[str] = typer.Option([], "--column", help=COLUMN_HELP),
    outcome: list[str] = typer.Option([], "--outcome", help=OUTCOME_HELP),
    time_format: Optional[str] = typer.Option(None, "--time-format", help="strftime format of arrival."),
    mapping: Optional[Path] = typer.Option(None, "--mapping", help=MAPPING_HELP),
    skip_bad: bool = typer.Option(False, "--skip-bad", help=SKIP_HELP),
    check: bool = typer.Option(False, "--check", help="Exit with code 3 if a KPI fails the backtest."),
    fmt: Format = typer.Option(Format.table, "--format", help=FORMAT_HELP),
    debug: bool = typer.Option(False, help=DEBUG_HELP),
):
    """Simulate the recorded days and judge every recorded value against the simulated band of one day."""
    if out is not None and out.exists() and not out.is_dir():
        fail(f"--out {out} is a file; give a folder")
    scn = load_scenario(scenario, debug)
    with user_errors(debug):
        recs = _read(records, column, outcome, time_format, mapping, skip_bad)
        bt = backtest_fn(scn, recs, replications=replications, seed=seed, agents=agents, workers=workers)

    def table():
        print_table(["KPI", "checked", "outside band", "expected by chance", "limit (99%)", "result"],
                    [[v["kpi"], f"{v['checked']:,}", f"{v['outside']:,}", f"{v['expected']:g}", str(v["limit"]),
                      "PASS" if v["passed"] else "FAIL"] for v in bt.table()],
                    title=f"Backtest of {scn.name}: {len(bt.days)} recorded day(s) against the 95% band of one "
                          f"simulated day ({bt.replications} replications)", left=("KPI",))
    emit(bt, fmt, table)
    for n in bt.notes:
        note(n)
    if out is not None:
        from ..present.plot import backtest_figure, figure_png
        os.makedirs(out, exist_ok=True)
        files = {"verdicts.csv": bt.to_csv(), "intervals.csv": bt.intervals_csv(), "day.csv": bt.day_csv(),
                 "backtest.png": figure_png(backtest_figure(bt)), "backtest.json": dumps(bt.to_dict()) + "\n"}
        for fname, data in files.items():
            atomic_write(out / fname, data)
        note(f"wrote {', '.join(str(out / f) for f in files)}")
    if check and not bt.passed:
        raise typer.Exit(EXIT_SLA_FAILED)
