"""Shift coverage (simcc.shifts): rosters that cover the required agents with few shifts."""
import itertools
from types import SimpleNamespace

import numpy as np
import pytest

from simcc.plan.shifts import ShiftTemplate, cover, roster_for_plan, templates

# A Quanzhou-like day: required agents per half hour (low at night, two daytime peaks)
DAY = np.array([45, 35, 31, 24, 21, 18, 17, 16, 16, 16, 17, 23, 25, 40, 47, 78, 92, 134, 145, 174, 180, 181,
                182, 167, 160, 139, 133, 132, 138, 158, 160, 166, 167, 162, 164, 147, 140, 120, 120, 119, 121,
                121, 122, 104, 101, 80, 72, 53])


def brute_force(req, temps, interval_min, wrap):
    """The true minimum number of shifts, by enumeration (tiny cases only)."""
    A = np.stack([t.coverage(len(req), interval_min, wrap) for t in temps], axis=1)
    top = int(max(req))
    best = None
    for x in itertools.product(range(top + 1), repeat=len(temps)):
        if np.all(A @ np.array(x) >= req) and (best is None or sum(x) < best):
            best = sum(x)
    return best


def test_templates_and_their_coverage():
    ts = templates(48, 30, length_hours=8, start_every_min=60)
    assert len(ts) == 24 and ts[22].name == "22:00 8h"
    night = ts[22].coverage(48, 30, wrap=True)
    assert night.sum() == 16 and night[44:].all() and night[:12].all() and not night[12:44].any()
    assert ts[22].coverage(48, 30, wrap=False).sum() == 4                  # clipped at the horizon
    brk = templates(48, 30, length_hours=9, break_after_min=240, break_min=60)[16]   # 08:00-17:00
    cov = brk.coverage(48, 30, wrap=True)
    assert cov.sum() == 16 and not cov[24] and not cov[25] and cov[23] and cov[26]
    assert "break 12:00 60m" in brk.name
    short = templates(16, 30, length_hours=4)          # an 8-hour horizon: starts up to 4 h before the end
    assert [t.start_min for t in short][-1] == 240


@pytest.mark.parametrize("kwargs,message", [
    (dict(length_hours=0), "length"),
    (dict(length_hours=30), "length"),
    (dict(start_every_min=45), "multiple"),
    (dict(break_min=30), "break"),
])
def test_templates_reject_nonsense(kwargs, message):
    with pytest.raises(ValueError, match=message):
        templates(48, 30, **kwargs)


def test_cover_is_exact_without_breaks_or_wrapping():
    """Interval matrix, no wrap: the greedy is optimal; checked against enumeration on random small days."""
    rng = np.random.default_rng(7)
    for _ in range(40):
        req = rng.integers(0, 4, size=8)
        temps = templates(8, 60, length_hours=3)
        r = cover(req, temps, 60, wrap=False, method="greedy")
        assert np.all(r.coverage >= req)
        assert r.agents == brute_force(req, temps, 60, False), req
        assert "exact" in r.method
        assert cover(req, temps, 60, wrap=False).agents == r.agents


def test_cover_with_breaks_and_wrap_is_close_to_optimal_on_small_days():
    rng = np.random.default_rng(11)
    gaps = []
    for _ in range(25):
        req = rng.integers(0, 3, size=8)
        temps = [ShiftTemplate(s * 60, 240, 120, 60) for s in range(8)]    # 4 h with a 1 h break after 2 h
        r = cover(req, temps, 60, wrap=True, method="greedy")
        assert np.all(r.coverage >= req)
        best = brute_force(req, temps, 60, True)
        assert best <= r.agents
        exact = cover(req, temps, 60, wrap=True)         # the integer program finds the enumerated optimum
        assert exact.agents == best and np.all(exact.coverage >= req) and exact.lower_bound == best
        gaps.append(r.agents - best)
    assert max(gaps) <= 1 and sum(gaps) <= 3


def test_cover_a_24h_day():
    r = cover(DAY, templates(48, 30), 30)
    assert np.all(r.surplus >= 0) and np.array_equal(r.coverage, r.required + r.surplus)
    assert r.lower_bound <= r.agents
    assert r.agents == 345          # equal to an exact integer program (scipy milp) on this day
    assert r.paid_hours == r.agents * 8 and r.required_hours == DAY.sum() / 2
    assert 0.8 < r.efficiency <= 1
    assert sum(c for _, c in r.shifts()) == r.agents
    assert "wraps past midnight" in r.method


def test_cover_matches_an_integer_program_when_scipy_is_there():
    opt = pytest.importorskip("scipy.optimize")
    from scipy.optimize import Bounds, LinearConstraint, milp
    del opt
    for kw, slack in ((dict(), 0), (dict(start_every_min=60), 0),
                      (dict(length_hours=9, break_after_min=240, break_min=60), 0.02)):
        temps = templates(48, 30, **kw)
        r = cover(DAY, temps, 30, method="greedy")
        A = np.stack([t.coverage(48, 30, True) for t in temps], axis=1)
        res = milp(c=np.ones(A.shape[1]), constraints=LinearConstraint(A, lb=DAY), integrality=np.ones(A.shape[1]),
                   bounds=Bounds(0, np.inf))
        assert res.success
        assert round(res.fun) <= r.agents <= round(res.fun) * (1 + slack), kw
        assert cover(DAY, temps, 30).agents == round(res.fun), kw      # the default method is the optimum


def test_cover_errors():
    with pytest.raises(ValueError, match="whole"):
        cover([1, -1, 2], templates(3, 60, length_hours=1), 60)
    with pytest.raises(ValueError, match="no shift template covers interval 0"):
        cover([1, 1, 1, 1], [ShiftTemplate(120, 120)], 60, wrap=False)
    with pytest.raises(ValueError, match="multiple"):
        cover([1, 1], [ShiftTemplate(10, 60)], 60)


def test_roster_for_plan_per_group_and_total():
    agents = np.stack([DAY // 2, DAY - DAY // 2], axis=1)
    scn = SimpleNamespace(n_intervals=48, interval_minutes=30)
    plan = SimpleNamespace(scenario=scn, group_names=("a", "b"), agents=agents, total=agents.sum(axis=1))
    rosters = roster_for_plan(plan, start_every_min=60)
    assert set(rosters) == {"a", "b", "all"}
    assert np.array_equal(rosters["all"].required, DAY)
    assert rosters["all"].agents <= rosters["a"].agents + rosters["b"].agents
    for r in rosters.values():
        assert np.all(r.surplus >= 0)


def test_cli_shifts_covers_the_scenario_headcount():
    from typer.testing import CliRunner

    from simcc.cli import app
    runner = CliRunner()
    r = runner.invoke(app, ["shifts", "scenarios/quanzhou-10000.yaml", "--headcount", "--start-every", "60",
                            "--break-after", "240", "--break-minutes", "60", "--shift-hours", "9"],
                      catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert "all groups:" in r.output and "complaint:" in r.output and "Method: integer program" in r.output
    assert "08:00 9h (break 12:00 60m)" in r.output or "break" in r.output
    assert r.output.count(" / ") >= 48 * 4 * 2            # required / scheduled / surplus for 4 columns
    bad = runner.invoke(app, ["shifts", "scenarios/quanzhou-10000.yaml", "--headcount", "--shift-hours", "30"])
    assert bad.exit_code == 2 and "shift length" in bad.output and "Traceback" not in bad.output


def test_public_24_hour_instance_optimum_is_55_shifts():
    """A published cyclic 24-hour instance (hourly demand, 8-hour shifts starting at any full hour, the day
    repeats): its integer-program optimum is 55 shifts (the LP-Scheduling-problem course exercise)."""
    demand = [6, 6, 6, 6, 6, 8, 9, 12, 18, 22, 25, 21, 21, 20, 18, 21, 21, 24, 24, 18, 18, 18, 12, 8]
    r = cover(demand, templates(24, 60, length_hours=8), 60)
    assert r.agents == 55 and r.lower_bound == 55       # proven optimal: the bound meets the roster
    assert np.all(r.coverage >= demand)
    assert cover(demand, templates(24, 60, length_hours=8), 60, method="greedy").agents >= 55
