"""Shrinkage: the paid time agents are not on the phones (breaks, training, meetings, absence).

Agents a simulation or an Erlang formula asks for are agents *on the phones*.
The agents to schedule are more: ``scheduled = on_phone / (1 - shrinkage)``,
rounded up, per group and per interval. A planner with 14 agents needed and
30% shrinkage schedules 20 (14 / 0.7 = 20); with 11 needed, 16 (15.7 up).
"""
from __future__ import annotations

import math

import numpy as np


def check_shrinkage(value, name: str = "shrinkage") -> float:
    """A shrinkage share in [0, 1): a clear error otherwise."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a share such as 0.3 (30%), not {value!r}") from None
    if not (0.0 <= v < 1.0) or math.isnan(v):
        raise ValueError(f"{name} must be at least 0% and below 100% (all paid time lost), not {100 * v:g}%")
    return v


def scheduled_for(on_phone, shrinkage: float):
    """Agents to schedule so that ``on_phone`` are on the phones after ``shrinkage``.

    Examples
    --------
    >>> scheduled_for(14, 0.30), scheduled_for(11, 0.30), scheduled_for(0, 0.30)
    (20, 16, 0)
    >>> scheduled_for([10, 14], 0.25).tolist()
    [14, 19]
    """
    s = check_shrinkage(shrinkage)
    x = np.ceil(np.asarray(on_phone, dtype=np.float64) / (1.0 - s) - 1e-9).astype(np.int64)
    return int(x) if x.ndim == 0 else x


def per_group(shrinkage, group_names) -> np.ndarray:
    """One shrinkage per group from a single share or a ``{group: share}`` mapping (unlisted groups: 0)."""
    if isinstance(shrinkage, dict):
        unknown = sorted(set(shrinkage) - set(group_names))
        if unknown:
            raise ValueError(f"shrinkage names unknown group(s) {', '.join(unknown)}; the groups are "
                             f"{', '.join(group_names)}")
        return np.array([check_shrinkage(shrinkage.get(g, 0.0), f"shrinkage of {g}") for g in group_names])
    return np.full(len(group_names), check_shrinkage(shrinkage))
