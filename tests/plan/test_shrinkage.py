"""Shrinkage: agents on the phones -> agents to schedule, in Erlang answers and staffing plans."""
import numpy as np
import pytest
from typer.testing import CliRunner

import simcc
from simcc.cli import app
from simcc.plan import staff
from simcc.plan.baseline import queue_answer
from simcc.plan.shrinkage import per_group, scheduled_for


@pytest.mark.parametrize("calls_per_hour,on_phone,scheduled", [(200, 14, 20), (150, 11, 16)])
def test_public_calculator_examples(calls_per_hour, on_phone, scheduled):
    """Erlang C, AHT 180 s, 80% within 20 s: 100 calls per half hour need 14 agents, 20 with 30% shrinkage."""
    a = queue_answer(calls_per_hour, 180, within_s=20, target=0.8, shrinkage=0.3)
    assert (a.agents, a.scheduled) == (on_phone, scheduled)


def test_scheduled_rounds_up_and_never_down():
    on = np.arange(0, 200)
    for s in (0.0, 0.1, 0.25, 0.3, 0.35):
        sched = scheduled_for(on, s)
        assert np.all(sched * (1 - s) >= on - 1e-9) and np.all((sched - 1) * (1 - s) < on + 1e-9 * (on > 0))


@pytest.mark.parametrize("bad", [1.0, 1.2, -0.1, float("nan"), "x"])
def test_impossible_shrinkage_is_a_clear_error(bad):
    with pytest.raises(ValueError, match="shrinkage"):
        scheduled_for(10, bad)


def test_per_group_shrinkage_names_groups():
    assert per_group({"a": 0.3}, ["a", "b"]).tolist() == [0.3, 0.0]
    with pytest.raises(ValueError, match="unknown group"):
        per_group({"c": 0.3}, ["a", "b"])


def test_staffing_plan_rosters_each_group_with_its_shrinkage():
    s = simcc.textbook.erlang(arrival_rate=100 / 1800, mean_talk_s=180, agents=14, mean_patience_s=300, hours=2)
    plan = staff(s, target_sl=0.8, within_s=20, abandon_max=None, replications=10, verify=False, shrinkage=0.3)
    assert np.array_equal(plan.rostered, np.ceil(plan.agents / 0.7 - 1e-9).astype(int))
    assert plan.table()["rostered"] == plan.rostered.sum(axis=1).tolist()
    assert plan.summary()["rostered_agent_hours"] > plan.agent_hours
    plain = staff(s, target_sl=0.8, within_s=20, abandon_max=None, replications=10, verify=False)
    assert np.array_equal(plain.agents, plan.agents), "shrinkage changes the roster, not the search"


def test_cli_shrinkage():
    r = CliRunner().invoke(app, ["erlang", "--calls-per-hour", "200", "--aht-s", "180", "--sl-s", "20",
                                 "--target", "80", "--shrinkage", "30%"])
    assert r.exit_code == 0 and "agents to schedule with 30% shrinkage" in r.output and "20" in r.output
    r = CliRunner().invoke(app, ["erlang", "--calls-per-hour", "200", "--aht-s", "180", "--shrinkage", "100%"])
    assert r.exit_code == 2 and "below 100%" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(app, ["staff", "scenarios/textbook-erlang-c.yaml", "--shrinkage", "nobody=30%",
                                 "--no-verify"])
    assert r.exit_code == 2 and "nobody" in r.output
