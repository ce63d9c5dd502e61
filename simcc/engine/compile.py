"""Flatten a validated scenario into the arrays and small enums both engines read.

Nothing here draws random numbers or knows about events; the kernel
(``simcc.engine._core``) and the SimPy reference (``simcc.engine.reference``)
read the same :class:`CompiledScenario`, which is what makes them agree call
for call. One helper per scenario section; the codes come from
:mod:`simcc.engine.contract`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..model.dists import dist_mean
from ..model.policies import CHOICE_RULES, DEFAULT_CHOICE
from ..model.scenario import Scenario
from .contract import AGENT_RULES, CHOICE_CODES, CLOSING_MODES, DIST_CODES, FILTER_FLAGS, IVR_ENTRY, MAX_WAIT_ACTIONS


@dataclass(frozen=True, eq=False)
class CompiledScenario:
    """Flat arrays of one scenario. Shapes use P intervals, K call types, L tiers, G groups, S streams."""

    n_intervals: int
    n_types: int
    n_tiers: int
    n_groups: int
    n_streams: int
    interval_s: float
    warmup_s: float
    sl_threshold_s: float             # the center's threshold (reports, Erlang answers)
    sl_threshold_k: np.ndarray        # [K] each call type's threshold (answered within T)
    short_abandon_s: float
    trunks: int                       # -1 = unlimited
    tier_priority: int
    policy: int                       # contract.CHOICE_CODES: the freed agent's choice rule
    use_overflow: int
    use_reserve: int
    agent_rule: int                   # contract.AGENT_RULES: which idle agent takes an arriving call
    unstaffed_disconnect: int         # 1: callers of a call type no agent on duty serves are disconnected
    volume_cv: float
    stream_rate: np.ndarray           # [S, P] calls per second
    stream_entry: np.ndarray          # [S] call type or -1 = IVR
    stream_tier_cum: np.ndarray       # [S, L]
    ivr_time_dist: int
    ivr_cut_contained: float
    ivr_cut_hangup: float
    menu_cum: np.ndarray              # [L, K]
    patience_dist: np.ndarray         # [K, L] distribution ids
    patience_scale: np.ndarray        # [P, K] factor on the patience of calls arriving in interval p
    talk_scale: np.ndarray            # [P, K] factor on the talk of calls arriving in interval p
    talk_dist: np.ndarray             # [K, G]
    hold_prob: np.ndarray             # [K, G]
    hold_dist: np.ndarray             # [K, G]
    acw_dist: np.ndarray              # [K, G]
    headcount: np.ndarray             # [P, G]
    absence: np.ndarray               # [G] share of the group's agents absent, drawn per day
    redial_prob: np.ndarray           # [K]
    redial_dist: np.ndarray           # [K]
    redial_max: np.ndarray            # [K] most attempts per caller
    redial_memory: np.ndarray         # [K] 1: a redial is the same caller (same patience and service draws)
    fcr: np.ndarray                   # [K, G] first-call resolution probability
    repeat_dist: np.ndarray           # [K] delay before a repeat call
    transfer_prob: np.ndarray         # [K, G]
    transfer_to: np.ndarray           # [K] target call type, -1 = none (the first, with several)
    transfer_multi: np.ndarray        # [K] 1 if transfers are split over several call types ...
    transfer_cum: np.ndarray          # [K, K] ... by these cumulative shares
    overflow_after_s: np.ndarray      # [K] inf when the type has no secondary groups
    primary_level: np.ndarray         # [K]
    reserve_n: np.ndarray             # [G]
    reserve_tier: np.ndarray          # [G] -1 = none
    reserve_type: np.ndarray          # [G] -1 = none
    weight: np.ndarray                # [K, L] waiting cost weight (weighted_wait)
    service_mean_s: np.ndarray        # [K, G] mean talk + hold
    cb_offer_after_s: np.ndarray      # [K] inf = no callback offer
    cb_accept: np.ndarray             # [K]
    cb_within_s: np.ndarray           # [K]
    balk_prob: np.ndarray             # [K, L, NB] by callers of the type already waiting (last holds)
    max_wait_s: np.ndarray            # [K] inf = none
    max_wait_action: np.ndarray       # [K] 0 message, 1 disconnect
    queue_capacity: np.ndarray        # [K] -1 = unlimited
    conf_prob: np.ndarray             # [K] probability of a conference after talk
    conf_with: np.ndarray             # [K] call type whose agents join, -1 = none
    conf_dist: np.ndarray             # [K] conference duration
    closing_s: float                  # inf = never closes
    closing_mode: int                 # 0 none, 1 serve (drain), 2 clear
    quality_share: np.ndarray         # [K]
    n_tasks: int                      # W outbound task types: quality, then campaigns
    out_groups: np.ndarray            # [W, G]
    out_talk_dist: np.ndarray         # [W]
    out_acw_dist: np.ndarray          # [W]
    campaign_calls: np.ndarray        # [P, W]
    blend_max_queue: int
    blend_min_idle: int
    dialer: int                       # 1 if the scenario has a predictive dialer
    dl_groups: np.ndarray             # [G] 1 if the group's agents take dialled calls
    dl_from_s: float                  # the dialer is on in [dl_from_s, dl_to_s)
    dl_to_s: float
    dl_ratio: float                   # numbers dialled per idle agent of dl_groups
    dl_extra: int                     # ... plus this many
    dl_min_idle: int                  # dial only while this many agents are idle in all groups
    dl_reach: np.ndarray              # [P] right-party contact probability
    dl_time_dist: int
    dl_patience_dist: int
    dl_talk_dist: int
    dl_acw_dist: int
    type_groups_ptr: np.ndarray       # [K+1]
    type_groups: np.ndarray
    type_groups_level: np.ndarray
    group_types_ptr: np.ndarray       # [G+1]
    group_types: np.ndarray
    group_types_level: np.ndarray
    dist_code: np.ndarray             # [D]
    dist_n: np.ndarray
    dist_offset: np.ndarray
    dist_a: np.ndarray
    dist_b: np.ndarray
    dist_values: np.ndarray
    type_names: tuple = field(default=())
    tier_names: tuple = field(default=())
    group_names: tuple = field(default=())
    stream_names: tuple = field(default=())

    @property
    def horizon_s(self) -> float:
        return self.n_intervals * self.interval_s


class _DistTable:
    """Interns distribution specs; the id is the row in the table."""

    def __init__(self):
        self.rows: list[tuple] = []
        self.values: list[float] = []
        self.index: dict = {}

    def add(self, d) -> int:
        key = d.model_dump_json() if d is not None else "zero"
        if key in self.index:
            return self.index[key]
        row = _dist_row(d, self.values)
        self.index[key] = len(self.rows)
        self.rows.append(row)
        return self.index[key]


def weibull_shape(cv: float) -> float:
    """Weibull shape k whose coefficient of variation is ``cv`` (bisection on log k)."""
    def cv_of(k):
        g1 = math.lgamma(1 + 1 / k)
        g2 = math.lgamma(1 + 2 / k)
        return math.sqrt(max(math.exp(g2 - 2 * g1) - 1, 0.0))
    lo, hi = math.log(0.02), math.log(500.0)
    for _ in range(200):
        mid = (lo + hi) / 2
        if cv_of(math.exp(mid)) > cv:
            lo = mid
        else:
            hi = mid
    return math.exp((lo + hi) / 2)


def _dist_row(d, values: list[float]) -> tuple:
    """(code, n, offset, a, b) for one distribution spec."""
    if d is None:
        return (DIST_CODES["deterministic"], 0, 0, 0.0, 0.0)
    kind = d.dist
    code = DIST_CODES["gamma" if kind == "erlang" else kind]
    if kind == "exponential":
        return (code, 0, 0, d.mean_s, 0.0)
    if kind == "deterministic":
        return (code, 0, 0, d.value_s, 0.0)
    if kind == "uniform":
        return (code, 0, 0, d.low_s, d.high_s - d.low_s)
    if kind == "lognormal":
        sigma2 = math.log1p(d.cv * d.cv)
        return (code, 0, 0, math.log(d.mean_s) - sigma2 / 2, math.sqrt(sigma2))
    if kind == "gamma":
        shape = 1.0 / (d.cv * d.cv)
        return (code, 0, 0, shape, d.mean_s / shape)
    if kind == "erlang":
        return (code, 0, 0, float(d.k), d.mean_s / d.k)
    if kind == "weibull":
        k = weibull_shape(d.cv)
        return (code, 0, 0, k, d.mean_s / math.gamma(1 + 1 / k))
    if kind == "empirical":
        offset = len(values)
        values.extend(d.values_s)
        return (code, len(d.values_s), offset, 0.0, 0.0)
    if kind == "triangular":
        offset = len(values)
        values.extend([d.low_s, d.mode_s, d.high_s])
        return (code, 3, offset, d.low_s, d.high_s)
    return (DIST_CODES["never"], 0, 0, 0.0, 0.0)


def _cum(shares: list[float]) -> np.ndarray:
    c = np.cumsum(np.asarray(shares, dtype=np.float64))
    c[-1] = 1.0   # guard against rounding: the last category catches u near 1
    return c



def _spec(s: Scenario, call_type: str, group, field: str):
    """A handling field for (call type, group): the group's override, else the call type's."""
    o = group.handling.get(call_type)
    if o is not None and getattr(o, field) is not None:
        return getattr(o, field)
    return getattr(s.call_types[call_type], field)


class _Compiler:
    """One method per scenario section; each returns the CompiledScenario fields it owns."""

    def __init__(self, s: Scenario):
        self.s = s
        self.types = list(s.call_types)
        self.tiers = list(s.tiers)
        self.groups = list(s.groups)
        self.gnames = [g.name for g in self.groups]
        self.K, self.L, self.G = len(self.types), len(self.tiers), len(self.groups)
        self.S, self.P = len(s.arrivals), s.n_intervals
        self.table = _DistTable()
        self.table.add(None)   # id 0: zero (no after-call work)

    def arrivals(self) -> dict:
        s, types, tiers = self.s, self.types, self.tiers
        rate = np.zeros((self.S, self.P))
        entry = np.zeros(self.S, dtype=np.int32)
        tier_cum = np.zeros((self.S, self.L))
        for i, a in enumerate(s.arrivals):
            rate[i] = np.asarray(s.calls_per_interval(a), dtype=np.float64) / s.interval_s
            entry[i] = IVR_ENTRY if a.entry == "ivr" else types.index(a.entry)
            tier_shares = a.tiers or {tiers[0]: 1.0}
            tier_cum[i] = _cum([tier_shares.get(t, 0.0) for t in tiers])
        return dict(stream_rate=rate, stream_entry=entry, stream_tier_cum=tier_cum, volume_cv=s.volume_cv)

    def ivr(self) -> dict:
        s, types = self.s, self.types
        menu_cum = np.zeros((self.L, self.K))
        ivr_time, cut_contained, cut_hangup = 0, 0.0, 0.0
        if s.ivr is not None:
            ivr_time = self.table.add(s.ivr.menu_time)
            cut_contained = s.ivr.contained
            cut_hangup = s.ivr.contained + s.ivr.hangup
            for l, t in enumerate(self.tiers):
                menu = s.ivr.menu_by_tier.get(t, s.ivr.menu)
                menu_cum[l] = _cum([menu.get(k, 0.0) for k in types])
        else:
            menu_cum[:] = _cum([1.0] + [0.0] * (self.K - 1))
        return dict(ivr_time_dist=ivr_time, ivr_cut_contained=cut_contained, ivr_cut_hangup=cut_hangup,
                    menu_cum=menu_cum)

    def handling(self) -> dict:
        s, add, K, L, G = self.s, self.table.add, self.K, self.L, self.G
        patience = np.zeros((K, L), dtype=np.int32)
        talk = np.zeros((K, G), dtype=np.int32)
        hold_prob = np.zeros((K, G))
        hold = np.zeros((K, G), dtype=np.int32)
        acw = np.zeros((K, G), dtype=np.int32)
        service_mean = np.zeros((K, G))
        for k, name in enumerate(self.types):
            ct = s.call_types[name]
            for l, t in enumerate(self.tiers):
                patience[k, l] = add(ct.patience_by_tier.get(t, ct.patience))
            for g, grp in enumerate(self.groups):
                talk[k, g] = add(_spec(s, name, grp, "talk"))
                hold_prob[k, g] = _spec(s, name, grp, "hold_prob")
                hold[k, g] = add(_spec(s, name, grp, "hold"))
                acw[k, g] = add(_spec(s, name, grp, "acw"))
        for k, name in enumerate(self.types):
            for g, grp in enumerate(self.groups):
                talk_mean = dist_mean(_spec(s, name, grp, "talk"))
                hold_spec = _spec(s, name, grp, "hold")
                hold_mean = dist_mean(hold_spec) if hold_spec is not None else 0.0
                service_mean[k, g] = max(talk_mean + hold_prob[k, g] * hold_mean, 1e-9)
        scales = {key: np.ones((self.P, K)) for key in ("patience_scale", "talk_scale")}
        for k, name in enumerate(self.types):
            for key, a in scales.items():
                value = getattr(s.call_types[name], key)
                if value is not None:
                    a[:, k] = value
        return dict(patience_dist=patience, talk_dist=talk, hold_prob=hold_prob, hold_dist=hold, acw_dist=acw,
                    service_mean_s=service_mean, **scales)

    def callers(self) -> dict:
        """Redials, repeat calls (first-call resolution), transfers and callback offers."""
        s, add, K, G = self.s, self.table.add, self.K, self.G
        redial_prob = np.zeros(K)
        redial_dist = np.zeros(K, dtype=np.int32)
        redial_max = np.ones(K, dtype=np.int32)
        redial_memory = np.zeros(K, dtype=np.int32)
        fcr = np.ones((K, G))
        repeat_dist = np.zeros(K, dtype=np.int32)
        transfer_prob = np.zeros((K, G))
        transfer_to = np.full(K, -1, dtype=np.int32)
        transfer_multi = np.zeros(K, dtype=np.int32)
        transfer_cum = np.ones((K, K))
        cb_offer = np.full(K, np.inf)
        cb_accept = np.zeros(K)
        cb_within = np.full(K, np.inf)
        for k, name in enumerate(self.types):
            ct = s.call_types[name]
            if ct.redial is not None:
                redial_prob[k] = ct.redial.prob
                redial_dist[k] = add(ct.redial.delay)
                redial_max[k] = ct.redial.max_attempts
                redial_memory[k] = int(ct.redial.memory)
            if ct.repeat_delay is not None:
                repeat_dist[k] = add(ct.repeat_delay)
            if ct.transfer is not None:
                targets = ct.transfer.targets
                transfer_to[k] = self.types.index(next(iter(targets)))
                if isinstance(ct.transfer.to, dict):
                    transfer_multi[k] = 1
                    transfer_cum[k] = _cum([targets.get(t, 0.0) for t in self.types])
            for g, grp in enumerate(self.groups):
                fcr[k, g] = _spec(s, name, grp, "fcr")
                if ct.transfer is not None:
                    o = grp.handling.get(name)
                    transfer_prob[k, g] = (o.transfer_prob if o is not None and o.transfer_prob is not None
                                           else ct.transfer.prob)
            if ct.callback is not None:
                cb_offer[k], cb_accept[k], cb_within[k] = (ct.callback.offer_after_s, ct.callback.accept_prob,
                                                           ct.callback.within_s)
        return dict(redial_prob=redial_prob, redial_dist=redial_dist, redial_max=redial_max,
                    redial_memory=redial_memory, fcr=fcr,
                    repeat_dist=repeat_dist, transfer_prob=transfer_prob, transfer_to=transfer_to,
                    transfer_multi=transfer_multi, transfer_cum=transfer_cum,
                    cb_offer_after_s=cb_offer, cb_accept=cb_accept, cb_within_s=cb_within)

    def queueing(self) -> dict:
        """Balking, the maximum wait, queue capacities and closing."""
        s, K, L = self.s, self.K, self.L

        def as_list(p):
            return list(p) if isinstance(p, list) else [p]
        lists = {}
        for k, name in enumerate(self.types):
            b = s.call_types[name].balking
            for l, tier in enumerate(self.tiers):
                if b is not None:
                    lists[k, l] = as_list(b.by_tier.get(tier, b.prob))
        nb = max((len(v) for v in lists.values()), default=1)
        balk = np.zeros((K, L, nb))
        for (k, l), v in lists.items():
            balk[k, l, :len(v)] = v
            balk[k, l, len(v):] = v[-1]
        max_wait = np.full(K, np.inf)
        action = np.zeros(K, dtype=np.int32)
        cap = np.full(K, -1, dtype=np.int64)
        for k, name in enumerate(self.types):
            ct = s.call_types[name]
            if ct.max_wait is not None:
                max_wait[k] = ct.max_wait.after_s
                action[k] = MAX_WAIT_ACTIONS[ct.max_wait.action]
            if ct.queue_capacity is not None:
                cap[k] = ct.queue_capacity
        conf_prob = np.zeros(K)
        conf_with = np.full(K, -1, dtype=np.int32)
        conf_dist = np.zeros(K, dtype=np.int32)
        for k, name in enumerate(self.types):
            cf = s.call_types[name].conference
            if cf is not None:
                conf_prob[k], conf_with[k] = cf.prob, self.types.index(cf.with_type)
                conf_dist[k] = self.table.add(cf.duration)
        closing_s, mode = math.inf, CLOSING_MODES["none"]
        if s.closing is not None:
            closing_s, mode = s.closing.at_minutes * 60.0, CLOSING_MODES[s.closing.queue]
        return dict(balk_prob=balk, max_wait_s=max_wait, max_wait_action=action, queue_capacity=cap,
                    conf_prob=conf_prob, conf_with=conf_with, conf_dist=conf_dist,
                    closing_s=closing_s, closing_mode=mode)

    def groups_and_skills(self) -> dict:
        """Headcount, and who serves what, best level first (level 1 = best)."""
        s, types, groups = self.s, self.types, self.groups
        headcount = np.zeros((self.P, self.G), dtype=np.int32)
        for g, grp in enumerate(groups):
            headcount[:, g] = s.agents_per_interval(grp)
        self.tg = [sorted((grp.skills[name], g) for g, grp in enumerate(groups) if name in grp.skills)
                   for name in types]
        gt = [sorted((lvl, types.index(name)) for name, lvl in grp.skills.items()) for grp in groups]
        return dict(
            headcount=headcount, absence=np.array([grp.absence for grp in groups], dtype=np.float64),
            type_groups_ptr=np.cumsum([0] + [len(x) for x in self.tg]).astype(np.int32),
            type_groups=np.array([g for x in self.tg for _, g in x], dtype=np.int32),
            type_groups_level=np.array([lv for x in self.tg for lv, _ in x], dtype=np.int32),
            group_types_ptr=np.cumsum([0] + [len(x) for x in gt]).astype(np.int32),
            group_types=np.array([k for x in gt for _, k in x], dtype=np.int32),
            group_types_level=np.array([lv for x in gt for lv, _ in x], dtype=np.int32))

    def routing(self) -> dict:
        """The policy registry's choice rule and filters, and their parameters (after groups_and_skills)."""
        r, types, tiers, K, G = self.s.routing, self.types, self.tiers, self.K, self.G
        names = r.policies
        choice = next((p for p in names if p in CHOICE_RULES), DEFAULT_CHOICE)
        primary = np.array([x[0][0] if x else 0 for x in self.tg], dtype=np.int32)
        overflow_after = np.full(K, np.inf)
        for k, name in enumerate(types):
            if any(level > primary[k] for level, _ in self.tg[k]):
                overflow_after[k] = (r.overflow_after_s.get(name, 20.0) if isinstance(r.overflow_after_s, dict)
                                     else r.overflow_after_s)
        reserve_n = np.zeros(G, dtype=np.int32)
        reserve_tier = np.full(G, -1, dtype=np.int32)
        reserve_type = np.full(G, -1, dtype=np.int32)
        for rv in r.reserve:
            g = self.gnames.index(rv.group)
            reserve_n[g] = rv.agents
            reserve_tier[g] = tiers.index(rv.tier) if rv.tier is not None else -1
            reserve_type[g] = types.index(rv.call_type) if rv.call_type is not None else -1
        weight = np.array([[r.weights.get(k, 1.0) * r.tier_weights.get(t, 1.0) for t in tiers] for k in types])
        flags = {flag: int(name in names) for name, flag in FILTER_FLAGS.items()}
        return dict(policy=CHOICE_CODES[choice], tier_priority=int(r.tier_priority), **flags,
                    agent_rule=AGENT_RULES[r.agent_selection], unstaffed_disconnect=int(r.unstaffed == "disconnect"),
                    overflow_after_s=overflow_after, primary_level=primary, reserve_n=reserve_n,
                    reserve_tier=reserve_tier, reserve_type=reserve_type, weight=weight)

    def outbound(self) -> dict:
        o, add, types, gnames = self.s.outbound, self.table.add, self.types, self.gnames
        W = 1 + len(o.campaigns)
        quality_share = np.zeros(self.K)
        out_groups = np.zeros((W, self.G), dtype=np.int32)
        out_talk = np.zeros(W, dtype=np.int32)
        out_acw = np.zeros(W, dtype=np.int32)
        campaign_calls = np.zeros((self.P, W), dtype=np.int32)
        if o.quality is not None:
            for name, share in o.quality.share.items():
                quality_share[types.index(name)] = share
            for name in o.quality.groups:
                out_groups[0, gnames.index(name)] = 1
            out_talk[0] = add(o.quality.talk)
            out_acw[0] = add(o.quality.acw)
        for w, c in enumerate(o.campaigns, start=1):
            for name in c.groups:
                out_groups[w, gnames.index(name)] = 1
            out_talk[w] = add(c.talk)
            out_acw[w] = add(c.acw)
            campaign_calls[:, w] = c.calls if isinstance(c.calls, list) else [c.calls] * self.P
        return dict(quality_share=quality_share, n_tasks=W, out_groups=out_groups, out_talk_dist=out_talk,
                    out_acw_dist=out_acw, campaign_calls=campaign_calls, blend_max_queue=o.max_queue,
                    blend_min_idle=o.min_idle, **self.dialer(o.dialer))

    def dialer(self, d) -> dict:
        add, horizon = self.table.add, self.P * self.s.interval_s
        dl_groups = np.zeros(self.G, dtype=np.int32)
        if d is None:
            return dict(dialer=0, dl_groups=dl_groups, dl_from_s=0.0, dl_to_s=0.0, dl_ratio=0.0, dl_extra=0,
                        dl_min_idle=0, dl_reach=np.zeros(self.P), dl_time_dist=0, dl_patience_dist=0,
                        dl_talk_dist=0, dl_acw_dist=0)
        for name in d.groups:
            dl_groups[self.gnames.index(name)] = 1
        reach = np.array(d.reach_prob if isinstance(d.reach_prob, list) else [d.reach_prob] * self.P,
                         dtype=np.float64)
        return dict(dialer=1, dl_groups=dl_groups, dl_from_s=d.from_minutes * 60.0,
                    dl_to_s=horizon if d.to_minutes is None else d.to_minutes * 60.0, dl_ratio=float(d.ratio),
                    dl_extra=d.extra, dl_min_idle=d.min_idle_agents, dl_reach=reach, dl_time_dist=add(d.dial_time),
                    dl_patience_dist=add(d.patience), dl_talk_dist=add(d.talk), dl_acw_dist=add(d.acw))

    def distributions(self) -> dict:
        """The interned distribution table (after every section added its specs)."""
        rows = np.array(self.table.rows, dtype=object)
        values = self.table.values
        return dict(dist_code=rows[:, 0].astype(np.int32), dist_n=rows[:, 1].astype(np.int32),
                    dist_offset=rows[:, 2].astype(np.int64), dist_a=rows[:, 3].astype(np.float64),
                    dist_b=rows[:, 4].astype(np.float64),
                    dist_values=np.asarray(values, dtype=np.float64) if values else np.zeros(1))


def compile_scenario(s: Scenario) -> CompiledScenario:
    """Flatten a validated scenario.

    Examples
    --------
    >>> from simcc.model.textbook import erlang
    >>> cs = compile_scenario(erlang(arrival_rate=0.5, mean_talk_s=180, agents=100, hours=2))
    >>> cs.n_intervals, cs.headcount[:, 0].tolist()
    (4, [100, 100, 100, 100])
    """
    c = _Compiler(s)
    fields = dict(
        n_intervals=c.P, n_types=c.K, n_tiers=c.L, n_groups=c.G, n_streams=c.S,
        interval_s=s.interval_s, warmup_s=s.warmup_minutes * 60.0,
        sl_threshold_s=s.sl_threshold_s, short_abandon_s=s.sla.short_abandon_s,
        sl_threshold_k=np.array([s.sl_threshold_for(k) for k in s.call_types], dtype=np.float64),
        trunks=-1 if s.trunks is None else s.trunks,
        type_names=tuple(c.types), tier_names=tuple(c.tiers), group_names=tuple(c.gnames),
        stream_names=tuple(a.name for a in s.arrivals))
    # the order of the sections is the order distributions are interned in (ids are part of the arrays)
    for section in (c.arrivals, c.ivr, c.handling, c.callers, c.queueing, c.groups_and_skills, c.routing,
                    c.outbound, c.distributions):
        fields.update(section())
    return CompiledScenario(**fields)
