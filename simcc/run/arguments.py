"""Checks of the arguments every run entry point takes (``simulate``, ``sweep``, ``compare``,
``staff``, ``trunks``): one message per argument, naming it and the reason, before any work starts.
"""
from __future__ import annotations

import math
import os
from numbers import Integral, Real

from ..engine import streams
from ..model.scenario import Scenario, load

MAX_REPLICATIONS = 1_000_000
MAX_SEED = 2**128 - 1


def _is_int(value) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def replications(value, minimum: int = 1) -> int:
    """A whole number of replications from ``minimum`` to 1,000,000."""
    if not _is_int(value):
        raise TypeError(f"replications must be a whole number, not {type(value).__name__} {value!r}")
    if not minimum <= int(value) <= MAX_REPLICATIONS:
        raise ValueError(f"replications must be a whole number from {minimum} to {MAX_REPLICATIONS:,}, "
                         f"not {value!r}")
    return int(value)


def seed(value) -> int | None:
    """None (fresh entropy, recorded in the result) or a whole number from 0 to 2**128 - 1."""
    if value is None:
        return None
    if not _is_int(value):
        raise TypeError(f"seed must be a whole number (or None for fresh entropy), not {type(value).__name__} "
                        f"{value!r}")
    if not 0 <= int(value) <= MAX_SEED:
        raise ValueError(f"seed must be a whole number from 0 to 2**128 - 1, not {value!r}")
    return int(value)


def common_seed(value) -> int:
    """The root seed shared by every simulation of a comparison (policies, staffing candidates, line
    counts): ``value`` checked, or fresh entropy drawn once for ``None``, so the runs stay paired."""
    value = seed(value)
    return streams.root_entropy(None) if value is None else value


def workers(value) -> int | None:
    """None (all cores) or a whole number >= 1."""
    if value is not None and (not _is_int(value) or value < 1):
        raise ValueError(f"workers must be a whole number >= 1 (or None for all cores), not {value!r}")
    return value


def max_events(value) -> float:
    """A positive number of events (the size guard of one replication)."""
    if isinstance(value, bool) or not isinstance(value, Real) or math.isnan(value) or value <= 0:
        raise ValueError(f"max_events must be a positive number, not {value!r}")
    return float(value)


def max_memory(value) -> float | None:
    """None (half the machine's memory) or a positive number of GB."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, Real) or math.isnan(value) or value <= 0:
        raise ValueError(f"max_memory_gb must be a positive number of GB (or None), not {value!r}")
    return float(value)


def progress(value):
    """None or a callable."""
    if value is not None and not callable(value):
        raise TypeError(f"progress must be a function called as progress(done, total), not "
                        f"{type(value).__name__}")
    return value


def out_dir(value):
    """None or a path (str or os.PathLike)."""
    if value is not None and not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"out_dir must be a folder path (str or pathlib.Path), not {type(value).__name__}")
    return value


def scenario(value) -> Scenario:
    """A Scenario, or the path of a scenario file (read with :func:`simcc.load`)."""
    if isinstance(value, Scenario):
        return value
    if isinstance(value, (str, os.PathLike)):
        return load(value)
    hint = "; build one with simcc.from_dict(data)" if isinstance(value, dict) else ""
    raise TypeError(f"scenario must be a simcc.Scenario or a scenario file path, not {type(value).__name__}{hint}")
