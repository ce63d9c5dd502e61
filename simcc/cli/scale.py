"""Replications at scale on the command line: the progress bar, interrupts and resume, and ``simcc sweep``.

:func:`run_replications` is what ``simcc run`` calls to run its replications
on all cores or a Dask cluster, with a progress bar and ETA, Ctrl-C handling
and ``--resume``.
"""
from __future__ import annotations

import math
import os
import warnings
from pathlib import Path
from typing import Optional

import typer

from ..errors import ScenarioError, SizeError
from ..model.scenario import load
from ..model.yamlio import read_yaml
from ..run import jobs
from ..run.grid import parse_set
from ..run.kpis import format_value
from ..run.pool import WorkerStartError
from ..run.simulation import DEFAULT_SEED, MAX_EVENTS, simulate
from ..run.store import ResumeError
from ..run.sweeps import load_sweep, sweep
from .app import (
    DEBUG_HELP,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    FORMAT_HELP,
    Engine,
    Format,
    app,
    emit,
    fail,
    print_problems,
)
from .console import err, error, note, print_table, warning

MAX_MEMORY_HELP = "Refuse a run estimated to need more memory than this, GB (default: half of this machine's)."
WORKERS_HELP = "Local worker processes (default: all cores; small runs stay in this process)."
SCHEDULER_HELP = "Run on Dask distributed: a scheduler address (tcp://HOST:8786) or 'local' for a local cluster."
RESUME_HELP = "Continue the run kept in --out: finished replications are reused, only the missing ones run."


class Progress:
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
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            self.bar = Progress(TextColumn(self.label.replace("[", "\\[")), BarColumn(), MofNCompleteColumn(),
                                TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=err,
                                transient=True)
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


def report_failures(meta: dict) -> None:
    for f in meta.get("execution", {}).get("worker_failures", []):
        what = (
            f"replication(s) {f['replications']}" if "replications" in f else f"task(s) {', '.join(f.get('tasks', []))}"
        )
        job = f" of {f['job']}" if f.get("job") else ""
        warning(f"a worker died while running {what}{job} ({f['error']}); they were run again")


class quiet_worker_warnings(warnings.catch_warnings):
    """Worker losses are printed from the result's metadata, once each, not as Python warnings."""

    def __enter__(self):
        super().__enter__()
        warnings.simplefilter("ignore", jobs.WorkerLostWarning)


def check_out_dir(out_dir: Path | None) -> None:
    """Refuse an --out that exists and is not a folder, before any work is done."""
    if out_dir is not None and out_dir.exists() and not out_dir.is_dir():
        fail(f"--out {out_dir} exists and is not a folder")


def run_replications(
    scenario,
    *,
    seed: int | None,
    replications: int,
    engine: str = "kernel",
    max_events: float = MAX_EVENTS,
    workers: int | None = None,
    scheduler: str | None = None,
    out_dir: Path | None = None,
    resume: bool = False,
    debug: bool = False,
    max_memory_gb: float | None = None,
    call_log: bool = False,
):
    """What ``simcc run`` does to run replications: progress bar with ETA, exit codes, resume.

    Returns the Result; raises ``typer.Exit`` with code 2 (bad arguments, too
    big, another run in ``--out``), 130 (Ctrl-C: finished replications kept
    in ``--out``) or 1 (a worker kept dying, workers could not start).
    """
    if resume and out_dir is None:
        fail("--resume needs --out (the folder of the run to continue)")
    check_out_dir(out_dir)
    try:
        with quiet_worker_warnings(), Progress(replications) as tick:
            result = simulate(
                scenario,
                seed=seed,
                replications=replications,
                engine=engine,
                progress=tick,
                max_events=max_events,
                workers=workers,
                scheduler=scheduler,
                out_dir=out_dir,
                resume=resume,
                max_memory_gb=max_memory_gb,
                call_log=call_log,
            )
    except (SizeError, ResumeError, ValueError, OSError) as exc:
        if debug:
            raise
        fail(str(exc))
    except jobs.Interrupted as exc:
        if exc.result is not None:
            report_failures(exc.result.meta)
        kept = len(exc.result.replications) if exc.result is not None else 0
        where = f"; kept in {out_dir}, continue with --resume" if out_dir is not None else ""
        error(f"interrupted: {kept} of {replications} replications finished{where}")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except (jobs.WorkerLost, jobs.ReplicationFailed, WorkerStartError) as exc:
        if debug:
            raise
        fail(f"{exc}" + (f"; finished replications are kept in {out_dir} (--resume)" if out_dir else ""), EXIT_FAILED)
    report_failures(result.meta)
    return result


def _is_sweep_file(path: Path) -> bool:
    data, _ = read_yaml(path)
    return isinstance(data, dict) and ("grid" in data or "scenario" in data) and "call_types" not in data


def _print_sweep(sw, kpi: str) -> None:
    rows = []
    for i, (point, res) in enumerate(zip(sw.points, sw.results)):
        s = res.summary()[kpi]
        lo, hi = format_value(kpi, s["ci_low"]), format_value(kpi, s["ci_high"])
        rows.append(
            [
                str(i),
                *[str(point[k]) for k in sw.keys],
                format_value(kpi, s["mean"]),
                "-" if lo == "-" else f"{lo} .. {hi}",
            ]
        )
    print_table(
        ["point", *sw.keys, kpi, "95% CI"],
        rows,
        title=f"{sw.scenario.name}: {kpi} per point (mean of {sw.meta['replications']} replications, 95% CI)",
    )


@app.command("sweep")
def sweep_cmd(
    spec: Path = typer.Argument(
        ..., help="A sweep file (scenario:, grid:, seed:, replications:, kpis:) or a scenario file swept with --set."
    ),
    sets: Optional[list[str]] = typer.Option(
        None, "--set", help="KEY=V1,V2,... or KEY=START:STOP:STEP (stop included); repeat for more keys."
    ),
    out_dir: Path = typer.Option(..., "--out", help="Folder for sweep.csv, sweep.png, meta.json and points/."),
    seed: Optional[int] = typer.Option(
        None,
        help=f"Root seed shared by every point (common random numbers); "
        f"default: the sweep file's, else {DEFAULT_SEED}.",
    ),
    replications: Optional[int] = typer.Option(
        None,
        "--replications",
        "-r",
        min=1,
        max=1_000_000,
        help="Replications per point (default: the sweep file's, else 10).",
    ),
    kpis: Optional[str] = typer.Option(None, "--kpis", help="Comma-separated day KPIs for the table (default: all)."),
    plot_kpi: Optional[str] = typer.Option(None, "--plot-kpi", help="KPI drawn in sweep.png (default: service_level)."),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", min=1, help=WORKERS_HELP),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help=SCHEDULER_HELP),
    resume: bool = typer.Option(
        False, "--resume", help="Keep what an earlier run of this sweep left in --out; run the rest."
    ),
    engine: Engine = typer.Option(Engine.kernel, help="kernel (compiled) or reference (SimPy, slow)."),
    max_events: float = typer.Option(
        MAX_EVENTS, help="Refuse a point whose one replication (a day) is estimated above this many events."
    ),
    max_memory_gb: Optional[float] = typer.Option(None, "--max-memory-gb", help=MAX_MEMORY_HELP),
    fmt: Format = typer.Option(Format.table, "--format", help=FORMAT_HELP),
    debug: bool = typer.Option(False, help=DEBUG_HELP),
):
    """Run a scenario over a grid of changes (agents, trunks, volume, IVR, patience, policy) and tabulate KPIs with CIs.

    Examples: simcc sweep sweep.yaml --out sw;
    simcc sweep center.yaml --set trunks=600,700,800 --set volume=1.0:1.2:0.1 --out sw
    """
    from ..present.plot import sweep_png

    check_out_dir(out_dir)
    try:
        conf = load_sweep(spec) if _is_sweep_file(spec) else {"scenario": load(spec), "grid": {}}
        for option in sets or []:
            key, values = parse_set(option)
            conf["grid"][key] = values
        if not conf["grid"]:
            fail("nothing to sweep: give a sweep file with grid:, or --set KEY=V1,V2,...")
        kpi_list = [k.strip() for k in kpis.split(",") if k.strip()] if kpis else conf.get("kpis")
        plot = plot_kpi or conf.get("plot_kpi") or "service_level"
        reps = replications or conf.get("replications") or 10
        root_seed = seed if seed is not None else conf.get("seed", DEFAULT_SEED)
        for w in conf["scenario"].warnings():
            warning(w)
        n_points = math.prod(len(v) for v in conf["grid"].values())
        with quiet_worker_warnings(), Progress(n_points * reps, f"{n_points} points x {reps} replications") as tick:
            result = sweep(
                conf["scenario"],
                conf["grid"],
                seed=root_seed,
                replications=reps,
                kpis=kpi_list,
                workers=workers,
                scheduler=scheduler,
                out_dir=out_dir,
                resume=resume,
                engine=engine.value,
                progress=tick,
                max_events=max_events,
                plot_kpi=plot,
                max_memory_gb=max_memory_gb,
                extra_files=lambda sw: {"sweep.png": sweep_png(sw, plot)},
            )
    except ScenarioError as exc:
        if debug:
            raise
        print_problems(exc)
        raise typer.Exit(EXIT_USAGE) from None
    except (SizeError, ValueError, OSError) as exc:  # bad --set, KPI or worker count; another sweep in --out
        if debug:
            raise
        fail(str(exc))
    except jobs.Interrupted as exc:
        sw = exc.result
        report_failures(sw.meta)
        error(
            f"interrupted: {sw.meta['completed_points']} of {sw.meta['points']} points finished; every finished "
            f"replication is kept in {out_dir}; continue with --resume"
        )
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except (jobs.WorkerLost, jobs.ReplicationFailed, WorkerStartError) as exc:
        if debug:
            raise
        fail(f"{exc}; finished replications are kept in {out_dir} (--resume)", EXIT_FAILED)
    report_failures(result.meta)
    emit(result, fmt, lambda: _print_sweep(result, plot))
    note(
        f"wrote {os.path.join(out_dir, 'sweep.csv')}, {os.path.join(out_dir, 'sweep.png')}, "
        f"{os.path.join(out_dir, 'meta.json')} and points/"
    )
