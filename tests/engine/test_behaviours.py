"""Each caller and agent behaviour in isolation: redials, repeat calls, transfers, callbacks,
outbound blending, rosters and routing policies. Fixed seeds; where a rate is checked, the
tolerance is a binomial 99.9% interval."""
import math

import numpy as np
import pytest

import simcc
from simcc import compare
from simcc.engine.compile import compile_scenario
from simcc.engine.contract import OUTCOME_CODES
from simcc.engine.replication import run_replication
from simcc.engine.streams import root_entropy
from simcc.model.edits import policy_variant

EXP = lambda m: {"dist": "exponential", "mean_s": m}  # noqa: E731
ZERO = {"dist": "deterministic", "value_s": 0.0}


def center(**over):
    """One call type, one group; keyword arguments replace or extend top-level keys."""
    data = {
        "interval_minutes": 30, "intervals": 8,
        "call_types": {"c": {"patience": EXP(60.0), "talk": EXP(180.0)}},
        "arrivals": [{"name": "in", "entry": "c", "calls": 300.0}],
        "groups": [{"name": "g", "agents": 30, "skills": {"c": 1}}],
    }
    for k, v in over.items():
        data[k] = v
    return simcc.from_dict(data)


def raw_of(s, seed=1, log=False):
    raw, _ = run_replication(compile_scenario(s), root_entropy(seed), 0, call_log=log)
    return raw


def within(k, n, p, z=3.3):
    """k successes in n trials is consistent with probability p (99.9%)."""
    return abs(k - n * p) <= z * math.sqrt(n * p * (1 - p)) + 1


def test_redial_prob_one_zero_delay_conserves_callers():
    ct = {"c": {"patience": EXP(20.0), "talk": EXP(180.0),
                "redial": {"prob": 1.0, "delay": ZERO, "max_attempts": 4}}}
    s = center(call_types=ct, trunks=28)
    raw = raw_of(s)
    tot = {k: int(raw[k].sum()) for k in ("offered", "redials", "answered", "blocked", "abandoned",
                                          "in_queue_end", "in_ivr_end")}
    unique = tot["offered"] - tot["redials"]
    assert unique == raw["n_arrivals"] and tot["redials"] > 0
    # every caller ends answered, given up (blocked or abandoned on the last attempt) or still waiting
    given_up = tot["blocked"] + tot["abandoned"] - tot["redials"]
    assert unique == tot["answered"] + given_up + tot["in_queue_end"] + tot["in_ivr_end"]


def test_no_redial_without_the_block():
    raw = raw_of(center(trunks=20))
    assert raw["blocked"].sum() > 0 and raw["redials"].sum() == 0


def test_first_call_resolution_measured():
    ct = {"c": {"patience": EXP(60.0), "talk": EXP(180.0), "fcr": 0.8, "repeat_delay": EXP(600.0)}}
    s = center(call_types=ct, groups=[{"name": "g", "agents": 40, "skills": {"c": 1}}])
    r = simcc.simulate(s, seed=2, replications=3)
    answered = r.kpi("answered").sum()
    unresolved = (1 - r.kpi("fcr")) * r.kpi("answered")
    assert within(unresolved.sum(), answered, 0.2)
    assert r.kpi("repeat_calls").sum() > 0.8 * unresolved.sum()   # most repeat calls come back before the horizon


def test_transfer_share_and_specialist_queue():
    ct = {"c": {"patience": EXP(60.0), "talk": EXP(120.0), "transfer": {"prob": 0.3, "to": "spec"}},
          "spec": {"patience": EXP(120.0), "talk": EXP(200.0)}}
    groups = [{"name": "front", "agents": 25, "skills": {"c": 1}},
              {"name": "specialists", "agents": 12, "skills": {"spec": 1}}]
    raw = raw_of(center(call_types=ct, groups=groups), log=True)
    answered = raw["answered"][:, 0].sum()
    assert within(raw["transferred"][:, 0].sum(), answered, 0.3)
    log = raw["call_log"]
    spec_answers = log[(log["outcome"] == 3) & (log["call_type"] == 1)]
    assert len(spec_answers) > 0 and np.all(spec_answers["group"] == 1)
    assert raw["transfer_answered"][:, 1].sum() == len(spec_answers)


def test_callbacks_free_lines_and_reduce_blocking():
    base_ct = {"patience": EXP(600.0), "talk": EXP(180.0)}
    without = center(call_types={"c": base_ct}, trunks=40,
                     groups=[{"name": "g", "agents": 28, "skills": {"c": 1}}])
    with_cb = center(call_types={"c": {**base_ct, "callback": {"offer_after_s": 30.0, "accept_prob": 0.8,
                                                               "within_s": 1800.0}}},
                     trunks=40, groups=[{"name": "g", "agents": 28, "skills": {"c": 1}}],
                     outbound={"max_queue": 5})
    a = simcc.simulate(without, seed=4, replications=3).summary()
    b = simcc.simulate(with_cb, seed=4, replications=3).summary()
    assert b["callbacks"]["mean"] > 0
    assert b["blocking_rate"]["mean"] < a["blocking_rate"]["mean"]
    assert b["lines_mean"]["mean"] < a["lines_mean"]["mean"]


def test_quality_callbacks_share_and_blending():
    ct = {"c": {"patience": EXP(60.0), "talk": EXP(180.0)}}
    outbound = {"quality": {"share": {"c": 0.1}, "groups": ["g"], "talk": EXP(60.0)}}
    raw = raw_of(center(call_types=ct, outbound=outbound, groups=[{"name": "g", "agents": 40, "skills": {"c": 1}}]))
    made = raw["outbound_done"][:, 0].sum() + raw["outbound_end"][0]
    assert within(made, raw["answered"].sum(), 0.1)
    # a blending rule no group can satisfy: no outbound work at all
    blocked = {**outbound, "min_idle": 1000}
    raw = raw_of(center(call_types=ct, outbound=blocked, groups=[{"name": "g", "agents": 40, "skills": {"c": 1}}]))
    assert raw["outbound_done"].sum() == 0 and raw["outbound_end"][0] > 0


def test_campaign_volume_is_worked_between_calls():
    outbound = {"campaigns": [{"name": "survey", "calls": 50, "groups": ["g"], "talk": EXP(90.0)}]}
    raw = raw_of(center(outbound=outbound, groups=[{"name": "g", "agents": 40, "skills": {"c": 1}}]))
    assert raw["outbound_done"][:, 1].sum() + raw["outbound_end"][1] == 50 * 8
    assert raw["outbound_busy_s"].sum() > 0


def test_roster_headcount_is_what_the_shifts_imply():
    roster = {"shifts": [{"start": "00:00", "hours": 2, "agents": 7},
                         {"start": "01:00", "hours": 3, "agents": 5, "breaks": [{"start": "02:00", "minutes": 30}]}]}
    s = center(groups=[{"name": "g", "roster": roster, "skills": {"c": 1}}],
               arrivals=[{"name": "in", "entry": "c", "calls": 0.0}])
    expected = [7, 7, 12, 12, 0, 5, 5, 5]     # 7 on 00:00-02:00; 5 on 01:00-04:00 with a break at 02:00
    assert s.agents_per_interval(s.groups[0]) == expected
    r = simcc.simulate(s, seed=1)
    assert r.by_interval()["agents"].tolist() == expected
    with pytest.raises(simcc.ScenarioError, match="no night shifts"):
        center(groups=[{"name": "g", "skills": {"c": 1}, "roster": {
            "rules": {"parents": {"no_night_shifts": True}},
            "shifts": [{"start": "00:00", "hours": 4, "agents": 3, "subgroup": "parents"}]}}])


def test_overflow_secondary_group_waits_for_threshold():
    groups = [{"name": "primary", "agents": 10, "skills": {"c": 1}},
              {"name": "backup", "agents": 10, "skills": {"c": 2}}]
    s = center(groups=groups, routing={"policy": ["priority", "overflow"], "overflow_after_s": 12.0},
               arrivals=[{"name": "in", "entry": "c", "calls": 180.0}])
    log = raw_of(s, log=True)["call_log"]
    backup = log[(log["outcome"] == 3) & (log["group"] == 1)]
    assert len(backup) > 0
    assert np.all(backup["wait_s"] >= 12.0 - 1e-9)
    plain = raw_of(policy_variant(s, "priority"), log=True)["call_log"]
    assert np.any(plain[(plain["outcome"] == 3) & (plain["group"] == 1)]["wait_s"] < 12.0)


def test_reserve_protects_vip_service():
    data = dict(tiers=["vip", "standard"],
                arrivals=[{"name": "in", "entry": "c", "calls": 330.0, "tiers": {"vip": 0.1, "standard": 0.9}}],
                routing={"policy": ["priority", "reserve"], "tier_priority": False,
                         "reserve": [{"group": "g", "agents": 2, "tier": "vip"}]})
    s = center(**data)
    with_reserve = simcc.simulate(s, seed=5, replications=4)
    without = simcc.simulate(policy_variant(s, "priority"), seed=5, replications=4)
    vip = lambda r: r.totals["answered_within"][:, :, 0].sum() / r.totals["queued"][:, :, 0].sum()  # noqa: E731
    std = lambda r: r.totals["answered_within"][:, :, 1].sum() / r.totals["queued"][:, :, 1].sum()  # noqa: E731
    assert vip(with_reserve) > vip(without) + 0.05
    assert std(with_reserve) < std(without)


def test_weighted_wait_favours_the_heavy_call_type():
    ct = {"a": {"patience": EXP(90.0), "talk": EXP(180.0)}, "b": {"patience": EXP(90.0), "talk": EXP(180.0)}}
    s = center(
        call_types=ct,
        arrivals=[{"name": "a", "entry": "a", "calls": 160.0}, {"name": "b", "entry": "b", "calls": 160.0}],
        groups=[{"name": "g", "agents": 31, "skills": {"a": 1, "b": 1}}],
        routing={"policy": "weighted_wait", "weights": {"a": 5.0}},
    )
    r = simcc.simulate(s, seed=6, replications=3)
    asa = r.by_call_type()
    assert asa["a"]["asa_s"] < asa["b"]["asa_s"]


def test_paired_comparison_is_narrower_than_independent_seeds():
    """Common random numbers: the CI of a KPI difference is narrower paired than unpaired."""
    groups = [
        {"name": "primary", "agents": 14, "skills": {"c": 1}},
        {"name": "backup", "agents": 16, "skills": {"c": 2}},
    ]
    s = center(groups=groups, routing={"policy": "priority", "overflow_after_s": 10.0})
    cmp = compare(s, ["priority", "priority+overflow"], seed=7, replications=12, kpis=["service_level", "asa_s"])
    for d in cmp.differences():
        assert d.ci_high - d.ci_low < 2 * d.independent_half_width
    # and unpaired for real: the same variants on independent seeds
    a = simcc.simulate(policy_variant(s, "priority"), seed=8, replications=12).kpi("service_level")
    b = simcc.simulate(policy_variant(s, "priority+overflow"), seed=9, replications=12).kpi("service_level")
    paired = next(d for d in cmp.differences() if d.kpi == "service_level")
    unpaired_sd = math.sqrt(a.var(ddof=1) / 12 + b.var(ddof=1) / 12)
    paired_sd = (paired.ci_high - paired.ci_low) / 2 / 2.2
    assert paired_sd < unpaired_sd


def test_python_router_plugs_into_the_reference_engine():
    from simcc import Router

    s = center(arrivals=[{"name": "in", "entry": "c", "calls": 330.0}])
    kernel = simcc.simulate(s, seed=11, replications=2)
    same = simcc.simulate(s, seed=11, replications=2, engine="reference", router=Router)
    assert np.array_equal(kernel.day, same.day, equal_nan=True)  # the base router is the compiled policy

    class NewestFirst(Router):
        """Serve the call that arrived last (LIFO): same throughput, a much longer tail of waits."""

        def pick_call(self, g):
            queue = self.center.queues[0][0]
            return next(reversed(queue)) if queue else None

    lifo = simcc.simulate(s, seed=11, replications=2, engine="reference", router=NewestFirst)
    assert lifo.meta["router"].endswith("NewestFirst")
    assert lifo.summary()["max_wait_s"]["mean"] > kernel.summary()["max_wait_s"]["mean"]
    with pytest.raises(ValueError, match="reference engine"):
        simcc.simulate(s, router=NewestFirst)
    with pytest.raises(ValueError, match="in this process only"):
        simcc.simulate(s, engine="reference", router=NewestFirst, workers=2)


def _unstaffed_primary(engine_check=False):
    """Primary group staffed in intervals 0-1, logged off in 2-3; a large backup group all day."""
    groups = [{"name": "primary", "agents": [10, 10, 0, 0], "skills": {"c": 1}},
              {"name": "backup", "agents": 40, "skills": {"c": 2}}]
    return center(intervals=4, groups=groups,
                  routing={"policy": ["priority", "overflow"], "overflow_after_s": 60.0},
                  arrivals=[{"name": "in", "entry": "c", "calls": [300.0, 300.0, 60.0, 60.0]}],
                  call_types={"c": {"patience": {"dist": "never"}, "talk": EXP(120.0)}})


def test_overflow_threshold_does_not_hold_calls_while_no_primary_agent_is_on_duty():
    log = raw_of(_unstaffed_primary(), log=True)["call_log"]
    answered = log[log["outcome"] == 3]
    late = answered[answered["t_arrive"] >= 3600.0]          # intervals 2-3: only backup agents on duty
    assert len(late) > 50 and np.all(late["group"] == 1)
    assert np.all(late["wait_s"] < 1e-9)                   # 40 idle backup agents: nobody waits 60 s
    t_answer = answered["t_arrive"] + answered["wait_s"]
    early = answered[(t_answer < 3600.0 - 1e-9) & (answered["group"] == 1)]
    assert len(early) > 0 and np.all(early["wait_s"] >= 60.0 - 1e-9)    # primary on duty: the threshold holds


def test_calls_waiting_when_the_last_primary_agent_leaves_go_to_backup_at_once():
    log = raw_of(_unstaffed_primary(), log=True)["call_log"]
    answered = log[log["outcome"] == 3]
    t_answer = answered["t_arrive"] + answered["wait_s"]
    # calls that arrived before 3600 s and were still waiting then: taken by backup at 3600 s exactly,
    # not when their 60 s threshold ends
    carried = answered[(answered["t_arrive"] < 3600.0) & (t_answer >= 3600.0 - 1e-9) & (answered["group"] == 1)]
    assert len(carried) > 0
    carried_t = carried["t_arrive"] + carried["wait_s"]
    assert np.all(np.abs(carried_t - 3600.0) < 1e-6)


def test_unstaffed_primary_rule_is_the_same_on_both_engines():
    cs = compile_scenario(_unstaffed_primary())
    for rep in range(3):
        k, _ = run_replication(cs, root_entropy(5), rep, "kernel")
        r, _ = run_replication(cs, root_entropy(5), rep, "reference")
        for name in ("answered", "answered_within", "wait_s", "queued"):
            assert np.array_equal(k[name], r[name]), name


def _blocked_redials():
    """Trunks bind; callers never abandon, so every redial follows a block at the trunks."""
    return center(intervals=8, trunks=22,
                  call_types={"c": {"patience": {"dist": "never"}, "talk": EXP(180.0),
                                    "redial": {"prob": 1.0, "delay": EXP(60.0), "max_attempts": 6}}},
                  ivr={"menu_time": EXP(40.0), "contained": 0.25, "hangup": 0.05, "menu": {"c": 1.0}},
                  arrivals=[{"name": "in", "entry": "ivr", "calls": 300.0}],
                  groups=[{"name": "g", "agents": 12, "skills": {"c": 1}}])


def test_a_redial_after_a_block_goes_through_the_ivr_like_a_first_attempt():
    raw = raw_of(_blocked_redials())
    tot = {k: int(raw[k].sum()) for k in ("offered", "blocked", "contained", "ivr_abandoned", "redials")}
    admitted = tot["offered"] - tot["blocked"]
    assert tot["redials"] > 0.3 * tot["offered"]                 # blocking binds: many attempts are redials
    assert within(tot["contained"], admitted, 0.25)            # self-service on every admitted attempt
    assert within(tot["ivr_abandoned"], admitted, 0.05)        # menu hang-ups too


def test_blocked_redials_are_the_same_on_both_engines():
    cs = compile_scenario(_blocked_redials())
    for rep in range(2):
        k, _ = run_replication(cs, root_entropy(9), rep, "kernel")
        r, _ = run_replication(cs, root_entropy(9), rep, "reference")
        for name in ("offered", "blocked", "contained", "ivr_abandoned", "redials", "answered", "wait_s"):
            assert np.array_equal(k[name], r[name]), name


# --------------------------------------------------------------------------
# Predictive dialer
# --------------------------------------------------------------------------
def dialer_center(trunks=None, **dialer):
    """Inbound calls to an inbound-only group and a blend group; the dialer calls for the blend group."""
    d = {"groups": ["blend"], "from_minutes": 60.0, "to_minutes": 200.0, "ratio": 2.0, "min_idle_agents": 2,
         "reach_prob": 0.3, "patience": {"dist": "deterministic", "value_s": 5.0}, "talk": EXP(300.0)}
    d.update(dialer)
    data = {
        "interval_minutes": 30, "intervals": 8,
        "call_types": {"c": {"patience": EXP(300.0), "talk": EXP(300.0)}},
        "arrivals": [{"name": "in", "entry": "c", "calls": 150.0}],
        "groups": [{"name": "inbound", "agents": 20, "skills": {"c": 1}},
                   {"name": "blend", "agents": 12, "skills": {"c": 2}}],
        "outbound": {"dialer": d},
    }
    if trunks is not None:
        data["trunks"] = trunks
    return simcc.from_dict(data)


def test_dialer_reach_share_and_conservation():
    raw = raw_of(dialer_center())
    dials, contacts = int(raw["dials"].sum()), int(raw["dial_contacts"].sum())
    assert dials > 500 and within(contacts, dials, 0.3)
    # every reached party is talked to or dropped (the dialer stops well before the horizon)
    assert contacts == raw["dial_served"].sum() + raw["mismatches"].sum()
    assert raw["mismatches"].sum() > 0
    # dials only while the dialer is on: 60 to 200 min, intervals 2 to 6
    per = raw["dials"]
    assert per[:2].sum() == 0 and per[7:].sum() == 0 and per[2:7].min() > 0
    # dialled work shows as outbound time of the blend group only
    assert raw["outbound_busy_s"][:, 0].sum() == 0 and raw["outbound_busy_s"][:, 1].sum() > 0


def test_dialer_respects_its_thresholds_and_the_trunks():
    assert raw_of(dialer_center(min_idle_agents=33))["dials"].sum() == 0    # never 33 idle of 32 agents
    raw = raw_of(dialer_center(trunks=30))
    assert raw["dials"].sum() > 0 and raw["lines_peak"].max() <= 30


def test_dialer_mismatches_fall_with_patience_and_rise_with_the_ratio():
    base = raw_of(dialer_center())
    patient = raw_of(dialer_center(patience={"dist": "exponential", "mean_s": 120.0}))
    eager = raw_of(dialer_center(ratio=4.0))
    rate = lambda r: r["mismatches"].sum() / r["dial_contacts"].sum()  # noqa: E731
    assert rate(patient) < rate(base) < rate(eager)


def test_dialer_with_dialling_time_counts_pending_dials():
    """With a dialling time the dials in progress are subtracted: fewer dials than without."""
    instant = raw_of(dialer_center())
    slow = raw_of(dialer_center(dial_time={"dist": "deterministic", "value_s": 20.0}))
    assert 0 < slow["dials"].sum() < instant["dials"].sum()


def test_dialer_is_the_same_on_both_engines():
    s = dialer_center(trunks=40, dial_time=EXP(10.0), acw=EXP(20.0))
    cs, e = compile_scenario(s), root_entropy(5)
    a, _ = run_replication(cs, e, 0, "kernel")
    b, _ = run_replication(cs, e, 0, "reference")
    for k in ("dials", "dial_contacts", "dial_served", "mismatches", "answered", "outbound_busy_s", "lines_s"):
        assert np.array_equal(a[k], b[k]), k
    assert a["dials"].sum() > 0


def test_messages_returned_as_callbacks():
    """max_wait action callback: the caller leaves a message, frees the line, and is called back."""
    ct = {"c": {"patience": {"dist": "never"}, "talk": EXP(180.0),
                "max_wait": {"after_s": 30.0, "action": "callback"}}}
    s = center(call_types=ct, arrivals=[{"name": "in", "entry": "c", "calls": 330.0}], trunks=40)
    raw = raw_of(s)
    messages, done, end = (int(raw[k].sum()) for k in ("messages", "callbacks_done", "callbacks_end"))
    assert messages > 100 and done > 0
    assert done + end == messages and raw["callbacks"].sum() == 0
    day = simcc.simulate(s, seed=1, replications=2).summary()
    assert 0 < day["callback_sl"]["mean"] <= 1 and day["messages"]["mean"] > 0
    # the same with plain messages: nobody is called back, and the agents have more time for the queue
    plain = raw_of(center(call_types={"c": {**ct["c"], "max_wait": {"after_s": 30.0, "action": "message"}}},
                          arrivals=[{"name": "in", "entry": "c", "calls": 330.0}], trunks=40))
    assert plain["callbacks_done"].sum() == 0 and plain["answered"].sum() > raw["answered"].sum()


def test_unstaffed_call_types_disconnect_their_callers():
    """routing.unstaffed: disconnect: with no agent of its skills on duty, a caller is disconnected
    (waiting ones when the last agent logs off, new ones on reaching the queue)."""
    groups = [{"name": "g", "agents": [20, 20, 0, 0, 20, 20, 20, 20], "skills": {"c": 1}}]
    cut = center(groups=groups, routing={"unstaffed": "disconnect"})
    raw, _ = run_replication(compile_scenario(cut), root_entropy(3), 0, call_log=True)
    log = raw["call_log"]
    gone = log[log["outcome"] == OUTCOME_CODES["disconnected"]]
    assert len(gone) == raw["disconnected"].sum() > 50
    at_border = np.isclose(gone["t_end"], 3600.0)                 # waiting when the agents logged off
    assert at_border.sum() > 0
    rest = gone[~at_border]                                       # reached the queue while nobody was on
    assert np.all((rest["t_end"] >= 3600.0) & (rest["t_end"] < 7200.0)) and np.all(rest["wait_s"] == 0)
    assert raw["answered"][2:4].sum() == 0 and raw["abandoned"][2:4].sum() == 0
    # the default waits: the same callers wait (and most hang up) instead
    wait, _ = run_replication(compile_scenario(center(groups=groups)), root_entropy(3), 0)
    assert wait["disconnected"].sum() == 0 and wait["abandoned"][2:4].sum() > 50


def test_talk_and_patience_follow_the_arrival_interval():
    """talk_scale / patience_scale multiply the times of calls arriving in each interval."""
    scale = [1.0, 1.0, 2.0, 2.0, 0.5, 0.5, 1.0, 1.0]
    ct = {"c": {"patience": EXP(60.0), "talk": EXP(100.0), "talk_scale": scale, "patience_scale": scale}}
    raw, _ = run_replication(compile_scenario(center(call_types=ct)), root_entropy(4), 0, call_log=True)
    log = raw["call_log"]
    p = (log["t_arrive"] // 1800).astype(int)
    for lo, hi, f in ((0, 2, 1.0), (2, 4, 2.0), (4, 6, 0.5)):    # exponential talk: within 3.3 standard errors
        x = log["talk_s"][(log["outcome"] == OUTCOME_CODES["answered"]) & (p >= lo) & (p < hi)]
        assert abs(x.mean() - 100.0 * f) <= 3.3 * 100.0 * f / math.sqrt(len(x)), (lo, x.mean())
    # with no agents every caller waits its patience (exponential, mean 60 s times the factor)
    no_agents = center(call_types=ct, groups=[{"name": "g", "agents": 0, "skills": {"c": 1}}])
    raw, _ = run_replication(compile_scenario(no_agents), root_entropy(4), 0, call_log=True)
    log = raw["call_log"]
    p = (log["t_arrive"] // 1800).astype(int)
    for lo, hi, f in ((0, 2, 1.0), (2, 4, 2.0), (4, 6, 0.5)):
        x = log["wait_s"][(log["outcome"] == OUTCOME_CODES["abandoned"]) & (p >= lo) & (p < hi)]
        assert abs(x.mean() - 60.0 * f) <= 3.3 * 60.0 * f / math.sqrt(len(x)), (lo, x.mean())


def test_triangular_times_have_their_mean_and_range():
    tri = {"dist": "triangular", "low_s": 30.0, "mode_s": 60.0, "high_s": 300.0}
    raw, _ = run_replication(compile_scenario(center(call_types={"c": {"patience": EXP(60.0), "talk": tri}})),
                             root_entropy(2), 0, call_log=True)
    talk = raw["call_log"]["talk_s"][raw["call_log"]["outcome"] == OUTCOME_CODES["answered"]]
    mean = (30 + 60 + 300) / 3
    sd = math.sqrt((30 ** 2 + 60 ** 2 + 300 ** 2 - 30 * 60 - 30 * 300 - 60 * 300) / 18)
    assert talk.min() >= 30 and talk.max() <= 300 and len(talk) > 1000
    assert abs(talk.mean() - mean) <= 3.3 * sd / math.sqrt(len(talk))
    # the mode: the most populated 30-second bin is the one holding 60 s
    counts, edges = np.histogram(talk, bins=np.arange(30, 301, 30))
    assert edges[np.argmax(counts)] <= 60 < edges[np.argmax(counts) + 1]


def test_transfers_split_over_several_desks_and_fail_without_a_free_agent():
    """transfer.to as shares: each target gets its share; a desk with queue_capacity 0 takes a transfer
    only when an agent is free, else the caller is disconnected (transfer_disconnected)."""
    ct = {"c": {"patience": EXP(60.0), "talk": EXP(120.0), "transfer": {"prob": 1.0, "to": {"a": 0.7, "b": 0.3}}},
          "a": {"patience": EXP(120.0), "talk": EXP(300.0), "queue_capacity": 0},
          "b": {"patience": EXP(120.0), "talk": EXP(100.0)}}
    groups = [{"name": "front", "agents": 30, "skills": {"c": 1}},
              {"name": "desk-a", "agents": 12, "skills": {"a": 1}},
              {"name": "desk-b", "agents": 5, "skills": {"b": 1}}]
    raw = raw_of(center(call_types=ct, groups=groups))
    transferred = int(raw["transferred"].sum())
    to_a = int(raw["transfer_answered"][:, 1].sum() + raw["transfer_disconnected"][:, 1].sum()
               + raw["transfer_abandoned"][:, 1].sum())
    assert transferred > 1000 and within(to_a, transferred, 0.7)
    # desk a never queues: its transfers are answered at once or disconnected
    assert raw["transfer_abandoned"][:, 1].sum() == 0 and raw["transfer_disconnected"][:, 1].sum() > 50
    assert raw["transfer_disconnected"][:, 2].sum() == 0 and raw["transfer_abandoned"][:, 2].sum() > 0
    # the same calls on both engines
    cs, e = compile_scenario(center(call_types=ct, groups=groups)), root_entropy(1)
    a, _ = run_replication(cs, e, 0, "kernel")
    b, _ = run_replication(cs, e, 0, "reference")
    for k in ("transfer_answered", "transfer_abandoned", "transfer_disconnected", "answered"):
        assert np.array_equal(a[k], b[k]), k


def test_absent_agents_are_drawn_per_day():
    """group absence p: each day a Binomial(n, p) of the n agents stay home, every interval alike."""
    groups = [{"name": "g", "agents": [40, 40, 20, 20, 40, 40, 40, 40], "skills": {"c": 1}, "absence": 0.1}]
    s = center(groups=groups)
    cs, e = compile_scenario(s), root_entropy(8)
    present = []
    for rep in range(200):
        raw, _ = run_replication(cs, e, rep)
        present.append(raw["staffed_s"][0, 0] / 1800)        # the first interval: nobody leaving yet
    present = np.array(present)
    # absent agents in the first interval: Binomial(40, 0.1), mean 4, sd 1.9
    assert abs((40 - present).mean() - 4.0) <= 3.3 * math.sqrt(40 * 0.1 * 0.9 / 200)
    assert present.std() > 1.0 and present.max() <= 40
    # the same day on both engines (the headcount is drawn before either runs), and none absent without it
    a, _ = run_replication(cs, e, 3, "kernel")
    b, _ = run_replication(cs, e, 3, "reference")
    assert np.array_equal(a["staffed_s"], b["staffed_s"]) and np.array_equal(a["answered"], b["answered"])
    full, _ = run_replication(compile_scenario(center(groups=[{**groups[0], "absence": 0.0}])), e, 3)
    assert full["staffed_s"][0, 0] == 40 * 1800
