"""Sweep grids: keys and the values they take, as typed in a sweep file or ``--set KEY=V1,V2``."""
from __future__ import annotations

import itertools
import math
import re

from ..errors import Problem, ScenarioError

MAX_POINTS = 10_000


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
            problems.append(
                Problem(f"grid.{key}", f"{key!r} is not a sweep key (a dotted path such as groups.general.agents)")
            )
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
    >>> for point in grid_points({"trunks": [10, 20], "volume": [1.0, 1.5]}):
    ...     print(point)
    {'trunks': 10, 'volume': 1.0}
    {'trunks': 10, 'volume': 1.5}
    {'trunks': 20, 'volume': 1.0}
    {'trunks': 20, 'volume': 1.5}
    """
    keys = list(grid)
    return [dict(zip(keys, combo)) for combo in itertools.product(*(grid[k] for k in keys))]
