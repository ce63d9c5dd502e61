"""Staffing and shift selection together (simcc.plan.shiftsearch.select_shifts): every answer passes the
plan's rule on a whole-day simulation, no single shift of it can go, it never pays more than covering the
curve (beyond shifts added where the covering itself failed), and it finds a saving where one exists."""
import numpy as np
import pytest

import simcc
from simcc.plan import staff
from simcc.plan.shifts import _matrix, cover
from simcc.plan.shiftsearch import select_shifts
from simcc.plan.staffing import _Evaluator

EXP = lambda m: {"dist": "exponential", "mean_s": m}  # noqa: E731


def center(k):
    """Six hours in 30-minute intervals, a specialist and a generalist group, a random volume profile."""
    rng = np.random.default_rng(0)
    for _ in range(k + 1):
        profile = np.round(rng.uniform(0.4, 1.6, 12), 2)
    return simcc.from_dict({
        "interval_minutes": 30, "intervals": 12,
        "call_types": {"a": {"patience": EXP(120.0), "talk": EXP(180.0)},
                       "b": {"patience": EXP(120.0), "talk": EXP(240.0)}},
        "arrivals": [{"name": "a", "entry": "a", "calls": (60.0 * profile).tolist()},
                     {"name": "b", "entry": "b", "calls": (30.0 * profile).tolist()}],
        "groups": [{"name": "spec", "agents": 5, "skills": {"a": 1}},
                   {"name": "gen", "agents": 5, "skills": {"a": 2, "b": 1}}],
        "sla": {"service_level": "80/20", "abandon_max_pct": 5},
    })


def whole_day(plan):
    """The plan's rule on whole-day simulations only (no checks from a prefix)."""
    t = plan.targets
    return _Evaluator(plan.scenario, plan.seed, plan.replications, plan.engine, plan.check_level,
                      t["service_level"], t["abandon_max"], t["occupancy_max"], plan.measured)


@pytest.fixture(scope="module")
def selections():
    out = {}
    for k in (0, 3, 6):
        plan = staff(center(k), seed=3, replications=20)
        out[k] = plan, select_shifts(plan, length_hours=2, start_every_min=30)
    return out


@pytest.mark.parametrize("k", [0, 3, 6])
def test_selection_passes_and_no_single_shift_can_go(selections, k):
    plan, sel = selections[k]
    E = whole_day(plan)
    A = _matrix(sel.templates, 12, 30, False)
    for g in range(2):                              # step 1 is the optimal covering of each group's curve
        assert sel.two_step[g].tolist() == cover(plan.agents[:, g], sel.templates, 30).counts.tolist()
    assert np.array_equal(sel.joint_headcount, A @ sel.joint.T)
    assert not E(sel.joint_headcount).fail.any() and sel.joint_passed.all()
    assert np.array_equal(~E(sel.two_step_headcount).fail, sel.two_step_passed)
    for g in range(2):
        for s in np.flatnonzero(sel.joint[g]):
            trial = sel.joint_headcount.copy()
            trial[:, g] -= A[:, s]
            assert E(trial).fail.any(), f"{sel.group_names[g]} {sel.templates[s].name} could go"
    added = sum(sel.templates[s].paid_min / 60 for r in sel.removals if r["added"]
                for s in [next(i for i, t in enumerate(sel.templates) if t.name == r["shift"])])
    assert sel.joint_paid_hours <= sel.two_step_paid_hours + added + 1e-9


def test_selection_saves_a_shift_the_covering_needs_for_the_curve(selections):
    """Profile 3: one shift of the covering goes, and the day still passes (checked above on whole days)."""
    plan, sel = selections[3]
    assert sel.two_step_passed.all()
    assert sel.joint_paid_hours < sel.two_step_paid_hours and sel.saving > 0
    assert sum(r["kept"] for r in sel.removals) >= 1


def test_a_covering_that_fails_gets_shifts_added_first(selections):
    """Profile 0: the covering has at least the curve's agents everywhere, yet its last interval fails
    abandonment on the same random numbers (other agents serve other callers); a shift is added there."""
    plan, sel = selections[0]
    assert (sel.two_step_headcount >= plan.agents).all() and not sel.two_step_passed.all()
    assert any(r["added"] for r in sel.removals) and sel.joint_passed.all()
    assert sel.summary()["shifts_added"] >= 1 and not sel.summary()["two_step_passes"]


def test_bad_plans_get_a_clear_error(selections):
    plan, _ = selections[3]
    with pytest.raises(ValueError, match="StaffingPlan"):
        select_shifts(plan.agents)
    shrunk = staff(center(3), seed=3, replications=20, shrinkage=0.3, verify=False)
    with pytest.raises(ValueError, match="shrinkage"):
        select_shifts(shrunk, length_hours=2)


def test_command_line_prints_both_answers(tmp_path):
    import json

    import yaml
    from typer.testing import CliRunner

    from simcc.cli import app
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(center(3).model_dump(mode="json", exclude_none=True)))
    runner = CliRunner()
    out = runner.invoke(app, ["shifts", str(path), "--shift-hours", "2", "--select", "--seed", "3", "--format",
                              "json"], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    s = data["summary"]
    assert s["joint_passes"] and s["joint_paid_hours"] <= s["two_step_paid_hours"]
    assert sum(r["joint"] for r in data["shifts"]) == s["joint_agents"]
    table = runner.invoke(app, ["shifts", str(path), "--shift-hours", "2", "--select", "--seed", "3"])
    assert table.exit_code == 0 and "two steps: cover the staffing curve" in table.stdout
    bad = runner.invoke(app, ["shifts", str(path), "--select", "--headcount"])
    assert bad.exit_code != 0 and "--select needs the staffing found by simulation" in bad.output
