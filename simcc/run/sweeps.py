"""Sweeps: one scenario run over a grid of changes, with common random numbers across points.

A grid maps a *sweep key* to the values it takes; every combination is a
point (the first key varies slowest). A key is a dotted path into the
scenario's data, with two shorthands:

- ``trunks``, ``ivr.contained``, ``routing.policy``, ``volume_cv``,
  ``call_types.fault.patience.mean_s``, ``sla.service_level.within_s``: set
  that field (dict keys by name);
- ``groups.general.agents``, ``arrivals.hotline.daily_calls``: list items are
  found by their ``name`` (or by index); a single number for ``agents`` sets
  every interval;
- ``volume``: multiply every arrival volume (``calls`` or ``daily_calls``) by
  the value;
- ``agents_scale``: multiply every group's headcount, in every interval, by
  the value (rounded to whole agents, halves up);
- ``routing.policy``: a policy name or names joined by ``+``
  (``priority+overflow``), as for ``simcc compare``; a ``reserve`` is dropped
  at points whose policy does not use it.

Each point is validated like any scenario (a bad point raises
:class:`~simcc.errors.ScenarioError` naming the point and key) before
anything runs. Every point uses the same root seed, so replication ``r`` of
two points sees the same arrivals, patience and talk draws: differences
between points are the change, not noise (common random numbers).

Output folder: ``sweep.csv`` (tidy: one row per point and KPI with the mean
and 95% confidence interval), ``sweep.png`` (a KPI against the first key,
one line per combination of the others, with CI bars), ``meta.json`` last;
and ``points/NNNN/`` per point with its finished replications and, once
complete, its own result files.
"""
from __future__ import annotations

import contextlib
import difflib
import os
import re
from typing import Callable

from ..atomic import atomic_write
from ..engine import streams
from ..engine.compile import compile_scenario
from ..engine.replication import check_engine, kernel
from ..errors import Problem, ScenarioError
from ..jsonsafe import dumps
from ..model.edits import point_scenario
from ..model.scenario import Scenario, from_dict, load
from ..model.yamlio import read_yaml
from . import arguments, jobs, outdir
from .export import csv_text, write_result
from .grid import grid_points, normalize_grid
from .kpis import DAY_KPIS
from .results import Result
from .simulation import DEFAULT_SEED, MAX_EVENTS, check_memory, check_size, run_meta
from .store import RepStore, fingerprint, stored_entropy

SWEEP_FILE_KEYS = ("scenario", "grid", "seed", "replications", "kpis", "plot_kpi")


# --------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------
class SweepResult:
    """What :func:`sweep` returns: one :class:`~simcc.Result` per point, and the tidy table.

    ``rows()`` gives one dict per point and KPI (``point``, each swept key,
    ``kpi``, ``mean``, ``ci_low``, ``ci_high``, ``replications``);
    ``to_csv()`` the same as CSV; ``to_frame()`` as a pandas DataFrame;
    ``simcc.plot.sweep_figure(sw, kpi)`` draws one KPI against the first key.
    Points that did not finish (an interrupted sweep) have ``None`` results
    and no rows.
    """

    def __init__(self, scenario: Scenario, grid: dict[str, list], points: list[dict], results: list,
                 kpis: list[str], meta: dict):
        self.scenario = scenario
        self.grid = grid
        self.keys = list(grid)
        self.points = points
        self.results = results
        self.kpis = kpis
        self.meta = meta

    def rows(self) -> list[dict]:
        out = []
        for i, (point, res) in enumerate(zip(self.points, self.results)):
            if res is None:
                continue
            s = res.summary()
            for k in self.kpis:
                out.append({"point": i, **point, "kpi": k, "mean": s[k]["mean"], "ci_low": s[k]["ci_low"],
                            "ci_high": s[k]["ci_high"], "replications": len(res.replications)})
        return out

    def to_csv(self) -> str:
        cols = ["point", *self.keys, "kpi", "mean", "ci_low", "ci_high", "replications"]
        return csv_text(cols, ([row[c] for c in cols] for row in self.rows()))

    def to_dict(self) -> dict:
        """The tidy table and the sweep's metadata (what ``--format json`` prints)."""
        return {"meta": self.meta, "rows": self.rows()}

    def to_frame(self):
        """The tidy table as a pandas DataFrame (``pip install simcc[pandas]``)."""
        try:
            import pandas as pd
        except ImportError:  # pragma: no cover - depends on the environment
            raise ImportError("to_frame() needs pandas: pip install 'simcc[pandas]'") from None
        return pd.DataFrame(self.rows(), columns=["point", *self.keys, "kpi", "mean", "ci_low", "ci_high",
                                                  "replications"])

    def __repr__(self) -> str:
        done = sum(r is not None for r in self.results)
        return (f"<simcc.SweepResult {self.scenario.name!r}: {done}/{len(self.points)} point(s) over "
                f"{', '.join(self.keys)}>")


# --------------------------------------------------------------------------
# Running a sweep
# --------------------------------------------------------------------------
def sweep(
    scenario: Scenario | str | os.PathLike,
    grid: dict,
    seed: int | None = DEFAULT_SEED,
    replications: int = 10,
    *,
    kpis: list[str] | None = None,
    workers: int | None = None,
    scheduler=None,
    out_dir: str | os.PathLike | None = None,
    resume: bool = False,
    engine: str = "kernel",
    progress: Callable[[int, int], None] | None = None,
    max_events: float = MAX_EVENTS,
    plot_kpi: str = "service_level",
    extra_files: Callable[[SweepResult], dict] | None = None,
    max_memory_gb: float | None = None,
) -> SweepResult:
    """Run a scenario at every point of a grid, with common random numbers, on all cores or a cluster.

    ``simcc.sweep`` is this function with ``extra_files`` drawing ``sweep.png``.

    Parameters
    ----------
    scenario : Scenario or path
        The base scenario (or its YAML file).
    grid : dict
        Sweep key -> list of values (see the module docs for keys); the
        points are every combination, the first key varying slowest.
    seed : int or None
        One root seed for every point (common random numbers).
    replications : int
        Replications per point.
    kpis : list of str, optional
        Day KPIs in the table (default: all of ``simcc.DAY_KPIS``).
    workers, scheduler, engine, max_events, max_memory_gb
        As for :func:`simcc.simulate` (the memory guard counts every point);
        replications of all points share the workers.
    out_dir : path, optional
        Write ``sweep.csv``, ``sweep.png`` and ``meta.json`` (last) here, and
        keep each point's finished replications in ``points/NNNN/``.
    resume : bool
        Keep what an earlier (interrupted) run of the same sweep left in
        ``out_dir`` and run only the rest; the table is identical to an
        uninterrupted run's.
    progress : callable, optional
        ``progress(done, total)`` in replications over all points.
    plot_kpi : str
        The KPI drawn in ``sweep.png`` (recorded in ``meta.json``).
    extra_files : callable, optional
        ``extra_files(sweep_result)`` returns more files for ``out_dir``
        (name -> bytes), written before ``meta.json``.

    Returns
    -------
    SweepResult

    Raises
    ------
    ScenarioError
        A bad grid key or an invalid point (named with its values), before anything runs.
    SizeError
        One replication of a point is estimated above ``max_events``.
    simcc.Interrupted
        Ctrl-C; ``.result`` is the SweepResult of the finished points (written to ``out_dir``).

    Examples
    --------
    >>> import simcc
    >>> from simcc.run.sweeps import sweep
    >>> s = simcc.textbook.erlang(arrival_rate=0.5, mean_talk_s=180, agents=100, hours=1)
    >>> sw = sweep(s, {"groups.agents.agents": [92, 100]}, seed=1, replications=3, kpis=["service_level"])
    >>> [(r["groups.agents.agents"], r["kpi"]) for r in sw.rows()]
    [(92, 'service_level'), (100, 'service_level')]
    """
    base = arguments.scenario(scenario)
    check_engine(engine)
    replications = arguments.replications(replications)
    seed = arguments.seed(seed)
    arguments.progress(progress)
    arguments.out_dir(out_dir)
    max_events = arguments.max_events(max_events)
    kpis = list(DAY_KPIS) if kpis is None else list(kpis)
    bad = [k for k in kpis + [plot_kpi] if k not in DAY_KPIS]
    if bad:
        raise ValueError(f"unknown KPI(s) {', '.join(map(repr, bad))}; known: {', '.join(DAY_KPIS)}")
    jobs.check_workers(workers)
    if resume and out_dir is None:
        raise ValueError("resume=True needs out_dir (the folder of the sweep to continue)")
    grid = normalize_grid(grid)
    points = grid_points(grid)
    scenarios = [point_scenario(base, p, i) for i, p in enumerate(points)]
    for i, s in enumerate(scenarios):
        check_size(s, max_events, f"sweep point {i}")
    if engine == "kernel":
        kernel()
    compiled = [compile_scenario(s) for s in scenarios]
    check_memory(compiled, replications, arguments.max_memory(max_memory_gb), what="this sweep")

    out_dir = None if out_dir is None else os.fspath(out_dir)
    with outdir.claim(out_dir) if out_dir is not None else contextlib.nullcontext():
        entropy = None
        if resume and seed is None:
            entropy = stored_entropy(os.path.join(out_dir, "points", _point_dir(0)))
        entropy = entropy or streams.root_entropy(seed)
        if out_dir is not None and not resume:
            _clear_old_sweep(out_dir, len(points))
        point_jobs = []
        for i, s in enumerate(scenarios):
            store = None
            if out_dir is not None:
                store = RepStore(
                    os.path.join(out_dir, "points", _point_dir(i)), fingerprint(s, entropy, engine), resume
                )
            point_jobs.append(
                jobs.Job(
                    compiled[i], replications, s.sla.denominator, store, f"point {i}", max(s.expected_calls(), 1.0)
                )
            )

        results: list = [None] * len(points)

        def point_done(i, merger):
            meta = run_meta(scenarios[i], seed, entropy, replications, engine)
            meta["sweep_point"] = {"index": i, **points[i]}
            results[i] = Result(merger.acc, scenarios[i], meta)
            if out_dir is not None:
                write_result(results[i], os.path.join(out_dir, "points", _point_dir(i)))

        outcome = jobs.run_jobs(
            point_jobs, entropy, engine, workers=workers, scheduler=scheduler, progress=progress, on_job_done=point_done
        )
        meta = run_meta(base, seed, entropy, replications, engine)
        meta.update(
            status=outcome.status,
            grid=grid,
            points=len(points),
            completed_points=sum(r is not None for r in results),
            kpis=kpis,
            plot_kpi=plot_kpi,
            execution=outcome.execution,
        )
        if outcome.status != "complete":
            meta["unfinished_points"] = [i for i, r in enumerate(results) if r is None]
        sw = SweepResult(base, grid, points, results, kpis, meta)
        if out_dir is not None:
            done = any(r is not None for r in results)
            write_sweep(sw, out_dir, extra_files(sw) if extra_files is not None and done else None)
        if outcome.status == "interrupted":
            raise jobs.Interrupted(
                sw, f"sweep interrupted: {meta['completed_points']} of {len(points)} points finished"
            )
        if outcome.error is not None:
            raise outcome.error
        return sw


def _point_dir(i: int) -> str:
    return f"{i:04d}"


_RESULT_FILES = ("meta.json", "summary.csv", "intervals.csv", "result.json")


def _clear_old_sweep(out_dir: str, n: int) -> None:
    """A fresh sweep into a used folder: remove what an earlier sweep wrote there (simcc's files only),
    so that nothing stale passes for a result of this one."""
    for name in ("meta.json", "sweep.csv", "sweep.png"):
        path = os.path.join(out_dir, name)
        if os.path.exists(path):
            os.unlink(path)
    folder = os.path.join(out_dir, "points")
    if not os.path.isdir(folder):
        return
    for name in os.listdir(folder):
        if not re.fullmatch(r"\d{4,}", name):
            continue
        point = os.path.join(folder, name)
        for f in _RESULT_FILES:
            if os.path.exists(os.path.join(point, f)):
                os.unlink(os.path.join(point, f))
        reps = os.path.join(point, "reps")
        if int(name) >= n and os.path.isdir(reps):
            for f in os.listdir(reps):
                if re.fullmatch(r"rep-\d{7}\.npz|run\.json", f):
                    os.unlink(os.path.join(reps, f))
            for d in (reps, point):
                try:
                    os.rmdir(d)
                except OSError:  # something else is in there: leave it
                    break


def write_sweep(sw: SweepResult, out_dir, extra: dict | None = None) -> list[str]:
    """Write ``sweep.csv``, then any ``extra`` files (name -> bytes, e.g. the chart), then ``meta.json`` last."""
    out_dir = os.fspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    files = {"sweep.csv": sw.to_csv(), **(extra or {}), "meta.json": dumps(sw.meta)}
    written = []
    for name, data in files.items():
        atomic_write(os.path.join(out_dir, name), data)
        written.append(os.path.join(out_dir, name))
    return written


# --------------------------------------------------------------------------
# Sweep files
# --------------------------------------------------------------------------
def load_sweep(path) -> dict:
    """Read a sweep file: ``scenario`` (a path, relative to the file, or a mapping), ``grid``,
    and optional ``seed``, ``replications``, ``kpis``, ``plot_kpi``.

    Returns
    -------
    dict
        ``scenario`` (a validated Scenario), ``grid`` and whichever options the file sets.

    Raises
    ------
    ScenarioError
        With every problem of the file (unknown keys, a bad grid, a bad scenario).
    """
    path = os.fspath(path)
    data, lines = read_yaml(path)
    problems = []
    for k in data:
        if k not in SWEEP_FILE_KEYS:
            close = difflib.get_close_matches(str(k), SWEEP_FILE_KEYS, n=1)
            problems.append(
                Problem(
                    str(k),
                    f"unknown key {k!r} in a sweep file",
                    lines.get(str(k)),
                    f"did you mean {close[0]!r}?" if close else f"known: {', '.join(SWEEP_FILE_KEYS)}",
                )
            )
    if "scenario" not in data:
        problems.append(Problem("scenario", "a sweep file needs scenario: (a scenario file path or mapping)"))
    if "grid" not in data:
        problems.append(Problem("grid", "a sweep file needs grid: (keys and the values they take)"))
    elif not isinstance(data["grid"], dict) or not data["grid"]:
        problems.append(Problem("grid", "grid must map sweep keys to lists of values", lines.get("grid")))
    for k in ("seed", "replications"):
        v = data.get(k)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < (1 if k == "replications" else 0)):
            problems.append(
                Problem(
                    k, f"{k} must be a whole number{' >= 1' if k == 'replications' else ''}, not {v!r}", lines.get(k)
                )
            )
    for k in ("kpis",):
        v = data.get(k)
        if v is not None and (not isinstance(v, list) or any(x not in DAY_KPIS for x in v)):
            problems.append(Problem(k, f"kpis must be a list of day KPIs ({', '.join(DAY_KPIS)})", lines.get(k)))
    if data.get("plot_kpi") is not None and data["plot_kpi"] not in DAY_KPIS:
        problems.append(Problem("plot_kpi", f"unknown KPI {data['plot_kpi']!r}", lines.get("plot_kpi")))
    if problems:
        raise ScenarioError(problems, path)
    spec = data["scenario"]
    if isinstance(spec, str):
        scn_path = spec if os.path.isabs(spec) else os.path.join(os.path.dirname(os.path.abspath(path)), spec)
        scenario = load(scn_path)
    elif isinstance(spec, dict):
        scenario = from_dict(spec, source=f"{path}: scenario")
    else:
        raise ScenarioError(
            [Problem("scenario", "scenario must be a file path or a mapping", lines.get("scenario"))], path
        )
    out = {"scenario": scenario, "grid": normalize_grid(data["grid"])}
    for k in ("seed", "replications", "kpis", "plot_kpi"):
        if data.get(k) is not None:
            out[k] = data[k]
    return out
