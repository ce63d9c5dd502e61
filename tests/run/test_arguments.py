"""Misused API arguments raise a clear TypeError or ValueError naming the argument, before any work."""
import pytest
from helpers import small

import simcc
from simcc import plan

S = small(hours=1)
CASES = [
    (lambda: simcc.simulate(S, replications=0), ValueError, "replications"),
    (lambda: simcc.simulate(S, replications=-1), ValueError, "replications"),
    (lambda: simcc.simulate(S, replications=1.5), TypeError, "replications"),
    (lambda: simcc.simulate(S, replications="3"), TypeError, "replications"),
    (lambda: simcc.simulate(S, replications=True), TypeError, "replications"),
    (lambda: simcc.simulate(S, seed=-1), ValueError, "seed"),
    (lambda: simcc.simulate(S, seed=2**130), ValueError, "seed"),
    (lambda: simcc.simulate(S, seed="x"), TypeError, "seed"),
    (lambda: simcc.simulate(S, seed=1.5), TypeError, "seed"),
    (lambda: simcc.simulate(S, seed=True), TypeError, "seed"),
    (lambda: simcc.simulate(S, workers=0), ValueError, "workers"),
    (lambda: simcc.simulate(S, workers=-3), ValueError, "workers"),
    (lambda: simcc.simulate(S, engine="nope"), ValueError, "engine"),
    (lambda: simcc.simulate({"name": "x"}), TypeError, "simcc.from_dict"),
    (lambda: simcc.simulate(3), TypeError, "scenario"),
    (lambda: simcc.simulate(S, max_events=float("nan")), ValueError, "max_events"),
    (lambda: simcc.simulate(S, max_events=-1), ValueError, "max_events"),
    (lambda: simcc.simulate(S, progress=3), TypeError, "progress"),
    (lambda: simcc.simulate(S, out_dir=3), TypeError, "out_dir"),
    (lambda: simcc.simulate(S, resume=True), ValueError, "out_dir"),
    (lambda: simcc.sweep(S, {}), ValueError, "grid"),
    (lambda: simcc.sweep(S, {"groups.agents.agents": []}), ValueError, "no values"),
    (lambda: simcc.sweep(S, {"groups.agents.agents": [90]}, replications=0), ValueError, "replications"),
    (lambda: simcc.compare(S, "priority"), TypeError, "policies"),
    (lambda: simcc.compare(S, ["priority"]), ValueError, "two policies"),
    (lambda: simcc.compare(S, ["priority", "weighted_wait"], replications=1), ValueError, "replications"),
    (lambda: plan.staff(S, replications=0), ValueError, "replications"),
    (lambda: plan.staff(S, seed="x"), TypeError, "seed"),
    (lambda: plan.trunks(S, 0.01, replications=1.0), TypeError, "replications"),
]


@pytest.mark.parametrize("call, kind, word", CASES, ids=[f"case{i}" for i in range(len(CASES))])
def test_misuse_is_named(call, kind, word):
    with pytest.raises(kind, match=word):
        call()


def test_a_scenario_path_is_accepted_like_a_scenario():
    a = simcc.simulate("scenarios/quanzhou-10000.yaml", seed=2, replications=1)
    b = simcc.simulate(simcc.load("scenarios/quanzhou-10000.yaml"), seed=2, replications=1)
    assert a.summary_csv() == b.summary_csv()


def test_compare_without_a_seed_still_pairs_the_policies():
    c = simcc.compare(S, ["priority", "priority"], seed=None, replications=3)
    assert c.results[0].meta["entropy"] == c.results[1].meta["entropy"]
    assert all(d.diff == 0 or d.diff != d.diff for d in c.differences())     # 0, or NaN where undefined


def test_memory_guard_names_the_figure_and_the_override():
    wide = simcc.textbook.erlang(arrival_rate=0.01, mean_talk_s=180, agents=3, hours=24)
    with pytest.raises(simcc.SizeError, match=r"GB of memory .*max_memory_gb="):
        simcc.simulate(wide, replications=2, max_memory_gb=1e-6)
    with pytest.raises(simcc.SizeError, match="this sweep"):
        simcc.sweep(wide, {"groups.agents.agents": [3, 4]}, replications=2, max_memory_gb=1e-6)
    with pytest.raises(ValueError, match="max_memory_gb"):
        simcc.simulate(wide, max_memory_gb=0)
    assert simcc.simulate(wide, replications=2, max_memory_gb=10).meta["status"] == "complete"


def test_confidence_bounds_stay_within_what_a_kpi_can_be():
    r = simcc.simulate(small(hours=1, agents=300), seed=3, replications=2)
    s = r.summary()
    for k, v in s.items():
        if v["ci_low"] == v["ci_low"]:          # not NaN
            assert v["ci_low"] >= 0, k
    for k in simcc.run.kpis.SHARE_KPIS & set(s):
        if s[k]["ci_high"] == s[k]["ci_high"]:
            assert s[k]["ci_high"] <= 1, k
    iv = r.by_interval()
    assert (iv["service_level_ci_high"][~(iv["service_level_ci_high"] != iv["service_level_ci_high"])] <= 1).all()
