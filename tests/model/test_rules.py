"""Pins of the model rules docs/scenario.md states (the ones decided at compile time)."""
import simcc
from simcc.engine.compile import compile_scenario

EXP = lambda m: {"dist": "exponential", "mean_s": m}  # noqa: E731


def two_types(routing):
    return simcc.from_dict({
        "intervals": 2,
        "call_types": {"a": {"patience": EXP(60), "talk": EXP(100), "hold_prob": 0.5, "hold": EXP(40),
                             "acw": EXP(30)},
                       "b": {"patience": EXP(60), "talk": EXP(200)}},
        "arrivals": [{"name": "in", "entry": "a", "calls": 10}, {"name": "in2", "entry": "b", "calls": 10}],
        "groups": [{"name": "main", "agents": 5, "skills": {"a": 1, "b": 1}},
                   {"name": "backup", "agents": 5, "skills": {"a": 2, "b": 2}}],
        "routing": routing,
    })


def test_overflow_threshold_of_a_type_the_map_leaves_out_is_20_s():
    cs = compile_scenario(two_types({"policy": ["priority", "overflow"], "overflow_after_s": {"a": 45}}))
    assert cs.overflow_after_s.tolist() == [45.0, 20.0]


def test_weighted_wait_service_mean_is_talk_plus_expected_hold_without_acw():
    cs = compile_scenario(two_types({"policy": "weighted_wait"}))
    assert cs.service_mean_s[0, 0] == 100 + 0.5 * 40
    assert cs.service_mean_s[1, 1] == 200
