"""The ``simcc`` command line.

Exit codes: 0 done, 2 bad scenario or arguments, 3 an SLA line failed (only
with ``--check-sla``), 130 interrupted. User errors never print a traceback
(``--debug`` does).
"""
from __future__ import annotations

import enum
import json
import math
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from . import erlang as erl
from .errors import ScenarioError, SizeError
from .compare import DEFAULT_KPIS
from .compare import compare as run_compare
from .scenario import load
from .simulate import DEFAULT_SEED, MAX_EVENTS, simulate

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="simcc: simulate call centers (trunks, IVR, skills, agents) and check SLAs.")
out = Console()
err = Console(stderr=True)
if not out.is_terminal:          # piped or captured: wide enough for the interval table
    out = Console(width=160)
if not err.is_terminal:
    err = Console(stderr=True, width=160)

EXIT_USAGE = 2
EXIT_SLA_FAILED = 3
EXIT_INTERRUPTED = 130


class Format(str, enum.Enum):
    table = "table"
    csv = "csv"
    json = "json"


class Engine(str, enum.Enum):
    kernel = "kernel"
    reference = "reference"


def _problems_table(exc: ScenarioError) -> Table:
    t = Table(title=f"{len(exc.problems)} problem(s) in {exc.source or 'scenario'}", title_justify="left")
    for col in ("line", "field", "problem", "hint"):
        t.add_column(col, overflow="fold")
    for p in exc.problems:
        t.add_row("" if p.line is None else str(p.line), p.path or "-", p.message, p.hint or "")
    return t


def _load(path: Path, debug: bool):
    try:
        return load(path)
    except ScenarioError as exc:
        if debug:
            raise
        err.print(_problems_table(exc))
        raise typer.Exit(EXIT_USAGE) from None


def _pct(x: float) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f}%"


def _num(x: float, digits: int = 1) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:,.{digits}f}"


_SHARE_KPIS = {"service_level", "abandon_rate", "blocking_rate", "containment_rate", "hold_rate", "occupancy", "fcr",
               "callback_sl", "outbound_occupancy"}


def _fmt_kpi(name: str, x: float) -> str:
    return _pct(x) if name in _SHARE_KPIS else _num(x, 0 if name in ("offered", "blocked", "contained", "queued",
                                                                      "answered", "abandoned", "lines_peak", "queue_peak",
                                                                      "ivr_abandoned", "answered_within", "in_system_end", "redials",
                                                                      "repeat_calls", "unique_callers", "transferred", "callbacks",
                                                                      "outbound_done") else 1)


def _erlang_c_column(scenario):
    """Erlang C agents per interval for the center pooled into one queue (None without an SL target)."""
    sl = scenario.sla.service_level
    if sl is None:
        return None
    from .optimize import erlang_baseline
    try:
        return erlang_baseline(scenario, sl.percent / 100, sl.within_s).erlang_c
    except ValueError:
        return None


def _print_tables(result) -> None:
    iv = result.by_interval()
    erlang_c = _erlang_c_column(result.scenario)
    t = Table(title=f"{result.scenario.name}: per interval (mean of {len(result.replications)} replication(s))",
              title_justify="left")
    cols = ["interval", "offered", "answered", "abandoned", "blocked", "service level", "abandon", "ASA s",
            "agents", "occupancy", "lines peak"]
    if erlang_c is not None:
        cols.append("Erlang C agents")
    for col in cols:
        t.add_column(col, justify="right")
    for p in range(result.compiled.n_intervals):
        start = int(iv["interval_start"][p] // 60)
        row = [f"{start // 60:02d}:{start % 60:02d}", _num(iv["offered"][p], 0), _num(iv["answered"][p], 0),
               _num(iv["abandoned"][p], 0), _num(iv["blocked"][p], 0), _pct(iv["service_level"][p]),
               _pct(iv["abandon_rate"][p]), _num(iv["asa_s"][p]), _num(iv["agents"][p], 0),
               _pct(iv["occupancy"][p]), _num(iv["lines_peak"][p], 0)]
        if erlang_c is not None:
            row.append(str(int(erlang_c[p])))
        t.add_row(*row)
    out.print(t)
    if erlang_c is not None:
        out.print("Erlang C agents: the center pooled into one queue for the SLA target (a planner's first guess; "
                  "`simcc staff` answers for the whole center).")

    s = result.summary()
    d = Table(title="Day summary (95% confidence interval over replications)", title_justify="left")
    for col in ("KPI", "mean", "95% CI"):
        d.add_column(col, justify="right" if col != "KPI" else "left")
    for k, v in s.items():
        ci = "-" if math.isnan(v["ci_low"]) else f"{_fmt_kpi(k, v['ci_low'])} .. {_fmt_kpi(k, v['ci_high'])}"
        d.add_row(k, _fmt_kpi(k, v["mean"]), ci)
    out.print(d)

    sla = result.sla_report()
    if sla:
        st = Table(title=f"SLA (service level = {result.meta['sl_definition']['text']})", title_justify="left")
        for col in ("SLA line", "target", "measured", "95% CI", "result"):
            st.add_column(col)
        for line in sla:
            f = _pct if line["unit"] == "share" else _num
            verdict = {True: "[green]PASS[/]", False: "[red]FAIL[/]", None: "n/a"}[line["passed"]]
            ci = "-" if math.isnan(line["ci_low"]) else f"{f(line['ci_low'])} .. {f(line['ci_high'])}"
            st.add_row(line["sla"], f"{line['op']} {f(line['target'])}", f(line["mean"]), ci, verdict)
        out.print(st)


@app.command()
def run(
    scenario: Path = typer.Argument(..., help="Scenario YAML file."),
    seed: int = typer.Option(DEFAULT_SEED, help="Root seed; same seed, same results."),
    replications: int = typer.Option(10, "--replications", "-r", min=1, max=1_000_000, help="Independent days to simulate."),
    out_dir: Optional[Path] = typer.Option(None, "--out", help="Write summary.csv, intervals.csv, result.json, meta.json here, "
                                           "and keep each finished replication in reps/ (for --resume)."),
    fmt: Format = typer.Option(Format.table, "--format", help="What to print: table, csv (per interval) or json."),
    engine: Engine = typer.Option(Engine.kernel, help="kernel (compiled) or reference (SimPy, slow)."),
    max_events: float = typer.Option(MAX_EVENTS, help="Refuse a scenario whose one replication (a day) is estimated above this many events."),
    check_sla: bool = typer.Option(False, "--check-sla", help="Exit with code 3 if an SLA line fails."),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", min=1,
                                          help="Local worker processes (default: all cores; small runs stay in this process)."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler",
                                            help="Run on Dask: a scheduler address (tcp://HOST:8786) or 'local'."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run kept in --out: only missing replications run."),
    debug: bool = typer.Option(False, help="Show tracebacks."),
):
    """Simulate a scenario and report KPIs per interval and for the day, with SLA pass/fail."""
    scn = _load(scenario, debug)
    for w in scn.warnings():
        err.print(f"[yellow]warning:[/] {w}")
    from ._cli_scale import run_replications   # here: _cli_scale imports this module
    result = run_replications(scn, seed=seed, replications=replications, engine=engine.value,
                              max_events=max_events, workers=workers, scheduler=scheduler, out_dir=out_dir,
                              resume=resume)
    if fmt is Format.table:
        _print_tables(result)
    elif fmt is Format.csv:
        sys.stdout.write(result.intervals_csv())
    else:
        sys.stdout.write(result.to_json() + "\n")
    if out_dir is not None:   # simulate() wrote them (meta.json last) and keeps every replication in reps/
        err.print(f"wrote {', '.join(str(out_dir / f) for f in ('summary.csv', 'intervals.csv', 'result.json', 'meta.json'))} "
                  f"and {out_dir / 'reps'}/")
    if check_sla and any(line["passed"] is False for line in result.sla_report()):
        raise typer.Exit(EXIT_SLA_FAILED)


@app.command()
def validate(
    scenario: Path = typer.Argument(..., help="Scenario YAML file."),
    debug: bool = typer.Option(False, help="Show tracebacks."),
):
    """Check a scenario file and list every problem (exit code 2 if there are any)."""
    scn = _load(scenario, debug)
    for w in scn.warnings():
        err.print(f"[yellow]warning:[/] {w}")
    out.print(f"{scenario}: valid ({len(scn.call_types)} call types, {len(scn.groups)} groups, "
              f"{scn.n_intervals} intervals of {scn.interval_minutes} min, {scn.expected_calls():,.0f} calls expected)")


@app.command()
def schema():
    """Print the JSON Schema of scenario files (for editor autocompletion and checks)."""
    from .scenario import json_schema
    sys.stdout.write(json.dumps(json_schema(), indent=2) + "\n")


@app.command("erlang")
def erlang_cmd(
    calls_per_hour: float = typer.Option(..., help="Offered calls per hour."),
    aht_s: float = typer.Option(..., help="Average handle time, s."),
    agents: Optional[int] = typer.Option(None, help="Agents (default: the fewest that meet --target)."),
    patience_s: Optional[float] = typer.Option(None, help="Mean patience, s: Erlang A (M/M/n+M)."),
    sl_s: float = typer.Option(15.0, help="Service-level threshold T, s."),
    target: float = typer.Option(90.0, help="Service-level target, percent."),
    blocking_max: float = typer.Option(1.0, help="Trunk blocking target for line sizing, percent."),
    fmt: Format = typer.Option(Format.table, "--format", help="table or json."),
):
    """Exact Erlang B / C / A answers for one queue: a quick first guess."""
    lam = calls_per_hour / 3600.0
    try:
        if agents is None:
            if patience_s is None:
                agents = erl.erlang_c_agents(lam, aht_s, target / 100, sl_s)
            else:
                agents = erl.erlang_a_agents(lam, aht_s, patience_s, target / 100, sl_s)
        a = lam * aht_s
        res = {"offered_erlangs": a, "agents": agents}
        if patience_s is None:
            res.update({
                "p_wait": erl.erlang_c(agents, a),
                "service_level": erl.erlang_c_service_level(agents, lam, aht_s, sl_s),
                "asa_s": erl.erlang_c_asa(agents, lam, aht_s),
                "occupancy": a / agents if agents else math.inf,
            })
        else:
            ea = erl.erlang_a(agents, lam, aht_s, patience_s, sl_s)
            res.update({"p_wait": ea.p_wait, "service_level": ea.service_level, "abandon_rate": ea.abandon_rate,
                        "asa_s": ea.asa_s, "occupancy": ea.occupancy})
        # a line is held while the caller waits and talks (Westbay): Erlang B on that holding time
        wait = res["asa_s"] if patience_s is None else ea.mean_wait_s
        res["trunk_lines"] = erl.erlang_b_lines(lam * (aht_s + wait), blocking_max / 100) if math.isfinite(wait) else None
    except ValueError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(EXIT_USAGE) from None
    if fmt is Format.json:
        sys.stdout.write(json.dumps(res, indent=2) + "\n")
        return
    t = Table(title=f"Erlang {'A' if patience_s else 'C'}: {calls_per_hour:g} calls/h, AHT {aht_s:g} s", title_justify="left")
    t.add_column("quantity")
    t.add_column("value", justify="right")
    for k, v in res.items():
        if v is None:
            t.add_row(k, "-")
            continue
        t.add_row(k, _pct(v) if k in ("p_wait", "service_level", "abandon_rate", "occupancy") else
                  (f"{v:,.2f}" if isinstance(v, float) else str(v)))
    out.print(t)


@app.command()
def compare(
    scenario: Path = typer.Argument(..., help="Scenario YAML file."),
    policy: list[str] = typer.Option(..., "--policy", "-p", help="Policy name, e.g. priority, weighted_wait, "
                                     "priority+overflow, priority+reserve. Give two or more; the first is the baseline."),
    seed: int = typer.Option(DEFAULT_SEED, help="Root seed, shared by all policies (common random numbers)."),
    replications: int = typer.Option(20, "--replications", "-r", min=2, max=1_000_000),
    kpi: list[str] = typer.Option(list(DEFAULT_KPIS), "--kpi", help="KPIs to compare."),
    fmt: Format = typer.Option(Format.table, "--format"),
    debug: bool = typer.Option(False, help="Show tracebacks."),
):
    """Compare routing policies on common random numbers: paired differences with 95% CIs."""
    scn = _load(scenario, debug)
    try:
        cmp = run_compare(scn, policy, seed=seed, replications=replications, kpis=kpi)
    except (ValueError, ScenarioError, SizeError) as exc:
        if debug:
            raise
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(EXIT_USAGE) from None
    diffs = cmp.differences()
    if fmt is Format.json:
        sys.stdout.write(json.dumps({"policies": cmp.rows(), "differences": [d.__dict__ for d in diffs]},
                                    indent=2, default=float) + "\n")
        return
    if fmt is Format.csv:
        sys.stdout.write("baseline,variant,kpi,mean_baseline,mean_variant,diff,ci_low,ci_high,unpaired_half_width\n")
        for d in diffs:
            sys.stdout.write(f"{d.baseline},{d.variant},{d.kpi},{d.mean_baseline!r},{d.mean_variant!r},"
                             f"{d.diff!r},{d.ci_low!r},{d.ci_high!r},{d.independent_half_width!r}\n")
        return
    t = Table(title=f"{scn.name}: policies on common random numbers ({replications} replications, seed {seed})",
              title_justify="left")
    for col in ("KPI", *policy):
        t.add_column(col, justify="right" if col != "KPI" else "left")
    summaries = [r.summary() for r in cmp.results]
    for k in kpi:
        t.add_row(k, *[_fmt_kpi(k, s[k]["mean"]) for s in summaries])
    out.print(t)
    d = Table(title=f"Differences against {policy[0]} (paired 95% CI; unpaired half-width for contrast)",
              title_justify="left")
    for col in ("policy", "KPI", "difference", "95% CI", "unpaired +/-", ""):
        d.add_column(col, justify="right" if col not in ("policy", "KPI") else "left")
    for x in diffs:
        f = (lambda v: f"{100 * v:+.2f} pt") if x.kpi in _SHARE_KPIS else (lambda v: f"{v:+.2f}")
        fi = (lambda v: f"{100 * v:.2f} pt") if x.kpi in _SHARE_KPIS else (lambda v: f"{v:.2f}")
        d.add_row(x.variant, x.kpi, f(x.diff), f"{f(x.ci_low)} .. {f(x.ci_high)}", fi(x.independent_half_width),
                  "significant" if x.significant else "")
    out.print(d)


# Commands defined in their own modules register themselves on `app` when imported.
from . import _cli_plan, _cli_scale  # noqa: E402,F401


def main() -> None:  # pragma: no cover - console entry point
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(EXIT_INTERRUPTED)


if __name__ == "__main__":  # pragma: no cover
    main()
