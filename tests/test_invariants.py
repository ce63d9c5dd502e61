"""Invariants on random valid scenarios (Hypothesis): calls are conserved, nothing is negative, busy <= staffed."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import scenarios

import simcc
from simcc.engine.compile import compile_scenario
from simcc.engine.contract import MAX_WAIT_ACTIONS, OUTCOME_CODES
from simcc.engine.replication import run_replication
from simcc.engine.streams import root_entropy
from simcc.run.results import Stats


@given(scn=scenarios(max_agents=12, max_intervals=6, max_rate_per_min=8.0), seed=st.integers(0, 2 ** 32 - 1))
@settings(max_examples=max(300, settings().max_examples))  # the nightly profile asks for more
def test_conservation_and_bounds(scn, seed):
    cs = compile_scenario(scn)
    raw, _ = run_replication(cs, root_entropy(seed), 0, call_log=True)
    log = raw["call_log"]
    tot = {k: int(raw[k].sum()) for k in ("offered", "blocked", "contained", "ivr_abandoned", "answered",
                                          "abandoned", "in_ivr_end", "in_queue_end", "queued", "answered_within",
                                          "callbacks", "callbacks_done", "callbacks_end", "redials", "repeats",
                                          "transferred", "transfer_answered", "transfer_abandoned", "balked",
                                          "transfer_disconnected", "messages", "disconnected", "queue_full")}
    # every counted attempt ends in exactly one place
    gone = tot["messages"] + tot["disconnected"]
    assert tot["offered"] == (tot["blocked"] + tot["contained"] + tot["ivr_abandoned"] + tot["answered"]
                              + tot["abandoned"] + tot["callbacks"] + gone + tot["queue_full"]
                              + tot["in_ivr_end"] + tot["in_queue_end"])
    assert tot["queued"] == tot["answered"] + tot["abandoned"] + tot["callbacks"] + gone + tot["in_queue_end"]
    assert tot["balked"] <= tot["abandoned"]
    # per (interval, call type, tier) as well
    per = raw["answered"].sum(axis=3)
    assert np.array_equal(raw["offered"], raw["blocked"] + raw["contained"] + raw["ivr_abandoned"] + per
                          + raw["abandoned"] + raw["callbacks"] + raw["messages"] + raw["disconnected"]
                          + raw["queue_full"] + raw["in_ivr_end"] + raw["in_queue_end"])
    # an accepted callback (or a message to be returned) is made or still pending at the horizon
    returned = int(raw["messages"][:, cs.max_wait_action == MAX_WAIT_ACTIONS["callback"]].sum())
    assert tot["callbacks_done"] + tot["callbacks_end"] == tot["callbacks"] + returned
    assert tot["redials"] + tot["repeats"] <= tot["offered"]
    assert tot["transfer_answered"] + tot["transfer_abandoned"] + tot["transfer_disconnected"] <= tot["transferred"]
    assert raw["outbound_done"].min(initial=0) >= 0 and raw["outbound_end"].min(initial=0) >= 0
    assert tot["answered_within"] <= tot["answered"]
    assert raw["abandoned_short"].sum() <= tot["abandoned"]
    # times and waits
    assert np.all(log["wait_s"] >= 0)
    assert np.all(log["t_end"] >= log["t_arrive"])
    assert np.all(np.diff(log["t_end"]) >= 0), "outcomes are logged in event order"
    # the call log carries what call records need, and agrees with the statistics
    counted = log["t_arrive"] >= cs.warmup_s
    answered = counted & (log["outcome"] == OUTCOME_CODES["answered"]) & (log["leg"] == 0)
    for k in ("talk_s", "hold_s", "acw_s", "wait_s"):
        assert np.isclose(log[k][answered].sum(), raw[k].sum(), rtol=1e-9, atol=1e-6), k
    assert answered.sum() == tot["answered"]
    assert (log["hold_s"][answered] > 0).sum() == raw["held"].sum()
    assert np.all(log["ivr_s"] >= 0) and np.all(log["talk_s"] >= 0)
    assert np.all((log["ivr_s"] == 0) | (cs.stream_entry[log["stream"]] < 0)), "IVR time only behind the IVR"
    blocked = log["outcome"] == OUTCOME_CODES["blocked"]
    assert np.all(log["ivr_s"][blocked] == 0) and np.all(log["group"][blocked] == -1)
    assert np.all(log["caller"] >= 0) and np.all(log["caller"] < raw["n_arrivals"])
    first = log["kind"] == 0
    assert np.all(log["attempt"][first] == 1) and np.all(log["attempt"] >= 1)
    # a redial comes after an earlier attempt of the same caller that was blocked, abandoned (or balked),
    # or found the queue full
    lost = {int(c) for c in log["caller"][np.isin(log["outcome"], [OUTCOME_CODES[k] for k in (
        "blocked", "abandoned", "balked", "queue_full")])]}
    assert {int(c) for c in log["caller"][log["kind"] == 1]} <= lost
    check_agents(cs, log)
    for k in ("wait_s", "talk_s", "hold_s", "acw_s", "staffed_s", "service_busy_s", "acw_busy_s", "lines_s", "queue_s"):
        assert np.all(raw[k] >= 0), k
    busy = raw["service_busy_s"] + raw["acw_busy_s"]
    assert np.all(busy <= raw["staffed_s"] * (1 + 1e-9) + 1e-6)
    # staffed time follows the headcount: agents leaving finish their call, so staffed >= planned when falling
    planned = cs.headcount * cs.interval_s
    assert np.all(raw["staffed_s"] >= np.minimum(planned, np.roll(planned, 1, axis=0)) - 1e-6)
    if cs.trunks >= 0:
        assert raw["lines_peak"].max(initial=0) <= cs.trunks
    # the day KPIs are the sums of the interval rows
    st_ = Stats(raw, cs)
    day, iv = st_.day(), st_.by_interval()
    for k in ("offered", "answered", "abandoned", "blocked", "queued"):
        assert iv[k].sum() == day[k]
    for k in ("service_level", "abandon_rate", "occupancy", "blocking_rate"):
        v = day[k]
        assert np.isnan(v) or 0.0 <= v <= 1.0, k


def check_agents(cs, log):
    """Every served record names its agent (numbered in log-in order per group), no other record does,
    and an agent serves one call at a time."""
    served = np.isin(log["outcome"], [OUTCOME_CODES["answered"], OUTCOME_CODES["called_back"]])
    assert np.all(log["agent"][~served] == -1) and np.all(log["agent"][served] >= 0)
    assert np.all(log["group"][served] >= 0)
    head = cs.headcount.astype(np.int64)
    log_ins = head[0] + np.clip(np.diff(head, axis=0), 0, None).sum(axis=0)
    assert np.all(log["agent"][served] < log_ins[log["group"][served]])
    if cs.conf_prob.any():
        return                          # a conference keeps the agent busy beyond the logged times
    rec = log[served]
    for g in np.unique(rec["group"]):
        for a in np.unique(rec["agent"][rec["group"] == g]):
            mine = rec[(rec["group"] == g) & (rec["agent"] == a)]
            start = mine["t_end"]
            end = start + mine["talk_s"] + mine["hold_s"] + mine["acw_s"]
            order = np.argsort(start, kind="stable")
            assert np.all(start[order][1:] >= end[order][:-1] - 1e-6), f"agent {a} of group {g} serves two calls"


def test_zero_arrivals():
    s = simcc.textbook.erlang(arrival_rate=0.0, mean_talk_s=100, agents=3, hours=1)
    r = simcc.simulate(s, seed=1)
    assert r.summary()["offered"]["mean"] == 0
    assert r.summary()["occupancy"]["mean"] == 0


def test_all_callers_abandon_without_agents():
    s = simcc.textbook.erlang(arrival_rate=0.1, mean_talk_s=100, agents=0, mean_patience_s=10, hours=1)
    r = simcc.simulate(s, seed=1)
    sm = r.summary()
    assert sm["answered"]["mean"] == 0
    assert sm["abandoned"]["mean"] + sm["in_system_end"]["mean"] == sm["offered"]["mean"] > 0


def test_zero_trunks_block_everything():
    s = simcc.textbook.erlang(arrival_rate=0.1, mean_talk_s=100, agents=5, trunks=0, hours=1)
    sm = simcc.simulate(s, seed=1).summary()
    assert sm["blocked"]["mean"] == sm["offered"]["mean"] > 0
