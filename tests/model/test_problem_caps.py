"""A pathological file gives a short, complete report: problems capped per field and in all, values cut."""
import pytest

import simcc
from simcc.errors import Problem, ScenarioError

BASE = """name: x
interval_minutes: 30
intervals: 4
call_types:
  calls:
    patience: {{dist: exponential, mean_s: 120}}
    talk: {{dist: exponential, mean_s: 180}}
arrivals:
  - name: line
    entry: {entry}
    calls: [{calls}]
groups:
  - name: desk
    agents: [8, 12, 12, 8]
    skills: {{calls: 1}}
"""


def test_many_bad_values_are_counted_not_listed():
    with pytest.raises(ScenarioError) as info:
        simcc.loads(BASE.format(entry="calls", calls=", ".join(["-1"] * 20_000)))
    err = info.value
    assert err.total == 20_000
    assert len(err.problems) == ScenarioError.MAX_PER_FIELD + 1
    assert err.problems[-1].path == "arrivals.0.calls" and "19,995 more problems" in err.problems[-1].message
    assert "20,000 problems" in str(err) and len(str(err)) < 2_000


def test_a_huge_value_is_not_echoed_whole():
    err = ScenarioError([Problem("arrivals.0.entry", f"unknown call type {'x' * 100_000!r}")])
    assert len(str(err)) < 1_000 and "more characters" in str(err)


def test_the_overall_cap_keeps_a_count_per_field():
    problems = [Problem(f"f{i}.{j}", "bad") for i in range(40) for j in range(3)]
    err = ScenarioError(problems)
    shown = [p for p in err.problems if "more problem" not in p.message]
    assert len(shown) == ScenarioError.MAX_SHOWN
    assert (
        err.total == 120 and sum(int(p.message.split()[2]) for p in err.problems if "more problem" in p.message) == 70
    )
