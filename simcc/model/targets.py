"""Targets as planners type them: a service level "90/15" and a share "5%".

One parser for each, used by scenario files (``sla.service_level: "90/15"``),
the planning functions and every command-line option, so that the same text
means the same thing everywhere. Error messages quote the text verbatim.
"""
from __future__ import annotations

import math
import re

_TARGET = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*%?\s*/\s*(\d+(?:\.\d*)?|\.\d+)\s*s?\s*")
_SHARE = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*%?\s*")


def parse_service_level(text) -> tuple[float, float]:
    """``"90/15"`` -> ``(90.0, 15.0)``: the percent answered within so many seconds.

    Also accepts ``"90%/15"`` and ``"80 / 20s"``. The range of the percent is
    checked by the caller (a scenario allows 100, a staffing target does not).

    Examples
    --------
    >>> parse_service_level("90/15"), parse_service_level("80 % / 20s")
    ((90.0, 15.0), (80.0, 20.0))
    """
    m = _TARGET.fullmatch(str(text))
    if not m:
        raise ValueError(f'write the service level as PERCENT/SECONDS, e.g. "90/15", not {text!r}')
    return float(m.group(1)), float(m.group(2))


def parse_target(text) -> tuple[float, float]:
    """``"90/15"`` -> ``(0.90, 15.0)``: a staffing target, the share strictly between 0 and 1.

    Examples
    --------
    >>> parse_target("90/15")
    (0.9, 15.0)
    >>> parse_target("80 / 20s")
    (0.8, 20.0)
    """
    pct, within = parse_service_level(text)
    if not 0 < pct < 100:
        raise ValueError(f"the service-level percent must be above 0 and below 100, not {pct:g}")
    return round(pct / 100, 12), within


def parse_share(text, name: str = "value") -> float:
    """A percentage as typed: ``"5%"`` or ``"5"`` -> ``0.05`` (always read as percent).

    Examples
    --------
    >>> parse_share("5%"), parse_share("0.5"), parse_share(90)
    (0.05, 0.005, 0.9)
    """
    if isinstance(text, float) and not math.isfinite(text):
        raise ValueError(f"{name} must be a percentage such as \"5%\" or \"5\", not {text!r}")
    m = _SHARE.fullmatch(str(text))
    if not m:
        raise ValueError(f'{name} must be a percentage such as "5%" or "5", not {text!r}')
    pct = float(m.group(1))
    if not 0 < pct < 100:
        raise ValueError(f"{name} must be above 0% and below 100%, not {pct:g}%")
    return round(pct / 100, 12)
