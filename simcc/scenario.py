"""Scenarios: what a call center looks like, validated before anything runs.

A scenario is read from YAML (:func:`load`) or built from Python data
(:func:`from_dict`, :mod:`simcc.textbook`). Every problem is reported at once,
each with its field path, the line in the file and the reason; nothing
downstream ever sees an invalid scenario. ``docs/scenario.md`` documents
every key.
"""
from __future__ import annotations

import difflib
import math
import os
import re
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ._yaml import parse_yaml, read_yaml
from .errors import Problem, ScenarioError

MAX_AGENTS = 100_000          # per group and interval
MAX_TRUNKS = 1_000_000
MAX_INTERVALS = 10_000
MAX_NAMES = 1_000             # call types, tiers, groups or streams
MAX_CALLS_PER_DAY = 1e9
SHARE_TOLERANCE = 1e-6


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)


PosFloat = Annotated[float, Field(gt=0)]
NonNegFloat = Annotated[float, Field(ge=0)]
Prob = Annotated[float, Field(ge=0, le=1)]
Name = Annotated[str, Field(min_length=1, max_length=100)]


# --------------------------------------------------------------------------
# Distributions, given as planners think of them: a mean (and a cv)
# --------------------------------------------------------------------------
class Exponential(_Model):
    dist: Literal["exponential"]
    mean_s: PosFloat


class Deterministic(_Model):
    dist: Literal["deterministic"]
    value_s: NonNegFloat


class Uniform(_Model):
    dist: Literal["uniform"]
    low_s: NonNegFloat
    high_s: NonNegFloat


class Lognormal(_Model):
    dist: Literal["lognormal"]
    mean_s: PosFloat
    cv: Annotated[float, Field(gt=0, le=20)]


class Gamma(_Model):
    dist: Literal["gamma"]
    mean_s: PosFloat
    cv: Annotated[float, Field(gt=0, le=20)]


class Erlang(_Model):
    dist: Literal["erlang"]
    mean_s: PosFloat
    k: Annotated[int, Field(ge=1, le=1000)]


class Weibull(_Model):
    dist: Literal["weibull"]
    mean_s: PosFloat
    cv: Annotated[float, Field(ge=0.05, le=10)]


class Empirical(_Model):
    dist: Literal["empirical"]
    values_s: Annotated[list[NonNegFloat], Field(min_length=1, max_length=100_000)]


class Never(_Model):
    """Infinite time: a caller who never hangs up (patience only)."""

    dist: Literal["never"]


Distribution = Annotated[
    Union[Exponential, Deterministic, Uniform, Lognormal, Gamma, Erlang, Weibull, Empirical, Never],
    Field(discriminator="dist"),
]


def dist_mean(d) -> float:
    """Mean of a distribution spec in seconds (inf for ``never``)."""
    if isinstance(d, Deterministic):
        return d.value_s
    if isinstance(d, Uniform):
        return (d.low_s + d.high_s) / 2
    if isinstance(d, Empirical):
        return sum(d.values_s) / len(d.values_s)
    if isinstance(d, Never):
        return math.inf
    return d.mean_s


# --------------------------------------------------------------------------
# The center
# --------------------------------------------------------------------------
class Handling(_Model):
    """How agents handle a call type: talk, HOLD and after-call work."""

    talk: Distribution
    hold_prob: Prob = 0.0
    hold: Distribution | None = None
    acw: Distribution | None = None


class HandlingOverride(_Model):
    talk: Distribution | None = None
    hold_prob: Prob | None = None
    hold: Distribution | None = None
    acw: Distribution | None = None
    fcr: Prob | None = None
    transfer_prob: Prob | None = None


class Redial(_Model):
    """Blocked and abandoning callers who call again."""

    prob: Prob
    delay: Distribution
    max_attempts: Annotated[int, Field(ge=1, le=100)] = 3


class Callback(_Model):
    """Virtual hold: a caller still waiting after ``offer_after_s`` is offered a callback."""

    offer_after_s: NonNegFloat
    accept_prob: Prob
    within_s: PosFloat = 3600.0


class Transfer(_Model):
    """A share of answered calls handed to another call type's queue after talk."""

    prob: Prob
    to: Name


class CallType(_Model):
    patience: Distribution
    patience_by_tier: dict[Name, Distribution] = {}
    talk: Distribution
    hold_prob: Prob = 0.0
    hold: Distribution | None = None
    acw: Distribution | None = None
    redial: Redial | None = None
    fcr: Prob = 1.0
    repeat_delay: Distribution | None = None
    transfer: Transfer | None = None
    callback: Callback | None = None


class IVR(_Model):
    menu_time: Distribution
    contained: Prob = 0.0
    hangup: Prob = 0.0
    menu: dict[Name, Prob]
    menu_by_tier: dict[Name, dict[Name, Prob]] = {}


class Arrivals(_Model):
    name: Name
    entry: Name = "ivr"
    tiers: dict[Name, Prob] | None = None
    calls: NonNegFloat | list[NonNegFloat] | None = None
    daily_calls: NonNegFloat | None = None
    profile: list[NonNegFloat] | None = None


class QualityCallbacks(_Model):
    """Quality call-backs on a share of the answered calls of chosen types."""

    share: dict[Name, Prob]
    groups: Annotated[list[Name], Field(min_length=1)]
    talk: Distribution
    acw: Distribution | None = None


class Campaign(_Model):
    """Outbound calls added at the start of each interval (reminders, surveys, sales)."""

    name: Name
    calls: Annotated[int, Field(ge=0, le=10_000_000)] | list[Annotated[int, Field(ge=0, le=10_000_000)]]
    groups: Annotated[list[Name], Field(min_length=1)]
    talk: Distribution
    acw: Distribution | None = None


class Outbound(_Model):
    """Outbound work done by the same agents between inbound calls, and the blending rule."""

    max_queue: Annotated[int, Field(ge=0)] = 0
    min_idle: Annotated[int, Field(ge=0)] = 0
    quality: QualityCallbacks | None = None
    campaigns: list[Campaign] = []


TimeOfDay = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
NIGHT = ("22:00", "06:00")


class Break(_Model):
    start: TimeOfDay
    minutes: PosFloat


class Shift(_Model):
    """``agents`` agents work from ``start`` for ``hours`` hours, less their breaks."""

    start: TimeOfDay
    hours: Annotated[float, Field(gt=0, le=24)]
    agents: Annotated[int, Field(ge=0, le=MAX_AGENTS)]
    breaks: list[Break] = []
    subgroup: Name | None = None


class SubgroupRules(_Model):
    no_night_shifts: bool = False


class Roster(_Model):
    shifts: Annotated[list[Shift], Field(min_length=1, max_length=10_000)]
    rules: dict[Name, SubgroupRules] = {}


class Group(_Model):
    name: Name
    agents: Annotated[int, Field(ge=0, le=MAX_AGENTS)] | list[Annotated[int, Field(ge=0, le=MAX_AGENTS)]] | None = None
    roster: Roster | None = None
    skills: dict[Name, Annotated[int, Field(ge=1, le=100)]]
    handling: dict[Name, HandlingOverride] = {}


POLICY_NAMES = ("priority", "overflow", "reserve", "weighted_wait")
PolicyName = Literal["priority", "overflow", "reserve", "weighted_wait"]


class Reserve(_Model):
    """Keep ``agents`` idle agents of a group for one tier or one call type."""

    group: Name
    agents: Annotated[int, Field(ge=1, le=MAX_AGENTS)]
    tier: Name | None = None
    call_type: Name | None = None


class Routing(_Model):
    policy: PolicyName | Annotated[list[PolicyName], Field(min_length=1, max_length=4)] = "priority"
    tier_priority: bool = True
    overflow_after_s: NonNegFloat | dict[Name, NonNegFloat] = 20.0
    reserve: list[Reserve] = []
    weights: dict[Name, PosFloat] = {}
    tier_weights: dict[Name, PosFloat] = {}

    @property
    def policies(self) -> tuple[str, ...]:
        return (self.policy,) if isinstance(self.policy, str) else tuple(self.policy)


class ServiceLevelTarget(_Model):
    percent: Annotated[float, Field(gt=0, le=100)]
    within_s: NonNegFloat


class SLA(_Model):
    service_level: ServiceLevelTarget | str | None = None
    abandon_max_pct: Annotated[float, Field(ge=0, le=100)] | None = None
    acw_max_s: NonNegFloat | None = None
    hold_max_s: NonNegFloat | None = None
    blocking_max_pct: Annotated[float, Field(ge=0, le=100)] | None = None
    fcr_min_pct: Annotated[float, Field(ge=0, le=100)] | None = None
    denominator: Literal["queued", "answered"] = "queued"
    short_abandon_s: NonNegFloat = 0.0

    @field_validator("service_level")
    @classmethod
    def _parse_sl(cls, v):
        if isinstance(v, str):
            parts = v.replace(" ", "").split("/")
            try:
                pct, within = float(parts[0]), float(parts[1])
                if len(parts) != 2:
                    raise ValueError
            except (ValueError, IndexError):
                raise ValueError(f'write the service level as "PERCENT/SECONDS", e.g. "90/15", not {v!r}') from None
            return ServiceLevelTarget(percent=pct, within_s=within)
        return v


class Scenario(_Model):
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
        return _warnings(self)

    def with_changes(self, **changes) -> "Scenario":
        """A new scenario with top-level fields replaced, validated again.

        Examples
        --------
        >>> from simcc.textbook import erlang
        >>> s = erlang(arrival_rate=0.5, mean_talk_s=180, agents=100, hours=1)
        >>> s.with_changes(trunks=120).trunks
        120
        """
        data = self.model_dump(mode="python", exclude_none=True)
        data.update(changes)
        return from_dict(data)


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def roster_headcount(roster: Roster, n: int, interval_minutes: int) -> tuple[list[int], list[tuple[str, str]]]:
    """Agents on duty per interval from a roster, and (path, problem) pairs.

    Shift starts, lengths and breaks must fall on interval borders. On a
    24-hour horizon a shift that runs past midnight wraps to the start of the
    day (the same day repeats); otherwise it ends at the horizon.
    """
    counts = [0] * n
    problems = []
    day = n * interval_minutes
    wrap = day == 24 * 60
    night0, night1 = _minutes(NIGHT[0]), _minutes(NIGHT[1])
    for i, sh in enumerate(roster.shifts):
        path = f"roster.shifts.{i}"
        start = _minutes(sh.start)
        length = sh.hours * 60
        if start % interval_minutes or length % interval_minutes:
            problems.append((path, f"shift {sh.start} for {sh.hours:g} h does not fall on {interval_minutes}-minute interval borders"))
            continue
        on = set(range(start // interval_minutes, int(start + length) // interval_minutes))
        for j, br in enumerate(sh.breaks):
            b0 = _minutes(br.start)
            if b0 < start and wrap:
                b0 += 24 * 60
            if b0 % interval_minutes or br.minutes % interval_minutes:
                problems.append((f"{path}.breaks.{j}", f"break {br.start} for {br.minutes:g} min does not fall on interval borders"))
                continue
            off = set(range(b0 // interval_minutes, int(b0 + br.minutes) // interval_minutes))
            if not off <= on:
                problems.append((f"{path}.breaks.{j}", f"break {br.start} is not inside the shift {sh.start} + {sh.hours:g} h"))
                continue
            on -= off
        rules = roster.rules.get(sh.subgroup) if sh.subgroup else None
        if sh.subgroup is not None and sh.subgroup not in roster.rules:
            problems.append((f"{path}.subgroup", f"unknown subgroup {sh.subgroup!r}; name it under roster.rules"))
        if rules is not None and rules.no_night_shifts:
            for q in sorted(on):
                m = (q * interval_minutes) % (24 * 60)
                if m >= night0 or m < night1:
                    problems.append((path, f"subgroup {sh.subgroup!r} has no night shifts, but this shift works "
                                           f"{m // 60:02d}:{m % 60:02d} (night is {NIGHT[0]}-{NIGHT[1]})"))
                    break
        for q in on:
            if wrap:
                q %= n
            if q < n:
                counts[q] += sh.agents
    return counts, problems


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


# --------------------------------------------------------------------------
# Cross-field checks: run after the structure is valid, collect everything
# --------------------------------------------------------------------------
def _check(s: Scenario) -> list[Problem]:
    out: list[Problem] = []
    add = lambda path, msg, hint=None: out.append(Problem(path, msg, None, hint))  # noqa: E731
    types = list(s.call_types)
    tiers = list(s.tiers)
    n = s.n_intervals

    def known(names, path, what, valid):
        for name in names:
            if name not in valid:
                close = difflib.get_close_matches(name, valid, n=1)
                add(f"{path}.{name}", f"unknown {what} {name!r}", f"did you mean {close[0]!r}?" if close else f"known: {', '.join(valid)}")

    def shares(d, path, keys, label):
        known(d, path, label, keys)
        total = sum(d.values())
        if abs(total - 1.0) > SHARE_TOLERANCE:
            add(path, f"shares must add up to 1, they add up to {total:.6g}")

    if len(set(tiers)) != len(tiers):
        add("tiers", "tier names must be unique")
    if n > MAX_INTERVALS:
        add("intervals", f"{n} intervals; at most {MAX_INTERVALS}")
    if s.warmup_minutes % s.interval_minutes:
        add("warmup_minutes", f"warm-up ({s.warmup_minutes:g} min) must be a whole number of {s.interval_minutes}-minute "
                              "intervals, so that call counts and agent times start at the same border")
    if s.warmup_minutes * 60 >= n * s.interval_s:
        add("warmup_minutes", f"warm-up ({s.warmup_minutes:g} min) must be shorter than the horizon ({n * s.interval_minutes} min)")

    for k, ct in s.call_types.items():
        known(ct.patience_by_tier, f"call_types.{k}.patience_by_tier", "tier", tiers)
        if ct.hold_prob > 0 and ct.hold is None:
            add(f"call_types.{k}.hold", f"hold_prob is {ct.hold_prob:g} but no hold time distribution is given")
        _check_dists(ct, f"call_types.{k}", add, patience_ok=True)
        for tier, d in ct.patience_by_tier.items():
            _check_dist(d, f"call_types.{k}.patience_by_tier.{tier}", add, never_ok=True)
        if ct.redial is not None:
            _check_dist(ct.redial.delay, f"call_types.{k}.redial.delay", add)
        fcrs = [ct.fcr] + [g.handling[k].fcr for g in s.groups if k in g.handling and g.handling[k].fcr is not None]
        if min(fcrs) < 1 and ct.repeat_delay is None:
            add(f"call_types.{k}.repeat_delay", "fcr is below 1, so unresolved callers call back: give repeat_delay (the time until they do)")
        if ct.repeat_delay is not None:
            _check_dist(ct.repeat_delay, f"call_types.{k}.repeat_delay", add)
        if ct.transfer is not None:
            if ct.transfer.to not in s.call_types:
                close = difflib.get_close_matches(ct.transfer.to, types, n=1)
                add(f"call_types.{k}.transfer.to", f"unknown call type {ct.transfer.to!r}", f"did you mean {close[0]!r}?" if close else None)
            elif ct.transfer.to == k:
                add(f"call_types.{k}.transfer.to", "a call type cannot transfer to itself")
        for i, g in enumerate(s.groups):
            h = g.handling.get(k)
            if h is not None and h.transfer_prob is not None and ct.transfer is None:
                add(f"groups.{i}.handling.{k}.transfer_prob", f"call type {k!r} has no transfer: block to say where transfers go")

    entries = set()
    names = set()
    for i, a in enumerate(s.arrivals):
        path = f"arrivals.{i}"
        if a.name in names:
            add(f"{path}.name", f"duplicate arrival stream name {a.name!r}")
        names.add(a.name)
        if a.entry != "ivr" and a.entry not in s.call_types:
            close = difflib.get_close_matches(a.entry, types + ["ivr"], n=1)
            add(f"{path}.entry", f"entry must be 'ivr' or a call type, not {a.entry!r}", f"did you mean {close[0]!r}?" if close else None)
        if a.entry == "ivr" and s.ivr is None:
            add(f"{path}.entry", "stream enters the IVR but the scenario has no ivr: block", "add ivr: or set entry to a call type")
        entries.add(a.entry)
        if a.tiers is None:
            if len(tiers) > 1:
                add(f"{path}.tiers", "the scenario has several tiers; give the share of each tier in this stream")
        else:
            shares(a.tiers, f"{path}.tiers", tiers, "tier")
        given = [x for x in ("calls", "daily_calls") if getattr(a, x) is not None]
        if len(given) != 1:
            add(path, "give either calls (per interval) or daily_calls with a profile")
        elif a.daily_calls is not None and a.profile is None:
            add(f"{path}.profile", "daily_calls needs a profile (relative weights per interval)")
        elif a.daily_calls is not None and sum(a.profile) <= 0:
            add(f"{path}.profile", "profile weights must not all be zero")
        if a.profile is not None and a.calls is not None:
            add(f"{path}.profile", "profile goes with daily_calls, not with calls")
        for field in ("calls", "profile"):
            v = getattr(a, field)
            if isinstance(v, list) and len(v) != n:
                add(f"{path}.{field}", f"has {len(v)} values; the scenario has {n} intervals of {s.interval_minutes} min")
    if not out and s.expected_calls() > MAX_CALLS_PER_DAY:
        add("arrivals", f"{s.expected_calls():.3g} calls over the horizon; more than {MAX_CALLS_PER_DAY:.0e}")

    if s.ivr is not None:
        if s.ivr.contained + s.ivr.hangup > 1:
            add("ivr", f"contained + hangup = {s.ivr.contained + s.ivr.hangup:g}; it cannot exceed 1")
        shares(s.ivr.menu, "ivr.menu", types, "call type")
        known(s.ivr.menu_by_tier, "ivr.menu_by_tier", "tier", tiers)
        for tier, menu in s.ivr.menu_by_tier.items():
            shares(menu, f"ivr.menu_by_tier.{tier}", types, "call type")
        _check_dist(s.ivr.menu_time, "ivr.menu_time", add)

    gnames = set()
    served = set()
    for i, g in enumerate(s.groups):
        path = f"groups.{i}"
        if g.name in gnames:
            add(f"{path}.name", f"duplicate group name {g.name!r}")
        gnames.add(g.name)
        known(g.skills, f"{path}.skills", "call type", types)
        known(g.handling, f"{path}.handling", "call type", types)
        for k in g.handling:
            if k in s.call_types and k not in g.skills:
                add(f"{path}.handling.{k}", f"group {g.name!r} has handling for {k!r} but not the skill")
        for k, h in g.handling.items():
            _check_dists(h, f"{path}.handling.{k}", add)
        served.update(g.skills)
        if isinstance(g.agents, list) and len(g.agents) != n:
            add(f"{path}.agents", f"has {len(g.agents)} values; the scenario has {n} intervals of {s.interval_minutes} min")
        if (g.agents is None) == (g.roster is None):
            add(path, "give either agents (headcount per interval) or a roster of shifts")
        elif g.roster is not None:
            counts, problems = roster_headcount(g.roster, n, s.interval_minutes)
            for where, msg in problems:
                add(f"{path}.{where}", msg)
            if max(counts, default=0) > MAX_AGENTS:
                add(f"{path}.roster", f"{max(counts)} agents on duty at once; at most {MAX_AGENTS}")

    reachable = {a.entry for a in s.arrivals if a.entry != "ivr"}
    if s.ivr is not None and "ivr" in entries:
        reachable.update(k for k, p in s.ivr.menu.items() if p > 0)
        for menu in s.ivr.menu_by_tier.values():
            reachable.update(k for k, p in menu.items() if p > 0)
    _check_routing(s, add, types, tiers)
    _check_outbound(s, add, types, n)
    reachable.update(ct.transfer.to for k, ct in s.call_types.items() if ct.transfer is not None and k in reachable)
    for k in types:
        if k in reachable and k not in served:
            add(f"call_types.{k}", f"no group has the skill {k!r}, so its calls could never be answered", "add it to some group's skills")
    return out


def _check_outbound(s, add, types, n):
    groups = [g.name for g in s.groups]
    o = s.outbound

    def check_groups(names, path):
        for i, name in enumerate(names):
            if name not in groups:
                close = difflib.get_close_matches(name, groups, n=1)
                add(f"{path}.{i}", f"unknown group {name!r}", f"did you mean {close[0]!r}?" if close else None)

    if o.quality is not None:
        for k in o.quality.share:
            if k not in types:
                add(f"outbound.quality.share.{k}", f"unknown call type {k!r}")
        check_groups(o.quality.groups, "outbound.quality.groups")
        _check_dist(o.quality.talk, "outbound.quality.talk", add)
    names = set()
    for i, c in enumerate(o.campaigns):
        if c.name in names:
            add(f"outbound.campaigns.{i}.name", f"duplicate campaign name {c.name!r}")
        names.add(c.name)
        check_groups(c.groups, f"outbound.campaigns.{i}.groups")
        _check_dist(c.talk, f"outbound.campaigns.{i}.talk", add)
        if isinstance(c.calls, list) and len(c.calls) != n:
            add(f"outbound.campaigns.{i}.calls", f"has {len(c.calls)} values; the scenario has {n} intervals of {s.interval_minutes} min")


def _check_routing(s, add, types, tiers):
    r = s.routing
    names = r.policies
    if len(set(names)) != len(names):
        add("routing.policy", "a policy is listed twice")
    if "priority" in names and "weighted_wait" in names:
        add("routing.policy", "priority and weighted_wait are two rules for the same choice; pick one")
    if "reserve" in names and not r.reserve:
        add("routing.reserve", "policy 'reserve' needs a reserve: list (group, agents, tier or call_type)")
    if r.reserve and "reserve" not in names:
        add("routing.reserve", "a reserve is given but the policy does not include 'reserve'")
    groups = [g.name for g in s.groups]
    seen = set()
    for i, rv in enumerate(r.reserve):
        if rv.group not in groups:
            close = difflib.get_close_matches(rv.group, groups, n=1)
            add(f"routing.reserve.{i}.group", f"unknown group {rv.group!r}", f"did you mean {close[0]!r}?" if close else None)
        if rv.group in seen:
            add(f"routing.reserve.{i}.group", f"group {rv.group!r} has two reserves")
        seen.add(rv.group)
        if (rv.tier is None) == (rv.call_type is None):
            add(f"routing.reserve.{i}", "give exactly one of tier or call_type (who the idle agents are kept for)")
        if rv.tier is not None and rv.tier not in tiers:
            add(f"routing.reserve.{i}.tier", f"unknown tier {rv.tier!r}")
        if rv.call_type is not None and rv.call_type not in types:
            add(f"routing.reserve.{i}.call_type", f"unknown call type {rv.call_type!r}")
    if isinstance(r.overflow_after_s, dict):
        for k in r.overflow_after_s:
            if k not in types:
                add(f"routing.overflow_after_s.{k}", f"unknown call type {k!r}")
    for k in r.weights:
        if k not in types:
            add(f"routing.weights.{k}", f"unknown call type {k!r}")
    for t in r.tier_weights:
        if t not in tiers:
            add(f"routing.tier_weights.{t}", f"unknown tier {t!r}")


def _check_dists(h, path, add, patience_ok=False):
    for field in ("talk", "hold", "acw", "patience"):
        d = getattr(h, field, None)
        if d is not None:
            _check_dist(d, f"{path}.{field}", add, never_ok=patience_ok and field == "patience")


def _check_dist(d, path, add, never_ok=False):
    if isinstance(d, Never) and not never_ok:
        add(f"{path}.dist", "'never' is only allowed for patience")
    if isinstance(d, Uniform) and d.high_s < d.low_s:
        add(f"{path}.high_s", f"high_s ({d.high_s:g}) is below low_s ({d.low_s:g})")


def _warnings(s: Scenario) -> list[str]:
    out = []
    total_max = 0
    n = s.n_intervals
    agents = [s.agents_per_interval(g) for g in s.groups]
    for p in range(n):
        total_max = max(total_max, sum(a[p] for a in agents))
    if s.trunks is not None and total_max > s.trunks:
        out.append(f"{total_max} agents but only {s.trunks} trunks: agents beyond the trunk count can never all be busy")
    finite_patience = all(not isinstance(ct.patience, Never) for ct in s.call_types.values())
    if not finite_patience and s.trunks is None:
        calls = [0.0] * n
        for a in s.arrivals:
            for p, c in enumerate(s.calls_per_interval(a)):
                calls[p] += c
        aht = max(dist_mean(ct.talk) for ct in s.call_types.values())
        for p in range(n):
            staffed = sum(a[p] for a in agents)
            load = calls[p] * aht / s.interval_s
            if load >= staffed and calls[p] > 0:
                m = p * s.interval_minutes
                out.append(f"interval {p} ({m // 60:02d}:{m % 60:02d}): offered load {load:.1f} Erlangs >= {staffed} agents and callers never abandon: the queue grows without bound")
    return out


# --------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------
_MODELS = (Scenario, CallType, IVR, Arrivals, Group, Routing, SLA, ServiceLevelTarget, HandlingOverride, Redial,
           Transfer, Reserve, Callback, QualityCallbacks, Campaign, Outbound, Roster, Shift, Break, SubgroupRules,
           Exponential, Deterministic, Uniform, Lognormal, Gamma, Erlang, Weibull, Empirical)
_FIELD_NAMES = sorted({name for model in _MODELS for name in model.model_fields})
_WHERE = {"Scenario": "the top level", "CallType": "a call type", "IVR": "ivr", "Arrivals": "an arrival stream",
          "Group": "a group", "Routing": "routing", "SLA": "sla", "Outbound": "outbound", "Roster": "a roster",
          "Shift": "a shift", "HandlingOverride": "a group's handling", "Redial": "redial", "Transfer": "transfer",
          "Reserve": "a routing reserve", "Callback": "callback", "QualityCallbacks": "outbound.quality",
          "Campaign": "a campaign"}


def _owners(key: str) -> str:
    places = sorted({_WHERE.get(m.__name__, m.__name__) for m in _MODELS if key in m.model_fields})
    return " or ".join(places)


_NUMBER_TEXT = re.compile(r"^[-+]?(\d[\d_]*\.?\d*|\.\d+)([eE][-+]?\d+)?$")


def _line_for(lines: dict[str, int], path: str) -> int | None:
    while True:
        if path in lines:
            return lines[path]
        if "." not in path:
            return lines.get(path)
        path = path.rsplit(".", 1)[0]


_BRANCH_LABELS = ("int", "float", "str", "bool", "ServiceLevelTarget", "exponential", "deterministic", "uniform",
                  "lognormal", "gamma", "erlang", "weibull", "empirical", "never")


def _is_branch(x: str) -> bool:
    """A pydantic union-member label in an error location (e.g. 'list[...]', 'exponential', 'int')."""
    return x.startswith(("list[", "dict[", "function-", "constrained-", "literal[")) or x in _BRANCH_LABELS


def _branch_kind(label: str) -> str:
    if label.startswith("list["):
        return "list"
    if label.startswith("dict[") or label == "ServiceLevelTarget":
        return "dict"
    return "scalar"


def _value_at(data, loc):
    for x in loc:
        try:
            data = data[x]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _one_branch(errors: list[dict], data) -> list[dict]:
    """Keep, for a value that matched no member of a union (``int | list[int]``), only the errors
    of the member that fits the value's shape, so that one mistake gives one problem."""
    def split(loc):
        for i, x in enumerate(loc):
            if isinstance(x, str) and _is_branch(x):
                return tuple(loc[:i]), x
        return None, None

    members: dict[tuple, set] = {}
    for e in errors:
        prefix, branch = split(e["loc"])
        if prefix is not None:
            members.setdefault(prefix, set()).add(branch)
    keep, merged = [], set()
    for e in errors:
        prefix, branch = split(e["loc"])
        if prefix is None or len(members[prefix]) < 2:
            keep.append(e)
            continue
        value = _value_at(data, prefix)
        kind = "list" if isinstance(value, list) else "dict" if isinstance(value, dict) else "scalar"
        if any(_branch_kind(b) == kind for b in members[prefix]):
            if _branch_kind(branch) == kind:
                keep.append(e)
        elif prefix not in merged:   # fits no member: one problem naming what was expected
            merged.add(prefix)
            expected = " or ".join(sorted({_expected(b) for b in members[prefix]}))
            keep.append(dict(e, loc=prefix, type="union_type", msg=f"Input should be {expected}"))
    return keep


def _expected(label: str) -> str:
    if label.startswith("list["):
        return "a list"
    if label.startswith("dict[") or label == "ServiceLevelTarget":
        return "a mapping"
    if "int" in label:
        return "a whole number"
    if "float" in label:
        return "a number"
    return "a text" if "str" in label else label


def _pydantic_problems(exc: ValidationError, lines, data=None) -> list[Problem]:
    out = []
    for e in _one_branch(exc.errors(include_url=False), data):
        loc = [str(x) for x in e["loc"]]
        # drop pydantic's union-member labels (e.g. 'list[...]', 'exponential', 'int')
        loc = [x for x in loc if not _is_branch(x)]
        path = ".".join(loc)
        msg = e["msg"]
        hint = None
        if e["type"] == "extra_forbidden":
            key = loc[-1] if loc else ""
            close = difflib.get_close_matches(key, _FIELD_NAMES, n=1)
            msg = f"unknown key {key!r}"
            if close and close[0] == key:       # a real key, in the wrong place
                hint = f"{key!r} belongs under {_owners(key)}"
            else:
                hint = f"did you mean {close[0]!r}?" if close else None
        elif e["type"] == "union_tag_invalid":
            msg = f"unknown distribution {e['input'].get('dist')!r}" if isinstance(e.get("input"), dict) else msg
            hint = "one of: exponential, deterministic, uniform, lognormal, gamma, erlang, weibull, empirical, never"
        elif e["type"] == "union_tag_not_found":
            msg = "a distribution needs a 'dist' key"
        elif e["type"] in ("int_type", "float_type") and isinstance(e.get("input"), str):
            msg = f"{msg}, got the text {e['input']!r}"
            text = e["input"].strip()
            if _NUMBER_TEXT.match(text):
                hint = ("YAML reads a number such as 1e3 as text; write 1000 or 1.0e+3" if "e" in text.lower()
                        else "write the number without quotes")
        elif e["type"] in ("int_type", "float_type") and isinstance(e.get("input"), bool):
            msg = f"{msg}, got {str(e['input']).lower()}"
        elif e["type"] == "bool_type":
            msg = f"{msg}, got {e.get('input')!r}"
            hint = "write true or false"
        elif e["type"] == "int_from_float" or (e["type"] == "int_type" and isinstance(e.get("input"), float)):
            msg = f"must be a whole number, got {e.get('input')!r}"
        problem = Problem(path, msg, _line_for(lines, path), hint)
        if problem not in out:
            out.append(problem)
    return out


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
        raise ScenarioError(_pydantic_problems(exc, lines, data), source) from None
    problems = _check(scenario)
    if problems:
        problems = [Problem(p.path, p.message, _line_for(lines, p.path), p.hint) for p in problems]
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
