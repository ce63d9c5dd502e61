"""The kernel's contract: its tables agree with simcc.engine.contract and the policy registry, in both directions.

A code changed on one side only (a new random source, a reordered outcome, a
policy the validator accepts but the kernel does not know) fails here before
it can silently change a number.
"""
import numpy as np
import pytest

import simcc
from simcc.engine import contract
from simcc.engine.compile import compile_scenario
from simcc.engine.replication import kernel, run_replication
from simcc.engine.streams import root_entropy
from simcc.model.policies import CHOICE_RULES, FILTERS, POLICIES, POLICY_NAMES
from simcc.run.kpis import DAY_KPIS, INTERVAL_KPIS, KPIS

core = kernel()


def test_codes_match_the_kernel():
    assert core.SOURCE_IDS == contract.SOURCE_IDS
    assert len(contract.SOURCES) == core.N_SOURCE_IDS
    assert core.DIST_CODES == contract.DIST_CODES
    assert core.OUTCOMES == contract.OUTCOME_CODES
    assert {k: i for i, k in enumerate(contract.CALL_KINDS)} == core.CALL_KINDS
    assert {k: i for i, k in enumerate(contract.LEGS)} == core.LEGS
    assert core.N_WAIT_BINS == contract.WAIT_BINS
    assert core.CLOSING_MODES == contract.CLOSING_MODES
    assert core.MAX_WAIT_ACTIONS == contract.MAX_WAIT_ACTIONS
    assert core.AGENT_RULES == contract.AGENT_RULES


def test_every_policy_has_an_engine_code_and_every_code_a_policy():
    assert set(core.CHOICE_CODES) == set(CHOICE_RULES) == set(contract.CHOICE_CODES)
    assert core.CHOICE_CODES == contract.CHOICE_CODES
    assert set(contract.FILTER_FLAGS) == set(FILTERS)
    assert set(CHOICE_RULES) | set(FILTERS) == set(POLICY_NAMES)
    assert all(p.kind in ("choice", "filter") for p in POLICIES.values())
    cs = compile_scenario(simcc.textbook.erlang(arrival_rate=0.1, mean_talk_s=60, agents=3, hours=1))
    for flag in contract.FILTER_FLAGS.values():
        assert hasattr(cs, flag)                 # the compiled scenario carries every filter's switch


def test_the_kernel_fills_exactly_the_statistics_of_the_contract():
    assert tuple(core.STAT_NAMES) == contract.STAT_NAMES
    s = simcc.textbook.erlang(arrival_rate=0.5, mean_talk_s=100, agents=60, mean_patience_s=60, hours=1)
    cs = compile_scenario(s)
    for engine in ("kernel", "reference"):
        raw, _ = run_replication(cs, root_entropy(1), 0, engine)
        arrays = {k for k, v in raw.items() if isinstance(v, np.ndarray)}
        assert arrays == set(contract.STAT_NAMES), engine
        for a in contract.STATS:
            assert raw[a.name].dtype == a.dtype and raw[a.name].shape == contract.stat_shape(a, cs), (engine, a)
        assert set(raw) - arrays == set(contract.COUNTERS)


def test_the_kernel_refuses_statistics_it_cannot_write():
    cs = compile_scenario(simcc.textbook.erlang(arrival_rate=0.1, mean_talk_s=60, agents=3, hours=1))
    from simcc.engine import streams
    arrivals, sources = streams.bit_generators(root_entropy(1), 0, cs.n_streams)
    stats = contract.new_stats(cs)
    stats["answered"] = np.asfortranarray(np.zeros((2, 1, 1, 1, 1)))[..., 0]   # not C-contiguous
    stats["answered"].flags.writeable = False
    with pytest.raises(ValueError, match="answered"):
        core.run(cs, arrivals, sources, stats)


def test_merge_rules_cover_every_array():
    assert {a.merge for a in contract.STATS} <= {"sum", "max"}
    assert {a.name for a in contract.STATS if a.merge == "max"} == {"wait_max_s", "lines_peak", "queue_peak"}


def test_kpi_registry_is_complete():
    assert all(KPIS[k].unit in ("count", "share", "seconds", "level") for k in KPIS)
    assert list(DAY_KPIS) and list(INTERVAL_KPIS)
    r = simcc.simulate(simcc.textbook.erlang(arrival_rate=0.2, mean_talk_s=60, agents=20, hours=1), replications=2)
    assert list(r.summary()) == list(DAY_KPIS)
    assert [k for k in r.by_interval() if not k.endswith(("_ci_low", "_ci_high"))] == ["interval_start",
                                                                                        *INTERVAL_KPIS]
