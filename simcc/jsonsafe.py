"""Strict JSON for every file and every ``--format json`` (a leaf module).

JSON has no NaN or infinity; most parsers reject Python's ``NaN`` and
``Infinity``. simcc writes ``null`` for both (a KPI with no calls to measure,
an unlimited count) and numpy numbers as plain numbers, so every JSON simcc
writes loads anywhere.
"""
from __future__ import annotations

import json
import math

import numpy as np


def jsonable(obj):
    """``obj`` with NaN and infinities as None, numpy scalars and arrays as Python numbers and lists.

    Examples
    --------
    >>> jsonable({"a": float("nan"), "b": [1.5, float("inf")], "c": np.int64(3)})
    {'a': None, 'b': [1.5, None], 'c': 3}
    """
    if isinstance(obj, dict):
        return {k: jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, (float, np.floating)):
        return None if math.isnan(obj) or math.isinf(obj) else float(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def dumps(obj, indent: int | None = 2) -> str:
    """Strict JSON text of ``obj`` (see :func:`jsonable`)."""
    return json.dumps(jsonable(obj), indent=indent, allow_nan=False)
