"""The run layer: one scenario, many replications, merged into results.

``simulate`` (the entry point), ``jobs`` (the loop that merges replications in
order), ``executors`` and ``pool`` (where replications run), ``store`` (kept
replications, resume), ``kpis`` (the KPI registry), ``results`` (KPIs and
confidence intervals), ``export`` (output formats), ``grid`` and ``sweep``
(a scenario over a grid of changes), ``compare`` (policies on common random
numbers).
"""
from .comparison import Comparison, compare
from .jobs import Interrupted, ReplicationFailed, WorkerLost, WorkerLostWarning
from .kpis import DAY_KPIS, INTERVAL_KPIS
from .results import Result
from .simulation import simulate
from .store import ResumeError
from .sweeps import SweepResult, sweep

__all__ = [
    "DAY_KPIS",
    "INTERVAL_KPIS",
    "Comparison",
    "Interrupted",
    "ReplicationFailed",
    "Result",
    "ResumeError",
    "SweepResult",
    "WorkerLost",
    "WorkerLostWarning",
    "compare",
    "simulate",
    "sweep",
]
