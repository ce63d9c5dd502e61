"""Hypothesis strategies: small random valid scenarios that exercise every model feature."""
from hypothesis import strategies as st

import simcc

TIERS = ["vip", "standard"]


def dist(min_mean=1.0, max_mean=300.0, allow_never=False, allow_zero=False):
    mean = st.floats(min_mean, max_mean)
    cv = st.floats(0.2, 2.0)
    options = [
        st.builds(lambda m: {"dist": "exponential", "mean_s": m}, mean),
        st.builds(lambda m, c: {"dist": "lognormal", "mean_s": m, "cv": c}, mean, cv),
        st.builds(lambda m, c: {"dist": "gamma", "mean_s": m, "cv": c}, mean, cv),
        st.builds(lambda m, k: {"dist": "erlang", "mean_s": m, "k": k}, mean, st.integers(1, 5)),
        st.builds(lambda m, c: {"dist": "weibull", "mean_s": m, "cv": c}, mean, st.floats(0.3, 2.0)),
        st.builds(
            lambda lo, w: {"dist": "uniform", "low_s": lo, "high_s": lo + w}, st.floats(0, 50), st.floats(1, 200)
        ),
        st.builds(
            lambda v: {"dist": "empirical", "values_s": v}, st.lists(st.floats(0.5, 300), min_size=1, max_size=5)
        ),
        st.builds(
            lambda lo, a, b: {"dist": "triangular", "low_s": lo, "mode_s": lo + a, "high_s": lo + a + b},
            st.floats(0, 50), st.floats(0, 200), st.floats(1, 200)
        ),
    ]
    if allow_never:
        options.append(st.just({"dist": "never"}))
    if allow_zero:
        options.append(st.just({"dist": "deterministic", "value_s": 0.0}))
    return st.one_of(options)


@st.composite
def scenarios(draw, max_agents=6, max_intervals=4, max_rate_per_min=3.0):
    n_types = draw(st.integers(1, 3))
    types = [f"t{i}" for i in range(n_types)]
    n_tiers = draw(st.integers(1, 2))
    tiers = TIERS[:n_tiers]
    n_intervals = draw(st.integers(1, max_intervals))
    interval_minutes = 15

    def shares(names):
        w = draw(st.lists(st.integers(0, 5), min_size=len(names), max_size=len(names)).filter(lambda x: sum(x) > 0))
        total = sum(w)
        out = {n: x / total for n, x in zip(names, w)}
        # exact sum to 1 for the validator
        last = names[-1] if w[-1] else max(names, key=lambda n: out[n])
        out[last] = 1.0 - sum(v for n, v in out.items() if n != last)
        return out

    call_types = {}
    for k in types:
        ct = {"patience": draw(dist(5, 400, allow_never=True)), "talk": draw(dist(10, 400))}
        if draw(st.booleans()):
            ct["hold_prob"] = draw(st.floats(0, 1))
            ct["hold"] = draw(dist(1, 120))
        if draw(st.booleans()):
            ct["acw"] = draw(dist(1, 120, allow_zero=True))
        if n_tiers > 1 and draw(st.booleans()):
            ct["patience_by_tier"] = {"vip": draw(dist(5, 400, allow_never=True))}
        for key in ("talk_scale", "patience_scale"):
            if draw(st.integers(0, 3)) == 0:
                ct[key] = draw(st.lists(st.floats(0.2, 3.0), min_size=n_intervals, max_size=n_intervals))
        if draw(st.booleans()):
            ct["redial"] = {
                "prob": draw(st.floats(0, 1)),
                "delay": draw(dist(1, 300)),
                "max_attempts": draw(st.integers(1, 4)),
                "memory": draw(st.booleans()),
            }
        if draw(st.booleans()):
            ct["fcr"] = draw(st.floats(0.5, 1))
            ct["repeat_delay"] = draw(dist(10, 900))
        if draw(st.booleans()):
            ct["callback"] = {
                "offer_after_s": draw(st.floats(0, 120)),
                "accept_prob": draw(st.floats(0, 1)),
                "within_s": draw(st.floats(60, 1800)),
            }
        if n_types > 1 and draw(st.booleans()):
            others = [t for t in types if t != k]
            ct["transfer"] = {
                "prob": draw(st.floats(0, 0.5)),
                "to": draw(st.sampled_from(others)) if len(others) == 1 or draw(st.booleans()) else shares(others),
            }
        if draw(st.booleans()):
            ct["balking"] = {"prob": draw(st.one_of(st.floats(0, 1), st.lists(st.floats(0, 1), min_size=1,
                                                                                 max_size=4)))}
            if n_tiers > 1 and draw(st.booleans()):
                ct["balking"]["by_tier"] = {"vip": draw(st.floats(0, 0.3))}
        if draw(st.booleans()):
            ct["max_wait"] = {"after_s": draw(st.floats(0, 200)),
                              "action": draw(st.sampled_from(["message", "callback", "disconnect"]))}
        if draw(st.booleans()):
            ct["queue_capacity"] = draw(st.integers(0, 4))
        if draw(st.booleans()):
            ct["conference"] = {"prob": draw(st.floats(0, 1)), "with_type": draw(st.sampled_from(types)),
                                "duration": draw(dist(1, 200))}
        call_types[k] = ct

    n_groups = draw(st.integers(1, 3))
    groups = []
    for i in range(n_groups):
        skills = {k: draw(st.integers(1, 3)) for k in types if draw(st.booleans())}
        agents = draw(st.lists(st.integers(0, max_agents), min_size=n_intervals, max_size=n_intervals))
        groups.append({"name": f"g{i}", "agents": agents, "skills": skills})
    served = set().union(*[g["skills"] for g in groups])
    for k in types:  # every call type served by someone
        if k not in served:
            groups[draw(st.integers(0, n_groups - 1))]["skills"][k] = draw(st.integers(1, 3))
    for g in groups:
        if g["skills"] and draw(st.booleans()):
            k = draw(st.sampled_from(sorted(g["skills"])))
            g["handling"] = {k: {"talk": draw(dist(10, 300))}}

    use_ivr = draw(st.booleans())
    arrivals = []
    for s in range(draw(st.integers(1, 2))):
        entry = "ivr" if use_ivr and draw(st.booleans()) else draw(st.sampled_from(types))
        calls = draw(
            st.lists(st.floats(0, max_rate_per_min * interval_minutes), min_size=n_intervals, max_size=n_intervals)
        )
        a = {"name": f"s{s}", "entry": entry, "calls": calls}
        if n_tiers > 1:
            a["tiers"] = shares(tiers)
        arrivals.append(a)
    rule = draw(st.sampled_from(["priority", "weighted_wait"]))
    extra = [p for p in ("overflow", "reserve") if draw(st.booleans())]
    routing = {
        "policy": [rule] + extra,
        "tier_priority": draw(st.booleans()),
        "overflow_after_s": draw(st.floats(0, 120)),
        "weights": {k: draw(st.floats(0.5, 5)) for k in types if draw(st.booleans())},
        "agent_selection": draw(st.sampled_from(["longest_idle", "random", "group_order"])),
        "unstaffed": draw(st.sampled_from(["wait", "wait", "disconnect"])),
    }
    if "reserve" in extra:
        g = draw(st.sampled_from(groups))
        who = (
            {"tier": draw(st.sampled_from(tiers))}
            if draw(st.booleans())
            else {"call_type": draw(st.sampled_from(types))}
        )
        routing["reserve"] = [{"group": g["name"], "agents": draw(st.integers(1, 3)), **who}]
    data = {
        "name": "random",
        "interval_minutes": interval_minutes,
        "intervals": n_intervals,
        "tiers": tiers,
        "call_types": call_types,
        "arrivals": arrivals,
        "groups": groups,
        "routing": routing,
        "sla": {
            "service_level": {"percent": 80.0, "within_s": draw(st.floats(0, 60))},
            "short_abandon_s": draw(st.sampled_from([0.0, 5.0])),
        },
        "warmup_minutes": draw(st.sampled_from([0.0, 15.0])) if n_intervals > 1 else 0.0,
        "volume_cv": draw(st.sampled_from([0.0, 0.0, 0.2])),
    }
    if draw(st.booleans()):
        data["trunks"] = draw(st.integers(0, 12))
    if draw(st.booleans()):
        data["closing"] = {"at_minutes": draw(st.floats(0, n_intervals * interval_minutes)),
                           "queue": draw(st.sampled_from(["serve", "clear"]))}
    if draw(st.booleans()):
        names = [g["name"] for g in groups]
        outbound = {"max_queue": draw(st.integers(0, 3)), "min_idle": draw(st.integers(0, 2))}
        if draw(st.booleans()):
            outbound["quality"] = {
                "share": {k: draw(st.floats(0, 0.5)) for k in types},
                "groups": draw(st.lists(st.sampled_from(names), min_size=1, max_size=2, unique=True)),
                "talk": draw(dist(10, 200)),
                "acw": draw(dist(1, 60, allow_zero=True)),
            }
        if draw(st.booleans()):
            outbound["campaigns"] = [
                {
                    "name": "c0",
                    "calls": draw(st.lists(st.integers(0, 10), min_size=n_intervals, max_size=n_intervals)),
                    "groups": draw(st.lists(st.sampled_from(names), min_size=1, max_size=2, unique=True)),
                    "talk": draw(dist(10, 200)),
                }
            ]
        if draw(st.booleans()):
            horizon = n_intervals * interval_minutes
            start = draw(st.sampled_from([0.0, horizon / 3]))
            outbound["dialer"] = {
                "groups": draw(st.lists(st.sampled_from(names), min_size=1, max_size=2, unique=True)),
                "from_minutes": start,
                "to_minutes": draw(st.sampled_from([None, start + (horizon - start) / 2])),
                "ratio": draw(st.sampled_from([0.5, 1.0, 2.0])),
                "extra": draw(st.integers(-1, 2)),
                "min_idle_agents": draw(st.integers(0, 2)),
                "reach_prob": draw(st.floats(0.1, 0.9)),
                "dial_time": draw(dist(1, 30, allow_zero=True)),
                "patience": draw(dist(1, 30, allow_zero=True, allow_never=True)),
                "talk": draw(dist(10, 200)),
                "acw": draw(dist(1, 60, allow_zero=True)),
            }
        data["outbound"] = outbound
    if use_ivr:
        data["ivr"] = {
            "menu_time": draw(dist(5, 90)),
            "contained": draw(st.floats(0, 0.5)),
            "hangup": draw(st.floats(0, 0.2)),
            "menu": shares(types),
        }
        if n_tiers > 1 and draw(st.booleans()):
            data["ivr"]["menu_by_tier"] = {"vip": shares(types)}
    return simcc.from_dict(data)
