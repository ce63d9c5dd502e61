"""simcc: a discrete-event call-center simulator with a compiled event kernel.

>>> import simcc
>>> scenario = simcc.textbook.erlang(arrival_rate=0.5, mean_talk_s=180, agents=100, hours=1)
>>> result = simcc.simulate(scenario, seed=7, replications=2)
>>> 0 <= result.summary()["service_level"]["mean"] <= 1
True

The package is built in layers (docs/developing.md): ``model`` (scenarios),
``engine`` (the kernel and the SimPy reference), ``run`` (replications and
results), ``plan`` (staffing, trunks, shifts), ``calibrate``
(call records -> scenario, backtests), ``present`` (charts, the
report) and ``cli``. This module is the public API on top of them.
"""
from __future__ import annotations

from importlib.metadata import PackageNotFoundError as _NotFound
from importlib.metadata import version as _version

try:
    __version__ = _version("simcc")
except _NotFound:  # pragma: no cover - a source tree that was never installed
    __version__ = "0+unknown"

from . import calibrate, erlang
from .engine.routing import Router
from .errors import FolderBusy, NotARunFolder, Problem, RecordsError, ScenarioError, SizeError
from .model import textbook
from .model.scenario import Scenario, from_dict, load, loads
from .run.comparison import Comparison, compare
from .run.jobs import Interrupted, ReplicationFailed, WorkerLost
from .run.kpis import DAY_KPIS, INTERVAL_KPIS
from .run.results import Result
from .run.simulation import simulate
from .run.store import ResumeError
from .run.sweeps import SweepResult
from .run.sweeps import sweep as _run_sweep

__all__ = [
    "__version__",
    "DAY_KPIS",
    "INTERVAL_KPIS",
    "Comparison",
    "FolderBusy",
    "Interrupted",
    "NotARunFolder",
    "Problem",
    "RecordsError",
    "ReplicationFailed",
    "Result",
    "ResumeError",
    "Router",
    "Scenario",
    "ScenarioError",
    "SizeError",
    "SweepResult",
    "WorkerLost",
    "calibrate",
    "compare",
    "erlang",
    "from_dict",
    "load",
    "loads",
    "simulate",
    "sweep",
    "textbook",
]


def sweep(scenario, grid, seed=1, replications=10, **options) -> SweepResult:
    """Run a scenario at every point of a grid (see :func:`simcc.run.sweeps.sweep`), and with
    ``out_dir`` also write ``sweep.png``: ``plot_kpi`` (default service_level) against the first key."""
    if options.get("out_dir") is not None and "extra_files" not in options:
        kpi = options.get("plot_kpi", "service_level")

        def chart(sw):
            from .present.plot import sweep_png

            return {"sweep.png": sweep_png(sw, kpi)}

        options["extra_files"] = chart
    return _run_sweep(scenario, grid, seed, replications, **options)


sweep.__wrapped__ = _run_sweep  # type: ignore[attr-defined]


def _sweep_plot(self, kpi: str = "service_level"):
    """The sweep's ``kpi`` against its first key (kept for one release: use ``simcc.plot.sweep_figure``)."""
    from .present.plot import sweep_figure

    return sweep_figure(self, kpi)


SweepResult.plot = _sweep_plot  # type: ignore[attr-defined]

from . import _moved  # noqa: E402

_moved.install()


def __getattr__(name: str):
    """``simcc.optimize``, ``simcc.plot``, ... : old module paths (see :mod:`simcc._moved`)."""
    if f"simcc.{name}" in _moved.MOVED:
        return _moved.resolve(f"simcc.{name}")
    raise AttributeError(f"module 'simcc' has no attribute {name!r}")
