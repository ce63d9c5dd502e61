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

import csv
import difflib
import io
import itertools
import json
import math
import os
import re
from typing import Callable

from . import replicate, streams
from .compile import compile_scenario
from .errors import Problem, ScenarioError
from .io import atomic_write, write_result
from .results import DAY_KPIS, Result
from .scenario import Scenario, from_dict, load
from .simulate import DEFAULT_SEED, ENGINES, MAX_EVENTS, _kernel, check_size, run_meta

MAX_POINTS = 10_000
SHORTHANDS = ("volume", "agents_scale")
SWEEP_FILE_KEYS = ("scenario", "grid", "seed", "replications", "kpis", "plot_kpi")
_SHARE_KPIS = {"service_level", "abandon_rate", "blocking_rate", "containment_rate", "hold_rate", "occupancy"}


# --------------------------------------------------------------------------
# Grid: keys, values, points
# --------------------------------------------------------------------------
def parse_value(text: str):
    """A value typed on the command line: null/none, true/false, an int, a float, or text.

    Examples
    --------
    >>> [parse_value(x) for x in ("600", "1.2", "none", "true", "priority")]
    [600, 1.2, None, True, 'priority']
    """
    t = text.strip()
    low = t.lower()
    if low in ("none", "null", "~"):
        return None
    if low in ("true", "false"):
        return low == "true"
    if re.fullmatch(r"[-+]?\d+", t):
        return int(t)
    try:
        x = float(t)
    except ValueError:
        return t
    if not math.isfinite(x):
        raise ValueError(f"{text!r} is not a finite number")
    return x


def parse_values(text: str) -> list:
    """``"600,700,800"`` or ``"600:800:100"`` (start:stop:step, stop included) into a list of values.

    Examples
    --------
    >>> parse_values("600:800:100"), parse_values("0.8:1.2:0.2"), parse_values("priority")
    ([600, 700, 800], [0.8, 1.0, 1.2], ['priority'])
    """
    text = text.strip()
    parts = text.split(":")
    if len(parts) == 3 and all(re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", p.strip()) for p in parts):
        a, b, step = (parse_value(p) for p in parts)
        if step <= 0:
            raise ValueError(f"{text!r}: the step must be positive")
        if b < a:
            raise ValueError(f"{text!r}: stop is below start")
        n = int(math.floor((b - a) / step + 1e-9)) + 1
        if n > MAX_POINTS:
            raise ValueError(f"{text!r} gives {n} values; at most {MAX_POINTS}")
        if all(isinstance(x, int) for x in (a, b, step)):
            return [a + i * step for i in range(n)]
        digits = max(_decimals(p) for p in parts)
        return [round(a + i * step, digits + 6) if digits else float(a + i * step) for i in range(n)]
    return [parse_value(v) for v in text.split(",") if v.strip() != ""]


def _decimals(text: str) -> int:
    text = text.strip().lower()
    if "e" in text:
        return 12
    return len(text.split(".", 1)[1]) if "." in text else 0


def parse_set(option: str) -> tuple[str, list]:
    """``"KEY=V1,V2"`` (a ``--set`` option) into ``(key, values)``."""
    if "=" not in option:
        raise ValueError(f"--set {option!r}: write KEY=V1,V2,... or KEY=START:STOP:STEP")
    key, _, values = option.partition("=")
    key = key.strip()
    if not key:
        raise ValueError(f"--set {option!r}: the key is empty")
    vals = parse_values(values)
    if not vals:
        raise ValueError(f"--set {option!r}: no values")
    return key, vals


def normalize_grid(grid: dict) -> dict[str, list]:
    """Check a grid (key -> values; a single value means one) and return it with lists."""
    if not isinstance(grid, dict) or not grid:
        raise ScenarioError([Problem("grid", "a sweep needs a grid: a mapping of keys to lists of values")], "sweep")
    out, problems = {}, []
    for key, values in grid.items():
        if not isinstance(key, str) or not key or key.startswith(".") or key.endswith(".") or ".." in key:
            problems.append(Problem(f"grid.{key}", f"{key!r} is not a sweep key (a dotted path such as groups.general.agents)"))
            continue
        if isinstance(values, str) and ":" in values:
            try:
                values = parse_values(values)
            except ValueError as exc:
                problems.append(Problem(f"grid.{key}", str(exc)))
                continue
        values = list(values) if isinstance(values, (list, tuple)) else [values]
        if not values:
            problems.append(Problem(f"grid.{key}", "no values"))
        out[key] = values
    if problems:
        raise ScenarioError(problems, "sweep")
    n = math.prod(len(v) for v in out.values())
    if n > MAX_POINTS:
        raise ScenarioError([Problem("grid", f"{n:,} points; a sweep has at most {MAX_POINTS:,}")], "sweep")
    return out


def grid_points(grid: dict[str, list]) -> list[dict]:
    """Every combination of the grid's values, the first key varying slowest.

    Examples
    --------
    >>> grid_points({"trunks": [10, 20], "volume": [1.0, 1.5]})
    [{'trunks': 10, 'volume': 1.0}, {'trunks': 10, 'volume': 1.5}, {'trunks': 20, 'volume': 1.0}, {'trunks': 20, 'volume': 1.5}]
    """
    keys = list(grid)
    return [dict(zip(keys, combo)) for combo in itertools.product(*(grid[k] for k in keys))]


def _number(key, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ScenarioError([Problem(key, f"{key} is a multiplier: a number >= 0, not {value!r}")], "sweep")
    return float(value)


def _scale_volume(data: dict, m: float) -> None:
    for a in data.get("arrivals", []):
        if a.get("calls") is not None:
            a["calls"] = [float(x) * m for x in a["calls"]] if isinstance(a["calls"], list) else float(a["calls"]) * m
        if a.get("daily_calls") is not None:
            a["daily_calls"] = float(a["daily_calls"]) * m


def _scale_agents(data: dict, m: float) -> None:
    def r(x):
        return int(math.floor(x * m + 0.5))
    for g in data.get("groups", []):
        g["agents"] = [r(x) for x in g["agents"]] if isinstance(g["agents"], list) else r(g["agents"])


def _set_policy(data: dict, value) -> None:
    """``routing.policy``: a name, names joined by '+' (``priority+overflow``) or a list of names,
    as in ``simcc compare``; a reserve is dropped when the policy does not use it."""
    names = [p.strip() for p in value.split("+") if p.strip()] if isinstance(value, str) else value
    routing = data.setdefault("routing", {})
    routing["policy"] = names[0] if isinstance(names, list) and len(names) == 1 else names
    if isinstance(names, list) and "reserve" not in names and routing.get("reserve"):
        routing["reserve"] = []


def _set_path(data: dict, key: str, value) -> None:
    parts = key.split(".")
    node = data
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        here = ".".join(parts[:i + 1])
        if isinstance(node, dict):
            if last:
                node[part] = value
                return
            if part not in node or node[part] is None:
                close = difflib.get_close_matches(part, [k for k in node if node[k] is not None], n=1)
                raise ScenarioError([Problem(key, f"sweep key {key!r}: the scenario has no {here!r}",
                                             hint=f"did you mean {'.'.join(parts[:i] + [close[0]])!r}?" if close else None)],
                                    "sweep")
            node = node[part]
        elif isinstance(node, list):
            names = [x.get("name") for x in node if isinstance(x, dict)]
            if part in names:
                idx = names.index(part)
            elif re.fullmatch(r"\d+", part) and int(part) < len(node):
                idx = int(part)
            else:
                close = difflib.get_close_matches(part, [n for n in names if n], n=1)
                raise ScenarioError([Problem(key, f"sweep key {key!r}: no item named {part!r} in {'.'.join(parts[:i])!r}",
                                             hint=f"did you mean {close[0]!r}?" if close else
                                             (f"known: {', '.join(n for n in names if n)}" if any(names) else None))],
                                    "sweep")
            if last:
                node[idx] = value
                return
            node = node[idx]
        else:
            raise ScenarioError([Problem(key, f"sweep key {key!r}: {'.'.join(parts[:i])!r} is a value, not a section")],
                                "sweep")


def point_scenario(base: Scenario, point: dict, index: int = 0) -> Scenario:
    """The scenario of one sweep point: ``base`` with the point's changes, validated.

    Raises
    ------
    ScenarioError
        A key that names nothing in the scenario, or a point whose scenario
        is invalid; the error's source names the point and its values.

    Examples
    --------
    >>> import simcc
    >>> s = simcc.textbook.erlang(arrival_rate=0.5, mean_talk_s=180, agents=100, hours=1)
    >>> p = point_scenario(s, {"groups.agents.agents": 110, "volume": 1.2})
    >>> p.groups[0].agents, p.expected_calls()
    (110, 2160.0)
    """
    data = base.model_dump(mode="python", exclude_none=True)
    label = ", ".join(f"{k}={v!r}" for k, v in point.items())
    source = f"sweep point {index} ({label})"
    for key, value in point.items():
        try:
            if key == "volume":
                _scale_volume(data, _number(key, value))
            elif key == "agents_scale":
                _scale_agents(data, _number(key, value))
            elif key in ("routing.policy", "policy"):
                _set_policy(data, value)
            else:
                _set_path(data, key, value)
        except ScenarioError as exc:
            raise ScenarioError(exc.problems, source) from None
    try:
        return from_dict(data, source=source)
    except ScenarioError as exc:
        keys = [k for k in point if k not in SHORTHANDS]
        problems = [p if p.hint or not _related(p.path, keys) else
                    Problem(p.path, p.message, p.line, f"set by sweep key {_related(p.path, keys)}")
                    for p in exc.problems]
        raise ScenarioError(problems, source) from None


def _related(path: str, keys: list[str]) -> str | None:
    for k in keys:
        if path == k or path.startswith(k + ".") or k.startswith(path + "."):
            return k
    return None


# --------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------
class SweepResult:
    """What :func:`sweep` returns: one :class:`~simcc.Result` per point, and the tidy table.

    ``rows()`` gives one dict per point and KPI (``point``, each swept key,
    ``kpi``, ``mean``, ``ci_low``, ``ci_high``, ``replications``);
    ``to_csv()`` the same as CSV; ``to_frame()`` as a pandas DataFrame;
    ``plot()`` a matplotlib figure of one KPI against the first key.
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
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        cols = ["point", *self.keys, "kpi", "mean", "ci_low", "ci_high", "replications"]
        w.writerow(cols)
        for row in self.rows():
            w.writerow([_cell(row[c]) for c in cols])
        return buf.getvalue()

    def to_frame(self):
        """The tidy table as a pandas DataFrame (``pip install simcc[pandas]``)."""
        try:
            import pandas as pd
        except ImportError:  # pragma: no cover - depends on the environment
            raise ImportError("to_frame() needs pandas: pip install 'simcc[pandas]'") from None
        return pd.DataFrame(self.rows(), columns=["point", *self.keys, "kpi", "mean", "ci_low", "ci_high",
                                                  "replications"])

    def plot(self, kpi: str = "service_level"):
        """A matplotlib Figure: ``kpi`` (mean, 95% CI bars) against the first swept key,
        one line per combination of the other keys. Uses no GUI backend."""
        if kpi not in DAY_KPIS:
            raise ValueError(f"unknown KPI {kpi!r}; one of {', '.join(DAY_KPIS)}")
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.ticker import PercentFormatter
        x_key, others = self.keys[0], self.keys[1:]
        xs = self.grid[x_key]
        numeric = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in xs)
        fig = Figure(figsize=(7, 4.5), layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        series: dict[tuple, list] = {}
        for point, res in zip(self.points, self.results):
            if res is not None:
                series.setdefault(tuple(point[k] for k in others), []).append((point[x_key], res.summary()[kpi]))
        for combo, pts in series.items():
            pos = [x if numeric else xs.index(x) for x, _ in pts]
            mean = [s["mean"] for _, s in pts]
            lo = [0.0 if math.isnan(s["ci_low"]) else max(s["mean"] - s["ci_low"], 0.0) for _, s in pts]
            hi = [0.0 if math.isnan(s["ci_high"]) else max(s["ci_high"] - s["mean"], 0.0) for _, s in pts]
            label = ", ".join(f"{k}={v}" for k, v in zip(others, combo)) or None
            ax.errorbar(pos, mean, yerr=[lo, hi], marker="o", capsize=3, label=label)
        if not numeric:
            ax.set_xticks(range(len(xs)), [str(x) for x in xs])
        if kpi in _SHARE_KPIS:
            ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_xlabel(x_key)
        ax.set_ylabel(kpi)
        n = self.meta.get("replications")
        ax.set_title(f"{self.scenario.name}: {kpi} vs {x_key} ({n} replications, 95% CI)", fontsize=10)
        ax.grid(True, alpha=0.3)
        if others and series:
            ax.legend(fontsize=8)
        return fig

    def plot_png(self, kpi: str = "service_level") -> bytes:
        buf = io.BytesIO()
        self.plot(kpi).savefig(buf, format="png", dpi=110)
        return buf.getvalue()

    def __repr__(self) -> str:
        done = sum(r is not None for r in self.results)
        return f"<simcc.SweepResult {self.scenario.name!r}: {done}/{len(self.points)} point(s) over {', '.join(self.keys)}>"


def _cell(x) -> str:
    if x is None:
        return ""
    if isinstance(x, bool):
        return str(x).lower()
    if isinstance(x, float):
        if math.isnan(x):
            return ""
        return repr(round(x, 6)) if not x.is_integer() else str(int(x))
    return str(x)


# --------------------------------------------------------------------------
# Running a sweep
# --------------------------------------------------------------------------
def sweep(scenario: Scenario | str | os.PathLike, grid: dict, seed: int | None = DEFAULT_SEED,
          replications: int = 10, *, kpis: list[str] | None = None, workers: int | None = None, scheduler=None,
          out_dir: str | os.PathLike | None = None, resume: bool = False, engine: str = "kernel",
          progress: Callable[[int, int], None] | None = None, max_events: float = MAX_EVENTS,
          plot_kpi: str = "service_level") -> SweepResult:
    """Run a scenario at every point of a grid, with common random numbers, on all cores or a cluster.

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
    workers, scheduler, engine, max_events
        As for :func:`simcc.simulate`; replications of all points share the workers.
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
        The KPI drawn in ``sweep.png``.

    Returns
    -------
    SweepResult

    Raises
    ------
    ScenarioError
        A bad grid key or an invalid point (named with its values), before anything runs.
    SizeError
        One replication of a point is estimated above ``max_events``.
    simcc.replicate.Interrupted
        Ctrl-C; ``.result`` is the SweepResult of the finished points (written to ``out_dir``).

    Examples
    --------
    >>> import simcc
    >>> from simcc.sweep import sweep
    >>> s = simcc.textbook.erlang(arrival_rate=0.5, mean_talk_s=180, agents=100, hours=1)
    >>> sw = sweep(s, {"groups.agents.agents": [92, 100]}, seed=1, replications=3, kpis=["service_level"])
    >>> [(r["groups.agents.agents"], r["kpi"]) for r in sw.rows()]
    [(92, 'service_level'), (100, 'service_level')]
    """
    base = scenario if isinstance(scenario, Scenario) else load(scenario)
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    if isinstance(replications, bool) or not isinstance(replications, int) or not 1 <= replications <= 1_000_000:
        raise ValueError(f"replications must be a whole number from 1 to 1,000,000, not {replications!r}")
    kpis = list(DAY_KPIS) if kpis is None else list(kpis)
    bad = [k for k in kpis + [plot_kpi] if k not in DAY_KPIS]
    if bad:
        raise ValueError(f"unknown KPI(s) {', '.join(map(repr, bad))}; known: {', '.join(DAY_KPIS)}")
    replicate.check_workers(workers)
    if resume and out_dir is None:
        raise ValueError("resume=True needs out_dir (the folder of the sweep to continue)")
    grid = normalize_grid(grid)
    points = grid_points(grid)
    scenarios = [point_scenario(base, p, i) for i, p in enumerate(points)]
    for i, s in enumerate(scenarios):
        check_size(s, max_events, f"sweep point {i}")
    if engine == "kernel":
        _kernel()

    out_dir = None if out_dir is None else os.fspath(out_dir)
    entropy = None
    if resume and seed is None:
        entropy = replicate.stored_entropy(os.path.join(out_dir, "points", _point_dir(0)))
    entropy = entropy or streams.root_entropy(seed)
    if out_dir is not None and not resume:
        _clear_old_sweep(out_dir, len(points))
    jobs = []
    for i, s in enumerate(scenarios):
        store = None
        if out_dir is not None:
            store = replicate.RepStore(os.path.join(out_dir, "points", _point_dir(i)),
                                       replicate.fingerprint(s, entropy, engine), resume)
        jobs.append(replicate.Job(compile_scenario(s), replications, s.sla.denominator, store,
                                  f"point {i}", max(s.expected_calls(), 1.0)))

    results: list = [None] * len(points)

    def point_done(i, merger):
        meta = run_meta(scenarios[i], seed, entropy, replications, engine)
        meta["sweep_point"] = {"index": i, **points[i]}
        results[i] = Result(merger.acc, scenarios[i], meta)
        if out_dir is not None:
            write_result(results[i], os.path.join(out_dir, "points", _point_dir(i)))

    outcome = replicate.run_jobs(jobs, entropy, engine, workers=workers, scheduler=scheduler, progress=progress,
                                 on_job_done=point_done)
    meta = run_meta(base, seed, entropy, replications, engine)
    meta.update(status=outcome.status, grid=grid, points=len(points),
                completed_points=sum(r is not None for r in results), kpis=kpis, plot_kpi=plot_kpi,
                execution=outcome.execution)
    if outcome.status != "complete":
        meta["unfinished_points"] = [i for i, r in enumerate(results) if r is None]
    sw = SweepResult(base, grid, points, results, kpis, meta)
    if out_dir is not None:
        write_sweep(sw, out_dir, plot_kpi)
    if outcome.status == "interrupted":
        raise replicate.Interrupted(sw, f"sweep interrupted: {meta['completed_points']} of {len(points)} points "
                                        f"finished")
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
                except OSError:   # something else is in there: leave it
                    break


def write_sweep(sw: SweepResult, out_dir, plot_kpi: str = "service_level") -> list[str]:
    """Write ``sweep.csv``, ``sweep.png`` (if matplotlib is installed and a point finished), then ``meta.json``."""
    out_dir = os.fspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    written = []
    atomic_write(os.path.join(out_dir, "sweep.csv"), sw.to_csv())
    written.append(os.path.join(out_dir, "sweep.csv"))
    if any(r is not None for r in sw.results):
        atomic_write(os.path.join(out_dir, "sweep.png"), sw.plot_png(plot_kpi))
        written.append(os.path.join(out_dir, "sweep.png"))
    from .results import _jsonable
    atomic_write(os.path.join(out_dir, "meta.json"), json.dumps(_jsonable(sw.meta), indent=2, allow_nan=False))
    written.append(os.path.join(out_dir, "meta.json"))
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
    from ._yaml import read_yaml

    path = os.fspath(path)
    data, lines = read_yaml(path)
    problems = []
    for k in data:
        if k not in SWEEP_FILE_KEYS:
            close = difflib.get_close_matches(str(k), SWEEP_FILE_KEYS, n=1)
            problems.append(Problem(str(k), f"unknown key {k!r} in a sweep file", lines.get(str(k)),
                                    f"did you mean {close[0]!r}?" if close else f"known: {', '.join(SWEEP_FILE_KEYS)}"))
    if "scenario" not in data:
        problems.append(Problem("scenario", "a sweep file needs scenario: (a scenario file path or mapping)"))
    if "grid" not in data:
        problems.append(Problem("grid", "a sweep file needs grid: (keys and the values they take)"))
    elif not isinstance(data["grid"], dict) or not data["grid"]:
        problems.append(Problem("grid", "grid must map sweep keys to lists of values", lines.get("grid")))
    for k in ("seed", "replications"):
        v = data.get(k)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < (1 if k == "replications" else 0)):
            problems.append(Problem(k, f"{k} must be a whole number{' >= 1' if k == 'replications' else ''}, not {v!r}",
                                    lines.get(k)))
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
        raise ScenarioError([Problem("scenario", "scenario must be a file path or a mapping", lines.get("scenario"))], path)
    out = {"scenario": scenario, "grid": normalize_grid(data["grid"])}
    for k in ("seed", "replications", "kpis", "plot_kpi"):
        if data.get(k) is not None:
            out[k] = data[k]
    return out
