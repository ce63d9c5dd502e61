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


def _closing_at_a_border():
    return simcc.from_dict({
        "interval_minutes": 30, "intervals": 4,
        "call_types": {"c": {"patience": {"dist": "never"}, "talk": EXP(120)}},
        "arrivals": [{"name": "a", "entry": "c", "calls": [60, 60, 0, 0]}],
        "groups": [{"name": "g", "agents": [0, 0, 50, 50], "skills": {"c": 1}}],
        "closing": {"at_minutes": 60, "queue": "clear"},
    })


def test_ties_go_in_scheduling_order_closing_before_a_border_scheduled_later():
    """At 60 min the closing (scheduled at time 0) comes before the border (scheduled at 30 min):
    the queue is cleared before the next interval's agents log in, in both engines."""
    from simcc.engine.replication import run_replication
    from simcc.engine.streams import root_entropy
    cs = compile_scenario(_closing_at_a_border())
    for engine in ("kernel", "reference"):
        raw, _ = run_replication(cs, root_entropy(3), 0, engine)
        assert raw["answered"].sum() == 0 and raw["disconnected"].sum() == raw["offered"].sum() > 0, engine


def test_warm_up_must_be_whole_intervals():
    import pytest
    data = two_types({"policy": "priority"}).model_dump(mode="json", exclude_none=True)
    data["warmup_minutes"] = 45
    with pytest.raises(simcc.ScenarioError, match="whole number"):
        simcc.from_dict(data)
