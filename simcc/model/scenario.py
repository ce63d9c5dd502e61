"""Scenarios: what a call center looks like, validated before anything runs.

A scenario is read from YAML (:func:`load`) or built from Python data
(:func:`from_dict`, :mod:`simcc.model.textbook`). Every problem is reported at
once, each with its field path, the line in the file and the reason; nothing
downstream ever sees an invalid scenario. The sections are in
:mod:`simcc.model.sections`, the rules between them in
:mod:`simcc.model.checks`; ``docs/scenario.md`` documents every key.
"""
from __future__ import annotations

import os
from typing import Annotated, Literal

from pydantic import Field, ValidationError

from .. import htmlrepr
from ..errors import Problem, ScenarioError
from . import checks as _checks
from .base import MAX_INTERVALS, MAX_NAMES, MAX_TRUNKS, Model, Name, NonNegFloat
from .problems import line_for, translate
from .roster import roster_headcount
from .sections import IVR, SLA, Arrivals, CallType, Closing, Group, Outbound, Routing
from .yamlio import parse_yaml, read_yaml


class Scenario(Model):
    """A validated call-center scenario. Build it with :func:`load` or :func:`from_dict`."""

    name: Name = "scenario"
    description: str = ""
    interval_minutes: Literal[15, 30, 60] = 30
    intervals: Annotated[int, Field(ge=1, le=MAX_INTERVALS)] | None = None
    warmup_minutes: NonNegFloat = 0.0
    trunks: Annotated[int, Field(ge=0, le=MAX_TRUNKS)] | None = None
    volume_cv: Annotated[float, Field(ge=0, le=2)] = 0.0
    tiers: Annotated[list[Name], Field(min_length=1, max_length=MAX_NAMES)] = ["standard"]
    call_types: Annotated[dict[Name, CallType], Field(min_length=1, max_length=MAX_NAMES)]
    ivr: IVR | None = None
    arrivals: Annotated[list[Arrivals], Field(min_length=1, max_length=MAX_NAMES)]
    groups: Annotated[list[Group], Field(min_length=1, max_length=MAX_NAMES)]
    routing: Routing = Routing()
    outbound: Outbound = Outbound()
    sla: SLA = SLA()
    closing: Closing | None = None

    # ------------------------------------------------------------------
    @property
    def interval_s(self) -> float:
        return self.interval_minutes * 60.0

    @property
    def n_intervals(self) -> int:
        return _n_intervals(self)

    @property
    def horizon_s(self) -> float:
        return self.n_intervals * self.interval_s

    def sl_threshold_for(self, call_type: str) -> float:
        """The service-level threshold of one call type (its own ``sla.by_call_type`` line, else the center's)."""
        own = self.sla.by_call_type.get(call_type)
        return own.within_s if own is not None else self.sl_threshold_s

    @property
    def sl_threshold_s(self) -> float:
        sl = self.sla.service_level
        return sl.within_s if sl is not None else 20.0

    def calls_per_interval(self, stream: Arrivals) -> list[float]:
        """Expected calls of one arrival stream in each interval."""
        return _stream_calls(stream, self.n_intervals)

    def agents_per_interval(self, group: Group) -> list[int]:
        """Headcount of one group in each interval (from its roster when it has one)."""
        if group.roster is not None:
            return roster_headcount(group.roster, self.n_intervals, self.interval_minutes)[0]
        return _per_interval(group.agents, self.n_intervals)

    def expected_calls(self) -> float:
        """Expected number of arrivals over the horizon (before redials)."""
        return sum(sum(self.calls_per_interval(a)) for a in self.arrivals)

    def warnings(self) -> list[str]:
        """Things that are allowed but usually a mistake."""
        return _checks.warnings(self)

    def _facts(self) -> list[tuple[str, str]]:
        peak = max((sum(a) for a in zip(*[self.agents_per_interval(g) for g in self.groups])), default=0)
        return [("intervals", f"{self.n_intervals} x {self.interval_minutes} min"),
                ("expected calls", f"{self.expected_calls():,.0f}"),
                ("call types", str(len(self.call_types))),
                ("agent groups", str(len(self.groups))),
                ("peak agents", f"{peak:,}"),
                ("trunks", "unlimited" if self.trunks is None else f"{self.trunks:,}"),
                ("IVR", "yes" if self.ivr is not None else "no")]

    def __repr__(self) -> str:
        f = dict(self._facts())
        return (f"<simcc.Scenario {self.name!r}: {f['intervals']} intervals, {f['expected calls']} calls, "
                f"{f['call types']} call type(s), {f['agent groups']} group(s), peak {f['peak agents']} agents>")

    __str__ = __repr__

    def _repr_html_(self) -> str:
        return htmlrepr.table(f"simcc scenario {self.name}", self._facts(), note=self.description or None)

    def with_changes(self, **changes) -> Scenario:
        """A new scenario with top-level fields replaced, validated again.

        Examples
        --------
        >>> from simcc.model.textbook import erlang
        >>> s = erlang(arrival_rate=0.5, mean_talk_s=180, agents=100, hours=1)
        >>> s.with_changes(trunks=120).trunks
        120
        """
        data = self.model_dump(mode="python", exclude_none=True)
        data.update(changes)
        return from_dict(data)


def _per_interval(value, n):
    return list(value) if isinstance(value, list) else [value] * n


def _stream_calls(a: Arrivals, n: int) -> list[float]:
    if a.calls is not None:
        return [float(x) for x in _per_interval(a.calls, n)]
    total = sum(a.profile)
    return [a.daily_calls * w / total for w in a.profile]


def _n_intervals(s) -> int:
    if s.intervals is not None:
        return s.intervals
    for a in s.arrivals:
        if isinstance(a.calls, list):
            return len(a.calls)
        if a.profile is not None:
            return len(a.profile)
    for g in s.groups:
        if isinstance(g.agents, list):
            return len(g.agents)
    return int(round(24 * 60 / s.interval_minutes))


def from_dict(data: dict, *, source: str | None = None, lines: dict[str, int] | None = None) -> Scenario:
    """Validate plain data (as read from YAML) into a :class:`Scenario`.

    Raises
    ------
    ScenarioError
        Listing every problem found, each with its field path and reason.

    Examples
    --------
    >>> s = from_dict({"call_types": {"general": {"patience": {"dist": "exponential", "mean_s": 120},
    ...                                           "talk": {"dist": "exponential", "mean_s": 180}}},
    ...                "arrivals": [{"name": "in", "entry": "general", "calls": 100}],
    ...                "groups": [{"name": "all", "agents": 12, "skills": {"general": 1}}],
    ...                "intervals": 2})
    >>> s.n_intervals, s.expected_calls()
    (2, 200.0)
    """
    lines = lines or {}
    if not isinstance(data, dict):
        raise ScenarioError([Problem("", f"a scenario must be a mapping, not {type(data).__name__}")], source)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(translate(exc, lines, data, Scenario), source) from None
    problems = _checks.check(scenario)
    if problems:
        problems = [Problem(p.path, p.message, line_for(lines, p.path), p.hint) for p in problems]
        raise ScenarioError(problems, source)
    return scenario


def load(path: str | os.PathLike) -> Scenario:
    """Read and validate a scenario YAML file.

    Raises
    ------
    ScenarioError
        Listing every problem with its field path, line and reason.
    """
    data, lines = read_yaml(path)
    return from_dict(data, source=os.fspath(path), lines=lines)


def loads(text: str) -> Scenario:
    """Validate scenario YAML given as text (see :func:`load`)."""
    data, lines = parse_yaml(text)
    return from_dict(data, lines=lines)


def json_schema() -> dict:
    """JSON Schema of a scenario file (``simcc schema``; committed as docs/scenario.schema.json).

    The schema covers field names, types and ranges; cross-field rules (shares
    that add up to 1, known names) are checked by :func:`load` only.
    """
    out = Scenario.model_json_schema(mode="validation")
    out["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    out["title"] = "simcc scenario"
    return out
