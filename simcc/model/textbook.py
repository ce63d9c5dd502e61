"""Textbook cases built without a file: M/M/n, M/M/n+M (Erlang A), Erlang B loss."""
from __future__ import annotations

import math

from .scenario import Scenario, from_dict


def erlang(arrival_rate: float, mean_talk_s: float, agents: int, mean_patience_s: float | None = None,
           trunks: int | None = None, sl_threshold_s: float = 15.0, hours: float = 24.0,
           warmup_hours: float = 0.0, interval_minutes: int = 30, name: str = "textbook") -> Scenario:
    """One Poisson stream, one queue, one group, exponential talk: M/M/n, M/M/n+M, or with trunks a loss system.

    Parameters
    ----------
    arrival_rate : float
        Calls per second.
    mean_talk_s : float
        Mean of the exponential talk time, s.
    agents : int
        Agents, constant over the day.
    mean_patience_s : float, optional
        Mean of the exponential patience; None means callers never abandon (Erlang C).
    trunks : int, optional
        Trunk lines; None means unlimited. With ``trunks == agents`` and no
        queue room the system is Erlang B.
    sl_threshold_s : float
        Service-level threshold T, s.
    hours, warmup_hours : float
        Horizon and warm-up; statistics count calls arriving after the warm-up.
        Both must be whole multiples of the interval.

    Returns
    -------
    Scenario

    Examples
    --------
    >>> s = erlang(arrival_rate=1.0, mean_talk_s=180, agents=200, hours=2, warmup_hours=0.5)
    >>> s.n_intervals, s.warmup_minutes
    (4, 30.0)
    """
    n = hours * 60 / interval_minutes
    if not math.isfinite(n) or n < 1 or abs(n - round(n)) > 1e-9:
        raise ValueError(f"hours ({hours}) must be a positive multiple of the {interval_minutes}-minute interval")
    interval_s = interval_minutes * 60.0
    patience = (
        {"dist": "never"} if mean_patience_s is None else {"dist": "exponential", "mean_s": float(mean_patience_s)}
    )
    data = {
        "name": name,
        "interval_minutes": interval_minutes,
        "intervals": int(round(n)),
        "warmup_minutes": float(warmup_hours * 60),
        "call_types": {"calls": {"patience": patience, "talk": {"dist": "exponential", "mean_s": float(mean_talk_s)}}},
        "arrivals": [{"name": "poisson", "entry": "calls", "calls": float(arrival_rate) * interval_s}],
        "groups": [{"name": "agents", "agents": agents, "skills": {"calls": 1}}],
        "sla": {"service_level": {"percent": 80.0, "within_s": float(sl_threshold_s)}},
    }
    if trunks is not None:
        data["trunks"] = trunks
    return from_dict(data)
