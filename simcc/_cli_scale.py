"""CLI commands for replications at scale and sweeps (registered on simcc.cli.app).

``simcc sweep`` runs a grid of scenario changes; :func:`run_replications` is
what ``simcc run`` calls to run its replications on all cores or a Dask
cluster, with a progress bar, Ctrl-C handling and ``--resume``.
"""
from __future__ import annotations

import math
import os
import warnings
from pathlib import Path
from typing import List, Optional

import typer
from rich.table import Table

from . import replicate
from .cli import EXIT_INTERRUPTED, EXIT_USAGE, Engine, _fmt_kpi, _problems_table, app, err, out
from .errors import ScenarioError, SizeError
from .simulate import DEFAULT_SEED, MAX_EVENTS, simulate

EXIT_FAILED = 1

WORKERS_HELP = "Local worker processes (default: all cores; small runs stay in this process)."
SCHEDULER_HELP = "Run on Dask distributed: a scheduler address (tcp://HOST:8786) or 'local' for a local cluster."
RESUME_HELP = "Continue the run kept in --out: finished replications are reused, only the missing ones run."


class _Progress:
    """Progress bar with the time remaining, on stderr when it is a terminal (only the parent draws).

    The first report says where the run starts (replications kept from an
    earlier run); they do not count toward the speed behind the ETA.
    """

    def __init__(self, total: int, label: str = "replications"):
        self.total = total
        self.label = label
        self.bar = None
        self.task = None

    def __enter__(self):
        if self.total > 1 and err.is_terminal:
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                       TimeRemainingColumn)
            self.bar = Progress(TextColumn(self.label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                TextColumn("ETA"), TimeRemainingColumn(), console=err, transient=True)
            self.bar.start()
        return self.tick

    def tick(self, done: int, total: int) -> None:
        if self.bar is None:
            return
        if self.task is None:
            self.task = self.bar.add_task(self.label, total=total, completed=done)
        else:
            self.bar.update(self.task, completed=done)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.stop()
        return False


def _report_failures(meta: dict) -> None:
    for f in meta.get("execution", {}).get("worker_failures", []):
        what = f"replication(s) {f['replications']}" if "replications" in f else f"task(s) {', '.join(f.get('tasks', []))}"
        job = f" of {f['job']}" if f.get("job") else ""
        err.print(f"[yellow]warning:[/] a worker died while running {what}{job} ({f['error']}); they were run again")


class _quiet_worker_warnings(warnings.catch_warnings):
    """Worker losses are printed from the result's metadata, once each, not as Python warnings."""

    def __enter__(self):
        super().__enter__()
        warnings.simplefilter("ignore", replicate.WorkerLostWarning)


def run_replications(scenario, *, seed: int | None, replications: int, engine: str = "kernel",
                     max_events: float = MAX_EVENTS, workers: int | None = None, scheduler: str | None = None,
                     out_dir: Path | None = None, resume: bool = False):
    """What ``simcc run`` does to run replications: progress bar with ETA, exit codes, resume.

    Returns the Result; raises ``typer.Exit`` with code 2 (bad arguments, too
    big, another run in ``--out``), 130 (Ctrl-C: finished replications kept
    in ``--out``) or 1 (a worker kept dying).
    """
    if resume and out_dir is None:
        err.print("[red]error:[/] --resume needs --out (the folder of the run to continue)")
        raise typer.Exit(EXIT_USAGE)
    check_out_dir(out_dir)
    try:
        with _quiet_worker_warnings(), _Progress(replications) as tick:
            result = simulate(scenario, seed=seed, replications=replications, engine=engine, progress=tick,
                              max_events=max_events, workers=workers, scheduler=scheduler, out_dir=out_dir,
                              resume=resume)
    except (SizeError, replicate.ResumeError, ValueError, OSError) as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(EXIT_USAGE) from None
    except replicate.Interrupted as exc:
        _report_failures(exc.result.meta)
        kept = len(exc.result.replications)
        where = f"; kept in {out_dir}, continue with --resume" if out_dir is not None else ""
        err.print(f"interrupted: {kept} of {replications} replications finished{where}")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except replicate.WorkerLost as exc:
        err.print(f"[red]error:[/] {exc}" + (f"; finished replications are kept in {out_dir} (--resume)" if out_dir else ""))
        raise typer.Exit(EXIT_FAILED) from None
    _report_failures(result.meta)
    return result


def check_out_dir(out_dir: Path | None) -> None:
    """Refuse an --out that exists and is not a folder, before any work is done."""
    if out_dir is not None and out_dir.exists() and not out_dir.is_dir():
        err.print(f"[red]error:[/] --out {out_dir} exists and is not a folder")
        raise typer.Exit(EXIT_USAGE)


def _is_sweep_file(path: Path) -> bool:
    from ._yaml import read_yaml
    data, _ = read_yaml(path)
    return isinstance(data, dict) and ("grid" in data or "scenario" in data) and "call_types" not in data


@app.command("sweep")
def sweep_cmd(
    spec: Path = typer.Argument(..., help="A sweep file (scenario:, grid:, seed:, replications:, kpis:) "
                                          "or a scenario file swept with --set."),
    sets: Optional[List[str]] = typer.Option(None, "--set", help="KEY=V1,V2,... or KEY=START:STOP:STEP "
                                                                 "(stop included); repeat for more keys."),
    out_dir: Path = typer.Option(..., "--out", help="Folder for sweep.csv, sweep.png, meta.json and points/."),
    seed: Optional[int] = typer.Option(None, help=f"Root seed shared by every point (common random numbers); "
                                                  f"default: the sweep file's, else {DEFAULT_SEED}."),
    replications: Optional[int] = typer.Option(None, "--replications", "-r", min=1, max=1_000_000,
                                               help="Replications per point (default: the sweep file's, else 10)."),
    kpis: Optional[str] = typer.Option(None, "--kpis", help="Comma-separated day KPIs for the table (default: all)."),
    plot_kpi: Optional[str] = typer.Option(None, "--plot-kpi", help="KPI drawn in sweep.png (default: service_level)."),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", min=1, help=WORKERS_HELP),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help=SCHEDULER_HELP),
    resume: bool = typer.Option(False, "--resume", help="Keep what an earlier run of this sweep left in --out; run the rest."),
    engine: Engine = typer.Option(Engine.kernel, help="kernel (compiled) or reference (SimPy, slow)."),
    max_events: float = typer.Option(MAX_EVENTS, help="Refuse a point whose one replication (a day) is estimated above this many events."),
    debug: bool = typer.Option(False, help="Show tracebacks."),
):
    """Run a scenario over a grid of changes (agents, trunks, volume, IVR, patience, policy) and tabulate KPIs with CIs.

    Examples: simcc sweep sweep.yaml --out sw;
    simcc sweep center.yaml --set trunks=600,700,800 --set volume=1.0:1.2:0.1 --out sw
    """
    from .sweep import load_sweep, parse_set, sweep

    check_out_dir(out_dir)
    try:
        if _is_sweep_file(spec):
            conf = load_sweep(spec)
        else:
            from .scenario import load
            conf = {"scenario": load(spec), "grid": {}}
        for option in sets or []:
            key, values = parse_set(option)
            conf["grid"][key] = values
        if not conf["grid"]:
            err.print("[red]error:[/] nothing to sweep: give a sweep file with grid:, or --set KEY=V1,V2,...")
            raise typer.Exit(EXIT_USAGE)
        kpi_list = [k.strip() for k in kpis.split(",") if k.strip()] if kpis else conf.get("kpis")
        plot = plot_kpi or conf.get("plot_kpi") or "service_level"
        reps = replications or conf.get("replications") or 10
        root_seed = seed if seed is not None else conf.get("seed", DEFAULT_SEED)
        for w in conf["scenario"].warnings():
            err.print(f"[yellow]warning:[/] {w}")
        n_points = math.prod(len(v) for v in conf["grid"].values())
        with _quiet_worker_warnings(), _Progress(n_points * reps, f"{n_points} points x {reps} replications") as tick:
            result = sweep(conf["scenario"], conf["grid"], seed=root_seed, replications=reps, kpis=kpi_list,
                           workers=workers, scheduler=scheduler, out_dir=out_dir, resume=resume,
                           engine=engine.value, progress=tick, max_events=max_events, plot_kpi=plot)
    except ScenarioError as exc:
        if debug:
            raise
        err.print(_problems_table(exc))
        raise typer.Exit(EXIT_USAGE) from None
    except (SizeError, ValueError, OSError) as exc:   # bad --set, KPI or worker count; another sweep in --out
        if debug:
            raise
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(EXIT_USAGE) from None
    except replicate.Interrupted as exc:
        sw = exc.result
        _report_failures(sw.meta)
        err.print(f"interrupted: {sw.meta['completed_points']} of {sw.meta['points']} points finished; every finished "
                  f"replication is kept in {out_dir}; continue with --resume")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except replicate.WorkerLost as exc:
        err.print(f"[red]error:[/] {exc}; finished replications are kept in {out_dir} (--resume)")
        raise typer.Exit(EXIT_FAILED) from None
    _report_failures(result.meta)
    _print_sweep(result, plot)
    err.print(f"wrote {os.path.join(out_dir, 'sweep.csv')}, {os.path.join(out_dir, 'sweep.png')}, "
              f"{os.path.join(out_dir, 'meta.json')} and points/")


def _print_sweep(sw, kpi: str) -> None:
    t = Table(title=f"{sw.scenario.name}: {kpi} per point (mean of {sw.meta['replications']} replications, 95% CI)",
              title_justify="left")
    t.add_column("point", justify="right")
    for k in sw.keys:
        t.add_column(k, justify="right")
    t.add_column(kpi, justify="right")
    t.add_column("95% CI", justify="right")
    for i, (point, res) in enumerate(zip(sw.points, sw.results)):
        s = res.summary()[kpi]
        ci = "-" if math.isnan(s["ci_low"]) else f"{_fmt_kpi(kpi, s['ci_low'])} .. {_fmt_kpi(kpi, s['ci_high'])}"
        t.add_row(str(i), *[str(point[k]) for k in sw.keys], _fmt_kpi(kpi, s["mean"]), ci)
    out.print(t)
