"""The sections of a scenario: call types, IVR, arrivals, groups, rosters, routing, outbound work, SLA.

Each is a strict pydantic model (``simcc.model.base.Model``): the structure,
types and ranges of every key. Rules that tie sections together (a skill no
group has, shares that must add up to 1) are in ``simcc.model.checks``.
``docs/scenario.md`` documents every key.
"""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from .base import MAX_AGENTS, Model, Name, NonNegFloat, PosFloat, Prob
from .dists import Distribution
from .policies import POLICY_NAMES
from .targets import parse_service_level


# --------------------------------------------------------------------------
# The center
# --------------------------------------------------------------------------
class HandlingOverride(Model):
    talk: Distribution | None = None
    hold_prob: Prob | None = None
    hold: Distribution | None = None
    acw: Distribution | None = None
    fcr: Prob | None = None
    transfer_prob: Prob | None = None


class Redial(Model):
    """Blocked and abandoning callers who call again."""

    prob: Prob
    delay: Distribution
    max_attempts: Annotated[int, Field(ge=1, le=100)] = 3
    memory: bool = False


class Callback(Model):
    """Virtual hold: a caller still waiting after ``offer_after_s`` is offered a callback."""

    offer_after_s: NonNegFloat
    accept_prob: Prob
    within_s: PosFloat = 3600.0


class Transfer(Model):
    """A share of answered calls handed to another call type's queue after talk: to one call type, or
    split over several (``to: {techsup: 0.95, manager: 0.05}``)."""

    prob: Prob
    to: Name | dict[Name, Prob]

    @property
    def targets(self) -> dict[str, float]:
        """Target call type -> share of the transferred calls."""
        return {self.to: 1.0} if isinstance(self.to, str) else dict(self.to)


class Balking(Model):
    """A caller who would have to wait leaves at once with a probability.

    ``prob`` is one probability, or a list by the number of callers of the
    same call type already waiting (0, 1, 2, ...; the last value holds beyond
    the list); ``by_tier`` overrides it per tier.
    """

    prob: Prob | Annotated[list[Prob], Field(min_length=1, max_length=1000)]
    by_tier: dict[Name, Prob | Annotated[list[Prob], Field(min_length=1, max_length=1000)]] = {}


class MaxWait(Model):
    """Callers still waiting after ``after_s`` are sent to a message (voicemail), sent to a message that
    an agent returns (``callback``: the caller joins the call type's callback list), or disconnected."""

    after_s: NonNegFloat
    action: Literal["message", "callback", "disconnect"] = "message"


class Conference(Model):
    """After talk and HOLD, the agent brings in an agent who serves call type ``with_type`` for ``duration``."""

    prob: Prob
    with_type: Name
    duration: Distribution


Scale = Annotated[float, Field(gt=0, le=100, allow_inf_nan=False)]


class CallType(Model):
    patience: Distribution
    patience_by_tier: dict[Name, Distribution] = {}
    patience_scale: Scale | list[Scale] | None = None
    talk: Distribution
    talk_scale: Scale | list[Scale] | None = None
    hold_prob: Prob = 0.0
    hold: Distribution | None = None
    acw: Distribution | None = None
    redial: Redial | None = None
    fcr: Prob = 1.0
    repeat_delay: Distribution | None = None
    transfer: Transfer | None = None
    callback: Callback | None = None
    balking: Balking | None = None
    max_wait: MaxWait | None = None
    queue_capacity: Annotated[int, Field(ge=0, le=10_000_000)] | None = None
    conference: Conference | None = None


class IVR(Model):
    menu_time: Distribution
    contained: Prob = 0.0
    hangup: Prob = 0.0
    menu: dict[Name, Prob]
    menu_by_tier: dict[Name, dict[Name, Prob]] = {}


class Arrivals(Model):
    name: Name
    entry: Name = "ivr"
    tiers: dict[Name, Prob] | None = None
    calls: NonNegFloat | list[NonNegFloat] | None = None
    daily_calls: NonNegFloat | None = None
    profile: list[NonNegFloat] | None = None


class QualityCallbacks(Model):
    """Quality call-backs on a share of the answered calls of chosen types."""

    share: dict[Name, Prob]
    groups: Annotated[list[Name], Field(min_length=1)]
    talk: Distribution
    acw: Distribution | None = None


class Campaign(Model):
    """Outbound calls added at the start of each interval (reminders, surveys, sales)."""

    name: Name
    calls: Annotated[int, Field(ge=0, le=10_000_000)] | list[Annotated[int, Field(ge=0, le=10_000_000)]]
    groups: Annotated[list[Name], Field(min_length=1)]
    talk: Distribution
    acw: Distribution | None = None


class Dialer(Model):
    """A predictive dialer: numbers dialled for agents of ``groups`` as they become free.

    Each time it is switched on and each time an agent (of any group)
    becomes free, while at least ``min_idle_agents`` agents are idle in all
    groups together and at least one in ``groups``, it dials
    round(``ratio`` x idle agents of ``groups``) + ``extra`` numbers, less
    the dials still in progress. A dial reaches the right party with
    probability ``reach_prob`` (per interval); a reached party waits at most
    ``patience`` for an agent, after which the dialer drops it (a mismatch).
    """

    groups: Annotated[list[Name], Field(min_length=1)]
    from_minutes: NonNegFloat = 0.0
    to_minutes: NonNegFloat | None = None
    ratio: Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)] = 1.0
    extra: Annotated[int, Field(ge=-1000, le=1000)] = 0
    min_idle_agents: Annotated[int, Field(ge=0, le=MAX_AGENTS)] = 0
    reach_prob: Prob | list[Prob]
    dial_time: Distribution | None = None
    patience: Distribution | None = None
    talk: Distribution
    acw: Distribution | None = None


class Outbound(Model):
    """Outbound work done by the same agents between inbound calls, and the blending rule."""

    max_queue: Annotated[int, Field(ge=0)] = 0
    min_idle: Annotated[int, Field(ge=0)] = 0
    quality: QualityCallbacks | None = None
    campaigns: list[Campaign] = []
    dialer: Dialer | None = None


TimeOfDay = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
NIGHT = ("22:00", "06:00")


class Break(Model):
    start: TimeOfDay
    minutes: PosFloat


class Shift(Model):
    """``agents`` agents work from ``start`` for ``hours`` hours, less their breaks."""

    start: TimeOfDay
    hours: Annotated[float, Field(gt=0, le=24)]
    agents: Annotated[int, Field(ge=0, le=MAX_AGENTS)]
    breaks: list[Break] = []
    subgroup: Name | None = None


class SubgroupRules(Model):
    no_night_shifts: bool = False


class Roster(Model):
    shifts: Annotated[list[Shift], Field(min_length=1, max_length=10_000)]
    rules: dict[Name, SubgroupRules] = {}


class Group(Model):
    name: Name
    agents: Annotated[int, Field(ge=0, le=MAX_AGENTS)] | list[Annotated[int, Field(ge=0, le=MAX_AGENTS)]] | None = None
    roster: Roster | None = None
    skills: dict[Name, Annotated[int, Field(ge=1, le=100)]]
    handling: dict[Name, HandlingOverride] = {}
    cost_per_hour: NonNegFloat | None = None
    absence: Prob = 0.0


PolicyName = Literal[POLICY_NAMES]  # type: ignore[valid-type]


class Reserve(Model):
    """Keep ``agents`` idle agents of a group for one tier or one call type."""

    group: Name
    agents: Annotated[int, Field(ge=1, le=MAX_AGENTS)]
    tier: Name | None = None
    call_type: Name | None = None


class Routing(Model):
    policy: PolicyName | Annotated[list[PolicyName], Field(min_length=1, max_length=4)] = "priority"
    tier_priority: bool = True
    overflow_after_s: NonNegFloat | dict[Name, NonNegFloat] = 20.0
    reserve: list[Reserve] = []
    weights: dict[Name, PosFloat] = {}
    tier_weights: dict[Name, PosFloat] = {}
    agent_selection: Literal["longest_idle", "random", "group_order"] = "longest_idle"
    unstaffed: Literal["wait", "disconnect"] = "wait"

    @property
    def policies(self) -> tuple[str, ...]:
        return (self.policy,) if isinstance(self.policy, str) else tuple(self.policy)


class Closing(Model):
    """The center closes ``at_minutes`` after the start of the day: no call arrives after it.

    ``queue: serve`` serves the callers already in the system until none is
    left (the last interval's agents stay past the horizon if need be);
    ``queue: clear`` disconnects the callers waiting at closing, and those who
    reach the queue later.
    """

    at_minutes: NonNegFloat
    queue: Literal["serve", "clear"] = "serve"


class ServiceLevelTarget(Model):
    percent: Annotated[float, Field(gt=0, le=100)]
    within_s: NonNegFloat


class SLA(Model):
    service_level: ServiceLevelTarget | str | None = None
    abandon_max_pct: Annotated[float, Field(ge=0, le=100)] | None = None
    acw_max_s: NonNegFloat | None = None
    hold_max_s: NonNegFloat | None = None
    blocking_max_pct: Annotated[float, Field(ge=0, le=100)] | None = None
    fcr_min_pct: Annotated[float, Field(ge=0, le=100)] | None = None
    denominator: Literal["queued", "answered"] = "queued"
    short_abandon_s: NonNegFloat = 0.0
    by_call_type: dict[Name, ServiceLevelTarget | str] = {}

    @field_validator("by_call_type")
    @classmethod
    def _parse_by_type(cls, v):
        out = {}
        for k, t in v.items():
            if isinstance(t, str):
                pct, within = parse_service_level(t)
                t = ServiceLevelTarget(percent=pct, within_s=within)
            out[k] = t
        return out

    @field_validator("service_level")
    @classmethod
    def _parse_sl(cls, v):
        if isinstance(v, str):
            pct, within = parse_service_level(v)
            return ServiceLevelTarget(percent=pct, within_s=within)
        return v
