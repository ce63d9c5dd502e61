"""simcc: a discrete-event call-center simulator with a compiled event kernel.

>>> import simcc
>>> scenario = simcc.textbook.erlang(arrival_rate=0.5, mean_talk_s=180, agents=100, hours=1)
>>> result = simcc.simulate(scenario, seed=7, replications=2)
>>> 0 <= result.summary()["service_level"]["mean"] <= 1
True
"""
from importlib.metadata import PackageNotFoundError as _NotFound
from importlib.metadata import version as _version

try:
    __version__ = _version("simcc")
except _NotFound:  # pragma: no cover - a source tree that was never installed
    __version__ = "0+unknown"

from . import erlang, textbook
from .errors import Problem, ScenarioError, SizeError
from .results import DAY_KPIS, INTERVAL_KPIS, Result
from .scenario import Scenario, from_dict, load, loads
from .simulate import simulate
from .compare import compare
from .replicate import Interrupted, WorkerLost
from .sweep import SweepResult, sweep

__all__ = [
    "__version__",
    "DAY_KPIS", "INTERVAL_KPIS", "Interrupted", "Problem", "Result", "Scenario", "ScenarioError", "SizeError",
    "SweepResult", "WorkerLost", "compare", "erlang", "from_dict", "load", "loads", "simulate", "sweep", "textbook",
]
