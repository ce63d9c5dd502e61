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
    assert not E(sel.joint_headcount).fail.any() and sel.joint_passed
    assert (not E(sel.two_step_headcount).fail.any()) == sel.two_step_passed
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
    assert sel.two_step_passed
    assert sel.joint_paid_hours < sel.two_step_paid_hours and sel.saving > 0
    assert sum(r["kept"] for r in sel.removals) >= 1


def test_a_covering_that_fails_gets_shifts_added_first(selections):
    """Profile 0: the covering has at least the curve's agents everywhere, yet its last interval fails
    abandonment on the same random numbers (other agents serve other callers); a shift is added there."""
    plan, sel = selections[0]
    assert (sel.two_step_headcount >= plan.agents).all() and not sel.two_step_passed
    assert any(r["added"] for r in sel.removals) and sel.joint_passed
    assert sel.summary()["shifts_added"] >= 1 and not sel.summary()["two_step_passes"]


def day_bound(result, name, level, lower):
    """One-sided Student t bound of the day's KPI over replications, computed here from Result.day."""
    from scipy import stats
    x = result.kpi(name)
    half = stats.t.ppf(level, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
    return x.mean() - half if lower else x.mean() + half


def meets_day(plan, headcount, floor=None):
    """The day rule of select_shifts(over="day"), judged on an independent whole-day simulation."""
    level = 1 - (1 - plan.confidence) / 2                  # Bonferroni over the two lines
    res = simcc.simulate(whole_day(plan).scenario(headcount), seed=plan.seed, replications=plan.replications)
    ok = (day_bound(res, "service_level", level, True) >= plan.targets["service_level"] - 1e-12 and
          day_bound(res, "abandon_rate", level, False) <= plan.targets["abandon_max"] + 1e-12)
    if floor is not None:
        ok = ok and res.by_interval()["service_level"].min() >= floor - 1e-12
    return ok


@pytest.mark.parametrize("floor", [None, 0.75])
def test_day_rule_selection_passes_and_no_single_shift_can_go(selections, floor):
    """over="day": the targets hold for the day's calls (and, with a floor, every interval's mean service
    level is at least the floor); checked on independent whole-day simulations, as is that every single
    shift of the answer is needed. The day rule is looser than the interval rule: it saves more."""
    plan, by_interval = selections[6]
    sel = select_shifts(plan, length_hours=2, start_every_min=30, over="day", interval_floor=floor)
    assert sel.two_step.tolist() == by_interval.two_step.tolist()
    assert sel.joint_passed and meets_day(plan, sel.joint_headcount, floor)
    A = _matrix(sel.templates, 12, 30, False)
    for g in range(2):
        for s in np.flatnonzero(sel.joint[g]):
            trial = sel.joint_headcount.copy()
            trial[:, g] -= A[:, s]
            assert not meets_day(plan, trial, floor), f"{sel.group_names[g]} {sel.templates[s].name} could go"
    assert sel.joint_paid_hours < by_interval.joint_paid_hours
    s = sel.summary()
    assert s["over"] == "day" and s["joint_day_service_level"] >= plan.targets["service_level"]
    if floor is not None:
        assert s["joint_worst_interval_service_level"] >= floor
    else:
        assert s["joint_worst_interval_service_level"] < plan.targets["service_level"]


def test_bad_plans_get_a_clear_error(selections):
    plan, _ = selections[3]
    with pytest.raises(ValueError, match="StaffingPlan"):
        select_shifts(plan.agents)
    shrunk = staff(center(3), seed=3, replications=20, shrinkage=0.3, verify=False)
    with pytest.raises(ValueError, match="shrinkage"):
        select_shifts(shrunk, length_hours=2)
    with pytest.raises(ValueError, match="over must be"):
        select_shifts(plan, length_hours=2, over="week")
    with pytest.raises(ValueError, match="interval_floor goes with over='day'"):
        select_shifts(plan, length_hours=2, interval_floor=0.8)
    with pytest.raises(ValueError, match="interval_floor must be a share"):
        select_shifts(plan, length_hours=2, over="day", interval_floor=80)
    occ = staff(center(3), seed=3, replications=20, occupancy_max=0.9, verify=False)
    with pytest.raises(ValueError, match="occupancy"):
        select_shifts(occ, length_hours=2, over="day")


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
    day = runner.invoke(app, ["shifts", str(path), "--shift-hours", "2", "--select", "--seed", "3", "--over", "day",
                              "--interval-floor", "75%", "--format", "json"], catch_exceptions=False)
    assert day.exit_code == 0, day.output
    d = json.loads(day.stdout)["summary"]
    assert d["over"] == "day" and d["joint_worst_interval_service_level"] >= 0.75 and "75%" in d["rule"]
    for args, why in ((["--over", "day"], "go with --select"), (["--select", "--interval-floor", "80%"],
                                                                "goes with --over day")):
        out = runner.invoke(app, ["shifts", str(path), *args])
        assert out.exit_code != 0 and why in out.output
