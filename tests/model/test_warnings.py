"""Warnings: allowed but usually a mistake; each based on what actually happens in the model."""
import simcc

SCENARIO = """
name: ivr-load
interval_minutes: 60
intervals: 1
call_types:
  calls:
    patience: {{dist: never}}
    talk: {{dist: deterministic, value_s: 50}}
    hold_prob: 0.5
    hold: {{dist: deterministic, value_s: 10}}
    acw: {{dist: deterministic, value_s: 5}}
ivr:
  menu_time: {{dist: deterministic, value_s: 10}}
  contained: 0.4
  hangup: 0.1
  menu: {{calls: 1.0}}
arrivals:
  - name: line
    entry: ivr
    calls: 900
groups:
  - name: desk
    agents: {agents}
    skills: {{calls: 1}}
"""


def _unbounded(agents):
    return [w for w in simcc.loads(SCENARIO.format(agents=agents)).warnings() if "without bound" in w]


def test_unbounded_queue_warning_counts_only_the_load_that_reaches_agents():
    # 900 calls x 60 s of agent time (talk 50 + HOLD 0.5 x 10 + ACW 5) = 15 Erlangs at the trunks;
    # 40% contained and 10% hang up in the menu, so 7.5 Erlangs reach the agents
    assert _unbounded(12) == []
    assert _unbounded(8) == []
    (w,) = _unbounded(7)
    assert "7.5 Erlangs reach the agents" in w


def test_a_mean_time_longer_than_a_day_is_flagged():
    text = SCENARIO.format(agents=12).replace("value_s: 50", "value_s: 1.0e+12")
    assert any("call_types.calls.talk" in w and "longer than a day" in w for w in simcc.loads(text).warnings())
