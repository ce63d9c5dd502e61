"""Cross-field checks: the rules that tie a scenario's sections together.

They run after the structure is valid (``simcc.model.sections``) and collect
every problem at once, one function per section, each naming the field path
and the reason. :func:`warnings` lists what is allowed but usually a mistake.
"""
from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from ..errors import Problem
from .base import MAX_AGENTS, MAX_CALLS_PER_DAY, MAX_INTERVALS, SHARE_TOLERANCE
from .dists import Never, Triangular, Uniform, dist_mean
from .policies import CHOICE_RULES
from .roster import roster_headcount

if TYPE_CHECKING:
    from .scenario import Scenario


def check(s: Scenario) -> list[Problem]:
    """Every cross-field problem of a structurally valid scenario (empty when it is valid)."""
    c = _Checker(s)
    c.top()
    c.call_types()
    c.arrivals()
    c.ivr()
    c.groups()
    c.known(s.sla.by_call_type, "sla.by_call_type", "call type", c.types)
    _check_routing(s, c.add, c.types, c.tiers)
    _check_outbound(s, c.add, c.types, c.n)
    c.reachable()
    return c.out


class _Checker:
    """Collects problems section by section; ``add(path, message, hint)`` records one."""

    def __init__(self, s: Scenario):
        self.s = s
        self.out: list[Problem] = []
        self.types = list(s.call_types)
        self.tiers = list(s.tiers)
        self.n = s.n_intervals
        self.served: set[str] = set()

    def add(self, path: str, msg: str, hint: str | None = None) -> None:
        self.out.append(Problem(path, msg, None, hint))

    def known(self, names, path, what, valid):
        for name in names:
            if name not in valid:
                close = difflib.get_close_matches(name, valid, n=1)
                self.add(f"{path}.{name}", f"unknown {what} {name!r}",
                         f"did you mean {close[0]!r}?" if close else f"known: {', '.join(valid)}")

    def shares(self, d, path, keys, label):
        self.known(d, path, label, keys)
        total = sum(d.values())
        if abs(total - 1.0) > SHARE_TOLERANCE:
            self.add(path, f"shares must add up to 1, they add up to {total:.6g}")

    def length(self, values, path):
        if isinstance(values, list) and len(values) != self.n:
            self.add(path, f"has {len(values)} values; the scenario has {self.n} intervals of "
                           f"{self.s.interval_minutes} min")

    # ------------------------------------------------------------------
    def top(self):
        s, n, add = self.s, self.n, self.add
        if len(set(self.tiers)) != len(self.tiers):
            add("tiers", "tier names must be unique")
        if n > MAX_INTERVALS:
            add("intervals", f"{n} intervals; at most {MAX_INTERVALS}")
        if s.warmup_minutes % s.interval_minutes:
            add("warmup_minutes", f"warm-up ({s.warmup_minutes:g} min) must be a whole number of "
                                  f"{s.interval_minutes}-minute intervals, so that call counts and agent times "
                                  "start at the same border")
        if s.closing is not None and s.closing.at_minutes * 60 > n * s.interval_s:
            add("closing.at_minutes", f"closing ({s.closing.at_minutes:g} min) is after the horizon "
                                      f"({n * s.interval_minutes} min)")
        if s.warmup_minutes * 60 >= n * s.interval_s:
            add("warmup_minutes", f"warm-up ({s.warmup_minutes:g} min) must be shorter than the horizon "
                                  f"({n * s.interval_minutes} min)")

    def call_types(self):
        s, add = self.s, self.add
        for k, ct in s.call_types.items():
            self.known(ct.patience_by_tier, f"call_types.{k}.patience_by_tier", "tier", self.tiers)
            if ct.hold_prob > 0 and ct.hold is None:
                add(f"call_types.{k}.hold", f"hold_prob is {ct.hold_prob:g} but no hold time distribution is given")
            _check_dists(ct, f"call_types.{k}", add, patience_ok=True)
            for tier, d in ct.patience_by_tier.items():
                _check_dist(d, f"call_types.{k}.patience_by_tier.{tier}", add, never_ok=True)
            if ct.redial is not None:
                _check_dist(ct.redial.delay, f"call_types.{k}.redial.delay", add)
            fcrs = [ct.fcr] + [g.handling[k].fcr for g in s.groups if k in g.handling and g.handling[k].fcr is not None]
            if min(fcrs) < 1 and ct.repeat_delay is None:
                add(f"call_types.{k}.repeat_delay",
                    "fcr is below 1, so unresolved callers call back: give repeat_delay (the time until they do)")
            if ct.repeat_delay is not None:
                _check_dist(ct.repeat_delay, f"call_types.{k}.repeat_delay", add)
            if ct.transfer is not None:
                if isinstance(ct.transfer.to, dict):
                    self.shares(ct.transfer.to, f"call_types.{k}.transfer.to", self.types, "call type")
                for to in ct.transfer.targets:
                    path = f"call_types.{k}.transfer.to" + ("" if isinstance(ct.transfer.to, str) else f".{to}")
                    if to not in s.call_types:
                        if isinstance(ct.transfer.to, str):
                            close = difflib.get_close_matches(to, self.types, n=1)
                            add(path, f"unknown call type {to!r}", f"did you mean {close[0]!r}?" if close else None)
                    elif to == k:
                        add(path, "a call type cannot transfer to itself")
            if ct.conference is not None:
                if ct.conference.with_type not in s.call_types:
                    close = difflib.get_close_matches(ct.conference.with_type, self.types, n=1)
                    add(f"call_types.{k}.conference.with_type", f"unknown call type {ct.conference.with_type!r}",
                        f"did you mean {close[0]!r}?" if close else None)
                _check_dist(ct.conference.duration, f"call_types.{k}.conference.duration", add)
            if ct.balking is not None:
                self.known(ct.balking.by_tier, f"call_types.{k}.balking.by_tier", "tier", self.tiers)
            for key in ("talk_scale", "patience_scale"):
                self.length(getattr(ct, key), f"call_types.{k}.{key}")
            for i, g in enumerate(s.groups):
                h = g.handling.get(k)
                if h is not None and h.transfer_prob is not None and ct.transfer is None:
                    add(f"groups.{i}.handling.{k}.transfer_prob",
                        f"call type {k!r} has no transfer: block to say where transfers go")

    def arrivals(self):
        s, add = self.s, self.add
        names = set()
        for i, a in enumerate(s.arrivals):
            path = f"arrivals.{i}"
            if a.name in names:
                add(f"{path}.name", f"duplicate arrival stream name {a.name!r}")
            names.add(a.name)
            if a.entry != "ivr" and a.entry not in s.call_types:
                close = difflib.get_close_matches(a.entry, self.types + ["ivr"], n=1)
                add(f"{path}.entry", f"entry must be 'ivr' or a call type, not {a.entry!r}",
                    f"did you mean {close[0]!r}?" if close else None)
            if a.entry == "ivr" and s.ivr is None:
                add(f"{path}.entry", "stream enters the IVR but the scenario has no ivr: block",
                    "add ivr: or set entry to a call type")
            if a.tiers is None:
                if len(self.tiers) > 1:
                    add(f"{path}.tiers", "the scenario has several tiers; give the share of each tier in this stream")
            else:
                self.shares(a.tiers, f"{path}.tiers", self.tiers, "tier")
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
                self.length(getattr(a, field), f"{path}.{field}")
        if not self.out and s.expected_calls() > MAX_CALLS_PER_DAY:
            add("arrivals", f"{s.expected_calls():.3g} calls over the horizon; more than {MAX_CALLS_PER_DAY:.0e}")

    def ivr(self):
        ivr = self.s.ivr
        if ivr is None:
            return
        if ivr.contained + ivr.hangup > 1:
            self.add("ivr", f"contained + hangup = {ivr.contained + ivr.hangup:g}; it cannot exceed 1")
        self.shares(ivr.menu, "ivr.menu", self.types, "call type")
        self.known(ivr.menu_by_tier, "ivr.menu_by_tier", "tier", self.tiers)
        for tier, menu in ivr.menu_by_tier.items():
            self.shares(menu, f"ivr.menu_by_tier.{tier}", self.types, "call type")
        _check_dist(ivr.menu_time, "ivr.menu_time", self.add)

    def groups(self):
        s, add = self.s, self.add
        gnames = set()
        for i, g in enumerate(s.groups):
            path = f"groups.{i}"
            if g.name in gnames:
                add(f"{path}.name", f"duplicate group name {g.name!r}")
            gnames.add(g.name)
            self.known(g.skills, f"{path}.skills", "call type", self.types)
            self.known(g.handling, f"{path}.handling", "call type", self.types)
            for k in g.handling:
                if k in s.call_types and k not in g.skills:
                    add(f"{path}.handling.{k}", f"group {g.name!r} has handling for {k!r} but not the skill")
            for k, h in g.handling.items():
                _check_dists(h, f"{path}.handling.{k}", add)
            self.served.update(g.skills)
            self.length(g.agents, f"{path}.agents")
            if (g.agents is None) == (g.roster is None):
                add(path, "give either agents (headcount per interval) or a roster of shifts")
            elif g.roster is not None:
                counts, problems = roster_headcount(g.roster, self.n, s.interval_minutes)
                for where, msg in problems:
                    add(f"{path}.{where}", msg)
                if max(counts, default=0) > MAX_AGENTS:
                    add(f"{path}.roster", f"{max(counts)} agents on duty at once; at most {MAX_AGENTS}")

    def reachable(self):
        """Every call type a caller can reach needs a group with its skill."""
        s = self.s
        reach = {a.entry for a in s.arrivals if a.entry != "ivr"}
        if s.ivr is not None and any(a.entry == "ivr" for a in s.arrivals):
            reach.update(k for k, p in s.ivr.menu.items() if p > 0)
            for menu in s.ivr.menu_by_tier.values():
                reach.update(k for k, p in menu.items() if p > 0)
        reach.update(to for k, ct in s.call_types.items() if ct.transfer is not None and k in reach
                     for to, share in ct.transfer.targets.items() if share > 0)
        for k in self.types:
            if k in reach and k not in self.served:
                self.add(f"call_types.{k}", f"no group has the skill {k!r}, so its calls could never be answered",
                         "add it to some group's skills")


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
            add(f"outbound.campaigns.{i}.calls",
                f"has {len(c.calls)} values; the scenario has {n} intervals of {s.interval_minutes} min")
    d = o.dialer
    if d is not None:
        check_groups(d.groups, "outbound.dialer.groups")
        if len(set(d.groups)) != len(d.groups):
            add("outbound.dialer.groups", "a group is listed twice")
        for key in ("dial_time", "patience", "talk", "acw"):
            _check_dist(getattr(d, key), f"outbound.dialer.{key}", add, never_ok=key == "patience")
        if isinstance(d.reach_prob, list) and len(d.reach_prob) != n:
            add("outbound.dialer.reach_prob",
                f"has {len(d.reach_prob)} values; the scenario has {n} intervals of {s.interval_minutes} min")
        horizon_min = n * s.interval_minutes
        if d.from_minutes >= horizon_min:
            add("outbound.dialer.from_minutes", f"the dialer starts at {d.from_minutes:g} min, at or after the "
                f"horizon ({horizon_min:g} min)")
        if d.to_minutes is not None:
            if d.to_minutes > horizon_min:
                add("outbound.dialer.to_minutes", f"the dialer stops at {d.to_minutes:g} min, after the horizon "
                    f"({horizon_min:g} min)")
            if d.to_minutes <= d.from_minutes:
                add("outbound.dialer.to_minutes", f"must be after from_minutes ({d.from_minutes:g})")


def _check_routing(s, add, types, tiers):
    r = s.routing
    names = r.policies
    if len(set(names)) != len(names):
        add("routing.policy", "a policy is listed twice")
    chosen = [p for p in names if p in CHOICE_RULES]
    if len(chosen) > 1:
        add("routing.policy", f"{' and '.join(chosen)} are two rules for the same choice; pick one")
    if "reserve" in names and not r.reserve:
        add("routing.reserve", "policy 'reserve' needs a reserve: list (group, agents, tier or call_type)")
    if r.reserve and "reserve" not in names:
        add("routing.reserve", "a reserve is given but the policy does not include 'reserve'")
    groups = [g.name for g in s.groups]
    seen = set()
    for i, rv in enumerate(r.reserve):
        if rv.group not in groups:
            close = difflib.get_close_matches(rv.group, groups, n=1)
            add(
                f"routing.reserve.{i}.group",
                f"unknown group {rv.group!r}",
                f"did you mean {close[0]!r}?" if close else None,
            )
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
    if isinstance(d, Triangular):
        if not d.low_s <= d.mode_s <= d.high_s:
            add(f"{path}.mode_s", f"mode_s ({d.mode_s:g}) must lie between low_s ({d.low_s:g}) and high_s "
                                  f"({d.high_s:g})")
        elif d.high_s == d.low_s:
            add(f"{path}.high_s", f"high_s equals low_s ({d.low_s:g}): use a deterministic time instead")


#: A mean time above this (a day) is allowed but almost always a unit mistake.
LONG_TIME_S = 86_400.0


def _long_times(s: Scenario) -> list[str]:
    out = []
    timed = [
        (f"call_types.{k}.{f}", getattr(ct, f))
        for k, ct in s.call_types.items()
        for f in ("talk", "hold", "acw", "repeat_delay")
    ]
    timed += [(f"call_types.{k}.patience", ct.patience) for k, ct in s.call_types.items()]
    if s.ivr is not None:
        timed.append(("ivr.menu_time", s.ivr.menu_time))
    for path, d in timed:
        if d is not None and not isinstance(d, Never) and dist_mean(d) > LONG_TIME_S:
            out.append(
                f"{path}: a mean of {dist_mean(d):.3g} s is longer than a day ({LONG_TIME_S:,.0f} s); "
                f"times are in seconds"
            )
    return out


def warnings(s: Scenario) -> list[str]:
    """Things that are allowed but usually a mistake (printed, never refused)."""
    out = _long_times(s)
    total_max = 0
    n = s.n_intervals
    agents = [s.agents_per_interval(g) for g in s.groups]
    for p in range(n):
        total_max = max(total_max, sum(a[p] for a in agents))
    if s.trunks is not None and total_max > s.trunks:
        out.append(
            f"{total_max} agents but only {s.trunks} trunks: agents beyond the trunk count can never all be busy"
        )
    finite_patience = all(not isinstance(ct.patience, Never) for ct in s.call_types.values())
    if not finite_patience and s.trunks is None:
        for p in range(n):
            work = agent_work_per_call(s, p)
            staffed = sum(a[p] for a in agents)
            load = sum(c[p] * w for c, w in zip((s.calls_per_interval(a) for a in s.arrivals), work)) / s.interval_s
            if load >= staffed and load > 0:
                m = p * s.interval_minutes
                out.append(
                    f"interval {p} ({m // 60:02d}:{m % 60:02d}): {load:.1f} Erlangs reach the agents (after the "
                    f"IVR) >= {staffed} agents and callers never abandon: the queue grows without bound"
                )
    return out


def interval_scale(value, p: int) -> float:
    """A call type's ``talk_scale`` / ``patience_scale`` for calls arriving in interval p (1 when unset)."""
    if value is None:
        return 1.0
    return float(value[p]) if isinstance(value, list) else float(value)


def handle_time(ct, p: int = 0) -> float:
    """Mean agent time of one answered call of a type arriving in interval p: talk (times its
    ``talk_scale``), HOLD (when held) and after-call work."""
    hold = ct.hold_prob * dist_mean(ct.hold) if ct.hold is not None else 0.0
    return dist_mean(ct.talk) * interval_scale(ct.talk_scale, p) + hold + (dist_mean(ct.acw) if ct.acw is not None
                                                                          else 0.0)


def agent_work_per_call(s: Scenario, p: int = 0) -> list[float]:
    """Mean agent seconds one arrival of each stream brings: IVR containment and menu hang-ups take
    none, the menu (per tier, by the stream's tier mix) splits the rest over the call types."""
    out = []
    for a in s.arrivals:
        if a.entry != "ivr":
            out.append(handle_time(s.call_types[a.entry], p))
            continue
        ivr = s.ivr
        reach = 1.0 - ivr.contained - ivr.hangup
        tiers = a.tiers or {t: 1.0 / len(s.tiers) for t in s.tiers}
        total = sum(tiers.values()) or 1.0
        work = 0.0
        for tier, share in tiers.items():
            menu = ivr.menu_by_tier.get(tier, ivr.menu)
            msum = sum(menu.values()) or 1.0
            work += share / total * sum(v / msum * handle_time(s.call_types[k], p) for k, v in menu.items())
        out.append(reach * work)
    return out
