"""Balking, queue capacity, the maximum wait and closing: exact birth-death theory, and each behaviour alone.

Theory: M/M/n with balking (a caller who finds j callers waiting joins with
probability 1 - b(j)) and exponential patience, and M/M/n with a finite
waiting room, are birth-death chains; by PASTA the share of arrivals that
balk, find the queue full or abandon follows from the stationary
distribution. The simulated day means must hold the exact value inside their
99% confidence interval (fixed seeds), as in tests/test_theory.py.
"""
import math

import numpy as np
import pytest

import simcc
from simcc.engine.compile import compile_scenario
from simcc.engine.contract import OUTCOME_CODES
from simcc.engine.replication import run_replication
from simcc.engine.streams import root_entropy
from simcc.stats import t_quantile


def birth_death(lam, mu, theta, n, join, cap=None, states=2000):
    """Stationary distribution of M/M/n + M with joining probability join(j) when j wait (cap: most waiting)."""
    top = n + cap if cap is not None else states
    pi = np.zeros(top + 1)
    pi[0] = 1.0
    for k in range(1, top + 1):
        waiting_before = max(k - 1 - n, 0)
        birth = lam * (1.0 if k - 1 < n else join(waiting_before))
        death = min(k, n) * mu + max(k - n, 0) * theta
        pi[k] = pi[k - 1] * birth / death
    return pi / pi.sum()


def scenario(lam, talk, agents, patience=None, hours=8, **call_type):
    s = simcc.textbook.erlang(arrival_rate=lam, mean_talk_s=talk, agents=agents, mean_patience_s=patience,
                              hours=hours, warmup_hours=1)
    data = s.model_dump(mode="json", exclude_none=True)
    (name,) = data["call_types"]
    data["call_types"][name].update(call_type)
    return simcc.from_dict(data)


def share_ci(result, num, den, level=0.99):
    x = result.kpi(num) / result.kpi(den)
    half = t_quantile(0.5 + level / 2, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x))
    return x.mean(), half


@pytest.mark.parametrize("probs", [[0.3], [0.0, 0.2, 0.5, 0.8]])
def test_balking_matches_the_birth_death_chain(probs):
    lam, talk, n, theta_mean = 10 / 60, 300.0, 50, 200.0
    s = scenario(lam, talk, n, patience=theta_mean, balking={"prob": probs})
    r = simcc.simulate(s, seed=31, replications=40)

    def b(j):
        return probs[min(j, len(probs) - 1)]
    pi = birth_death(lam, 1 / talk, 1 / theta_mean, n, lambda j: 1 - b(j))
    balk = sum(pi[j] * b(j - n) for j in range(n, len(pi)))
    waiting = sum(pi[j] * (j - n) for j in range(n, len(pi)))
    abandon_after_wait = waiting / theta_mean / lam
    mean, half = share_ci(r, "balked", "offered")
    assert half < 0.01 and abs(mean - balk) <= half, (mean, half, balk)
    ab = (r.kpi("abandoned") - r.kpi("balked")) / r.kpi("offered")
    h2 = t_quantile(0.995, len(ab) - 1) * ab.std(ddof=1) / math.sqrt(len(ab))
    assert abs(ab.mean() - abandon_after_wait) <= h2, (ab.mean(), h2, abandon_after_wait)


def test_queue_capacity_matches_the_finite_waiting_room():
    lam, talk, n, cap = 10 / 60, 300.0, 50, 5
    s = scenario(lam, talk, n, queue_capacity=cap)
    r = simcc.simulate(s, seed=32, replications=40)
    pi = birth_death(lam, 1 / talk, 0.0, n, lambda j: 1.0, cap=cap)
    mean, half = share_ci(r, "queue_full", "offered")
    assert half < 0.01 and abs(mean - pi[-1]) <= half, (mean, half, pi[-1])
    assert r.summary()["blocked"]["mean"] == 0


def _log(s, seed=1):
    raw, _ = run_replication(compile_scenario(s), root_entropy(seed), 0, call_log=True)
    return raw, raw["call_log"]


@pytest.mark.parametrize("action,kpi,outcome", [("message", "messages", "message"),
                                                 ("disconnect", "disconnected", "disconnected")])
def test_max_wait_sends_every_unanswered_caller_away_at_the_limit(action, kpi, outcome):
    s = scenario(0.05, 300.0, 0, hours=2, max_wait={"after_s": 90.0, "action": action})
    raw, log = _log(s)
    gone = log[log["outcome"] == OUTCOME_CODES[outcome]]
    assert len(gone) > 100 and raw[kpi].sum() == raw["offered"].sum() - raw["in_queue_end"].sum()
    assert np.allclose(gone["wait_s"], 90.0) and np.allclose(gone["t_end"] - gone["t_arrive"], 90.0)
    assert raw["abandoned"].sum() == 0


def test_max_wait_leaves_answered_and_impatient_callers_alone():
    base = scenario(0.15, 300.0, 45, patience=60.0, hours=4)
    capped = scenario(0.15, 300.0, 45, patience=60.0, hours=4, max_wait={"after_s": 1e6})
    a, b = _log(base)[0], _log(capped)[0]
    for k in ("answered", "abandoned", "wait_s"):
        assert np.array_equal(a[k], b[k]), k


def test_balking_only_when_the_caller_would_wait():
    s = scenario(0.01, 60.0, 20, hours=2, balking={"prob": 1.0})    # agents always free
    raw, _ = _log(s)
    assert raw["balked"].sum() == 0 and raw["answered"].sum() == raw["offered"].sum() - raw["in_queue_end"].sum()
    s = scenario(0.05, 300.0, 0, hours=2, balking={"prob": 1.0})    # no agent: everyone balks
    raw, log = _log(s)
    assert raw["balked"].sum() == raw["offered"].sum() == raw["abandoned"].sum() > 0
    assert np.all(log["wait_s"][log["outcome"] == OUTCOME_CODES["balked"]] == 0)


def test_balking_by_tier():
    data = scenario(0.05, 300.0, 0, hours=2).model_dump(mode="json", exclude_none=True)
    data["tiers"] = ["vip", "standard"]
    data["arrivals"][0]["tiers"] = {"vip": 0.5, "standard": 0.5}
    (name,) = data["call_types"]
    data["call_types"][name]["balking"] = {"prob": 1.0, "by_tier": {"vip": 0.0}}
    raw, _ = _log(simcc.from_dict(data))
    assert raw["balked"][:, :, 0].sum() == 0 and raw["balked"][:, :, 1].sum() > 0


def test_closing_clear_disconnects_the_queue_and_stops_arrivals():
    data = scenario(0.2, 300.0, 30, hours=4).model_dump(mode="json", exclude_none=True)
    data["closing"] = {"at_minutes": 150, "queue": "clear"}
    raw, log = _log(simcc.from_dict(data))
    assert log["t_arrive"].max() < 150 * 60
    cut = log[log["outcome"] == OUTCOME_CODES["disconnected"]]
    assert len(cut) > 0 and np.all(cut["t_end"] == 150 * 60)
    assert raw["offered"][5:].sum() == 0 and raw["in_queue_end"].sum() == 0


def test_closing_serve_drains_the_queue_past_the_horizon():
    data = scenario(0.2, 300.0, 30, hours=4).model_dump(mode="json", exclude_none=True)
    data["closing"] = {"at_minutes": 240, "queue": "serve"}
    raw, log = _log(simcc.from_dict(data))
    assert raw["in_queue_end"].sum() == 0 and raw["in_ivr_end"].sum() == 0
    answered = log[log["outcome"] == OUTCOME_CODES["answered"]]
    assert answered["t_end"].max() > 4 * 3600          # answered after the horizon
    assert raw["answered"].sum() == raw["queued"].sum()
    # time-based levels stop at the horizon: staffed time is the headcount's, not more
    assert raw["staffed_s"].sum() == pytest.approx(30 * 4 * 3600)
    plain = scenario(0.2, 300.0, 30, hours=4)
    assert _log(plain)[0]["in_queue_end"].sum() > 0, "without closing the day ends with callers waiting"


def test_new_behaviours_validate_their_names():
    data = scenario(0.05, 300.0, 5).model_dump(mode="json", exclude_none=True)
    (name,) = data["call_types"]
    data["call_types"][name]["balking"] = {"prob": 0.2, "by_tier": {"gold": 0.1}}
    data["closing"] = {"at_minutes": 10_000}
    with pytest.raises(simcc.ScenarioError) as err:
        simcc.from_dict(data)
    text = str(err.value)
    assert "gold" in text and "closing.at_minutes" in text


def _two_groups(rule):
    return simcc.from_dict({
        "interval_minutes": 60, "intervals": 4,
        "call_types": {"c": {"patience": {"dist": "never"}, "talk": {"dist": "exponential", "mean_s": 60}}},
        "arrivals": [{"name": "a", "entry": "c", "calls": 30}],
        "groups": [{"name": "small", "agents": 10, "skills": {"c": 1}},
                   {"name": "big", "agents": 30, "skills": {"c": 1}}],
        "routing": {"agent_selection": rule},
    })


def test_agent_selection_rules():
    """Light load, so nearly every call finds idle agents in both groups."""
    answered = {}
    for rule in ("longest_idle", "random", "group_order"):
        raw, _ = _log(_two_groups(rule), seed=4)
        answered[rule] = raw["answered"].sum(axis=(0, 1, 2))
    small, big = answered["group_order"]
    assert big == 0 and small > 0, "group order: the first group listed takes every call it can"
    share = answered["random"][0] / answered["random"].sum()
    n = answered["random"].sum()
    assert abs(share - 0.25) < 4 * math.sqrt(0.25 * 0.75 / n), share   # idle agents 10 : 30
    lid = answered["longest_idle"][0] / answered["longest_idle"].sum()
    assert abs(lid - 0.25) < 0.1, lid       # longest idle spreads work evenly over agents too


def test_service_level_threshold_per_call_type():
    data = simcc.load("scenarios/quanzhou-10000.yaml").model_dump(mode="json", exclude_none=True)
    data["sla"]["by_call_type"] = {"complaint": "80/60"}
    s = simcc.from_dict(data)
    raw, log = _log(s, seed=3)
    k = list(s.call_types).index("complaint")
    ans = log[(log["outcome"] == OUTCOME_CODES["answered"]) & (log["leg"] == 0) & (log["call_type"] == k)]
    assert raw["answered_within"][:, k].sum() == (ans["wait_s"] <= 60).sum()
    other = log[(log["outcome"] == OUTCOME_CODES["answered"]) & (log["leg"] == 0) & (log["call_type"] != k)]
    assert raw["answered_within"].sum() - raw["answered_within"][:, k].sum() == (other["wait_s"] <= 15).sum()
    r = simcc.simulate(s, seed=3, replications=3)
    line = next(x for x in r.sla_report() if x.get("call_type") == "complaint")
    per = r.per_replication()["call_type"]["service_level"][:, k]
    assert line["mean"] == pytest.approx(per.mean()) and line["target"] == 0.8
    assert "complaint: within 60 s" in r.meta["sl_definition"]["text"]


def test_per_replication_arrays_add_up_to_the_day():
    r = simcc.simulate(simcc.load("scenarios/quanzhou-10000.yaml"), seed=2, replications=3)
    a = r.per_replication()
    assert np.array_equal(a["call_type"]["answered"].sum(axis=1), a["day"]["answered"])
    assert np.array_equal(a["group"]["answered"].sum(axis=1), a["day"]["answered"])
    assert np.array_equal(a["interval"]["offered"].sum(axis=1), a["day"]["offered"])
    rom = r.ratio_of_means("answered_within", "queued")
    assert rom["mean"] == pytest.approx(a["day"]["answered_within"].sum() / a["day"]["queued"].sum())
    assert rom["ci_low"] < rom["mean"] < rom["ci_high"]


def test_by_group_occupancy_split_and_cost():
    data = simcc.load("scenarios/published/cc-bank.yaml").model_dump(mode="json", exclude_none=True)
    data["groups"][0]["cost_per_hour"] = 12.0
    r = simcc.simulate(simcc.from_dict(data), seed=1, replications=20)
    g = r.by_group()
    sav, chk = g["savings_specialists"], g["checking_specialists"]
    assert sav["cost"] == pytest.approx(12.0 * 3 * 9) and chk["cost"] is None
    assert sav["agent_hours"] == pytest.approx(27.0)
    for grp in (sav, chk):
        split = sum(grp["occupancy_by_call_type"].values())
        assert split == pytest.approx(grp["occupancy"], rel=0.05)      # handle time of answered calls ~ busy time
    assert chk["occupancy_by_call_type"]["checking"] > chk["occupancy_by_call_type"]["savings"]
    assert sum(x["answered"] for x in g.values()) == pytest.approx(r.summary()["answered"]["mean"])


def _conference_center(specialists):
    return simcc.from_dict({
        "interval_minutes": 60, "intervals": 2,
        "call_types": {"a": {"patience": {"dist": "never"}, "talk": {"dist": "exponential", "mean_s": 100},
                             "conference": {"prob": 1.0, "with_type": "b",
                                            "duration": {"dist": "deterministic", "value_s": 60}}},
                       "b": {"patience": {"dist": "never"}, "talk": {"dist": "exponential", "mean_s": 100}}},
        "arrivals": [{"name": "a", "entry": "a", "calls": 20}],
        "groups": [{"name": "front", "agents": 10, "skills": {"a": 1}},
                   {"name": "experts", "agents": specialists, "skills": {"b": 1}}],
    })


def test_conference_holds_both_agents_or_is_skipped():
    for engine in ("kernel", "reference"):
        raw, _ = run_replication(compile_scenario(_conference_center(5)), root_entropy(2), 0, engine)
        held, missed = raw["conferences"].sum(), raw["conferences_missed"].sum()
        answered = raw["answered"].sum()
        assert missed == 0 and answered - 5 <= held <= answered    # talk still running at the horizon: not yet
        assert raw["conference_s"].sum() == pytest.approx(60.0 * held)
        # the experts were busy exactly the conference time (cut at the horizon)
        assert raw["service_busy_s"][:, 1].sum() == pytest.approx(60.0 * held, abs=60.0)
    raw, _ = run_replication(compile_scenario(_conference_center(0)), root_entropy(2), 0)
    answered = raw["answered"].sum()
    assert raw["conferences"].sum() == 0 and answered - 5 <= raw["conferences_missed"].sum() <= answered
