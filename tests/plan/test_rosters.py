"""Per-agent rosters (simcc.plan.rosters, simcc roster, simcc run --roster): the rule checker on its own, the
solver against enumeration, named errors, binding rules, and the roster's headcount in a simulation."""
import csv
import io
import itertools
import json

import numpy as np
import pytest
from typer.testing import CliRunner

import simcc
from simcc.cli import app
from simcc.plan import rosters as R

pytest.importorskip("ortools")

runner = CliRunner()
HEADER = "agent,group,contract_hours,subgroup,unavailable,prefers\n"


def scenario():
    """A 24-hour day of 60-minute intervals, a few calls, one group "desk"."""
    s = simcc.model.textbook.erlang(arrival_rate=0.002, mean_talk_s=120, agents=1, interval_minutes=60, name="tiny")
    data = s.model_dump(mode="python", exclude_none=True)
    data["groups"][0]["name"] = "desk"
    return simcc.from_dict(data)


def scenario_file(tmp_path):
    import yaml
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(scenario().model_dump(mode="json", exclude_none=True)))
    return path


#: Two shifts a day (06-14, 14-22), 8 paid hours, two shifts a week, 10 h rest (so no late-then-early).
TINY_RULES = {
    "start_date": "2026-01-05", "rotation": True,
    "shifts": {"lengths_hours": [8], "start_every_minutes": 480, "earliest_start": "06:00", "latest_start": "14:00",
               "break_minutes": 0},
    "defaults": {"rest_days_per_week": 2, "min_rest_hours": 10, "max_consecutive_days": 5,
                 "hours_per_week": {"min": 16, "max": 16}},
    "weights": {"shortfall": 100, "surplus": 1, "preference": 0, "fairness": 5},
    "fairness": ["weekends"],
}


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


# ------------------------------------------------------------------------------------------------ the checker
AGENTS = [R.Agent("A1", "desk", 40.0, None, line=2), R.Agent("A2", "desk", 40.0, "parents", line=3),
          R.Agent("A3", "desk", None, "study", (R._parse_when("2026-01-07", "x"),), line=4)]
CHECK_RULES = {
    "start_date": "2026-01-05", "rotation": False,
    "shifts": {"lengths_hours": [9], "start_every_minutes": 60, "break_minutes": 60},
    "defaults": {"rest_days_per_week": 2, "min_rest_hours": 12, "max_consecutive_days": 5,
                 "hours_per_week": {"min": 0, "max": 40}},
    "subgroups": {"parents": {"home_by": "18:00", "no_nights": True},
                  "study": {"study": [{"weekday": "Fri", "start": "14:00", "end": "16:00"}]}},
}


def shift(agent, date, start, end, brk, group="desk", bm=60):
    return {"agent": agent, "date": date, "start": start, "end": end, "group": group, "break_start": brk,
            "break_minutes": bm, "off_phones": ""}


def week(agent, starts, group="desk"):
    """Shifts of 9 h (break after 4 h) starting at ``starts`` (None: rest) from Monday 2026-01-05."""
    out = []
    for d, s in enumerate(starts):
        if s is None:
            continue
        h = int(s[:2])
        out.append(shift(agent, f"2026-01-{5 + d:02d}", s, f"{(h + 9) % 24:02d}:00", f"{(h + 4) % 24:02d}:00",
                         group))
    return out


def rules_broken(rows, agents=AGENTS):
    return sorted({(v["rule"], v["agent"]) for v in R.check_roster(rows, agents, CHECK_RULES, weeks=1, interval=30)})


def test_a_valid_week_has_no_violations():
    rows = (week("A1", ["08:00"] * 5 + [None, None]) + week("A2", ["08:00"] * 5 + [None, None])
            + week("A3", ["08:00", "08:00", None, "08:00", "05:00", None, None]))
    assert R.check_roster(rows, AGENTS, CHECK_RULES, weeks=1) == []


@pytest.mark.parametrize("rows,broken", [
    (week("A1", ["08:00"] * 6 + [None]), {("rest_days_per_week", "A1"), ("max_consecutive_days", "A1"),
                                         ("weekly_hours", "A1")}),
    (week("A1", ["14:00", "08:00", "08:00", "08:00", "08:00", None, None]), {("min_rest_hours", "A1")}),
    (week("A2", ["10:00", "08:00", "08:00", "08:00", "08:00", None, None]), {("home_by", "A2")}),
    (week("A2", ["05:00", "08:00", "08:00", "08:00", "08:00", None, None]), {("no_nights", "A2")}),
    (week("A3", ["08:00", "08:00", "08:00", None, None, None, None]), {("unavailable", "A3")}),
    (week("A3", ["08:00", "08:00", None, "08:00", "08:00", None, None]), {("study", "A3")}),
    ([shift("A1", "2026-01-05", "08:00", "16:00", "12:00")], {("shifts", "A1")}),
    ([shift("A1", "2026-01-05", "08:00", "17:00", "13:00")], {("shifts", "A1")}),
    (week("A1", ["08:00"] + [None] * 6, group="sales"), {("group", "A1")}),
    (week("A1", ["08:00"] + [None] * 6) + week("A1", ["08:00"] + [None] * 6),
     {("one_shift_per_day", "A1"), ("min_rest_hours", "A1")}),
    (week("Z9", ["08:00"] + [None] * 6), {("agents", "Z9")}),
])
def test_the_checker_catches_each_rule_on_hand_built_rosters(rows, broken):
    found = set(rules_broken(rows))
    assert broken <= found, found
    assert not {r for r in found if r[0] not in {"weekly_hours", "rest_days_per_week"}} - broken - {
        ("weekly_hours", "A1")}


def test_violations_name_the_row():
    rows = week("A2", ["10:00", "08:00", "08:00", "08:00", "08:00", None, None])
    text = R.ROSTER_COLUMNS
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=text)
    w.writeheader()
    w.writerows(rows)
    read = R.read_roster_csv(buf.getvalue())
    v = [x for x in R.check_roster(read, AGENTS, CHECK_RULES, weeks=1) if x["rule"] == "home_by"]
    assert [(x["row"], x["date"]) for x in v] == [(2, "2026-01-05")]
    assert "19:00" in v[0]["message"] and "18:00" in v[0]["message"]


def test_the_checker_does_not_use_the_solver():
    import ast
    import inspect
    src = inspect.getsource(R.check_roster) + inspect.getsource(R.roster_headcount)
    names = {n.id for n in ast.walk(ast.parse(src)) if isinstance(n, ast.Name)}
    assert not names & {"_add_agent", "_solve_block", "_cp_model", "_domain", "_coverage_offsets", "shift_templates"}


# ------------------------------------------------------------------------------------------ solver vs enumeration
def test_cp_sat_equals_enumeration_on_a_tiny_instance():
    scn = scenario()
    rules = R.load_rules(TINY_RULES)
    rng = np.random.default_rng(3)
    day_req = np.zeros((7, 24, 1), dtype=np.int64)
    day_req[:, 6:22, 0] = rng.integers(0, 3, size=(7, 16))
    agents = [R.Agent(f"A{i}", "desk", 16.0, line=i + 2) for i in range(3)]
    res = R.solve_roster(scn, agents, rules, 1, day_req, time_limit_s=20, workers=1)
    assert res.status == "OPTIMAL" and res.violations == []
    # every week of one agent the independent checker accepts: rest or 06-14 / 14-22 on each day
    options = [None, ("06:00", "14:00"), ("14:00", "22:00")]
    patterns = []
    for combo in itertools.product(range(3), repeat=7):
        rows = [{"agent": "A0", "date": f"2026-01-{5 + d:02d}", "start": options[c][0], "end": options[c][1],
                 "group": "desk", "break_start": "", "break_minutes": 0} for d, c in enumerate(combo) if c]
        if not R.check_roster(rows, agents[:1], rules, weeks=1, interval=60):
            cov = R.roster_headcount(rows, ["desk"], "2026-01-05", 7, 60, True)[:, :, 0].reshape(-1)
            weekend = sum(1 for d, c in enumerate(combo) if c and d >= 5)
            patterns.append((cov, weekend))
    covs = np.array([p[0] for p in patterns])
    wknd = np.array([p[1] for p in patterns])
    req = day_req[:, :, 0].reshape(-1)
    best = np.inf
    for i in range(len(patterns)):
        for j in range(len(patterns)):
            tot = covs[i] + covs[j] + covs                      # every third agent at once
            obj = (100 * np.maximum(req - tot, 0).sum(axis=1) + np.maximum(tot - req, 0).sum(axis=1)
                   + 5 * np.maximum(np.maximum(wknd[i], wknd[j]), wknd))
            best = min(best, obj.min())
    assert res.objective == best
    assert res.bound == pytest.approx(best)


# ---------------------------------------------------------------------------------------------- named errors
@pytest.mark.parametrize("text,message", [
    ("agent,group,contract_hours,subgroup,unavailable\nA1,desk,40,,\n", "line 1: missing column(s) prefers"),
    (HEADER + "A1,desk,40,,,\nA1,desk,40,,,\n", "line 3 (agent A1), column agent: duplicate agent id 'A1' (first "
                                                "on line 2)"),
    (HEADER + "A1,desk,40,,,\nA2,sales,40,,,\n", "line 3 (agent A2), column group: unknown group 'sales'"),
    (HEADER + "A1,desk,nan,,,\n", "line 2 (agent A1), column contract_hours: 'nan' is not a number"),
    (HEADER + "A1,desk,40,nightowls,,\n", "line 2 (agent A1), column subgroup: unknown subgroup 'nightowls'"),
    (HEADER + "A1,desk,40,,2026-02-30,\n", "line 2 (agent A1), column unavailable: '2026-02-30'"),
    (HEADER + "A1,desk,40,,,start 9-10\n", "line 2 (agent A1), column prefers"),
    (HEADER + ",desk,40,,,\n", "line 2, column agent: empty agent id"),
])
def test_bad_agent_files_name_the_row_and_column(tmp_path, text, message):
    with pytest.raises(R.RosterInputError, match=None) as info:
        R.read_agents(text, ["desk"], R.load_rules(TINY_RULES))
    assert message in str(info.value)
    p = write(tmp_path, "agents.csv", text)
    rules = write(tmp_path, "rules.yaml", json.dumps(TINY_RULES))
    r = invoke("roster", scenario_file(tmp_path), "--agents", p, "--rules", rules, "--weeks", 1, "--out",
               tmp_path / "out")
    assert r.exit_code == 2, r.output
    assert "error:" in r.output and message in " ".join(r.output.split()) and "Traceback" not in r.output


@pytest.mark.parametrize("rules,message", [
    ({"defaults": {"rest_dayz": 2}}, "defaults.rest_dayz: unknown key"),
    ({"defaults": {"rest_days_per_week": 8}}, "rest_days_per_week is 8, but a week has 7 days"),
    ({"shifts": {"lengths_hours": [8], "break_minutes": 0}, "defaults": {"hours_per_week": {"min": 60, "max": 60}}},
     "defaults.hours_per_week.min: 60 h a week is more than 5 shift(s)"),
    ({"subgroups": {"x": {"study": [{"weekday": "Fri", "start": "16:00", "end": "14:00"}]}}}, "ends (14:00) before"),
    ({"weights": {"shortfall": -1}}, "weights.shortfall"),
])
def test_bad_rules_name_the_rule_and_why(tmp_path, rules, message):
    with pytest.raises(R.RosterInputError) as info:
        R.load_rules(rules)
    assert message in str(info.value)


def test_bad_rules_file_exits_2(tmp_path):
    p = write(tmp_path, "rules.yaml", "defaults:\n  rest_days_per_week: 8\n")
    a = write(tmp_path, "agents.csv", HEADER + "A1,general,40,,,\n")
    r = invoke("roster", "scenarios/quanzhou-10000.yaml", "--agents", a, "--rules", p, "--out", tmp_path / "o")
    assert r.exit_code == 2 and "rest_days_per_week is 8" in r.output and "line 2" in r.output


def test_a_contract_the_shifts_cannot_make_is_named():
    scn = scenario()
    agents = [R.Agent("A1", "desk", 20.0, line=2)]           # 8-hour shifts: 16 or 24, never 20
    with pytest.raises(R.RosterInputError, match=r"agent A1 \(agents line 2\): contract_hours 20 h a week cannot "
                                                 r"be made of at most 5 shift"):
        R.solve_roster(scn, agents, TINY_RULES, 1, time_limit_s=5)


def test_infeasible_rules_name_the_binding_rule():
    scn = scenario()
    rules = dict(TINY_RULES, defaults=dict(TINY_RULES["defaults"], hours_per_week={"min": 40, "max": 40}))
    free = R.Agent("A1", "desk", None, line=2)
    away = R.Agent("A2", "desk", None, None, tuple(R._parse_when(d, "x") for d in ("Mon", "Tue", "Wed")), line=3)
    with pytest.raises(R.RosterInputError) as info:
        R.solve_roster(scn, [free, away], rules, 1, time_limit_s=5, workers=1)
    msg = str(info.value)
    assert "agent A2 (agents line 3)" in msg
    assert "unavailable" in msg and "weekly_hours" in msg and "drop any one of them" in msg
    rules = dict(TINY_RULES, defaults=dict(TINY_RULES["defaults"], max_consecutive_days=1,
                                           hours_per_week={"min": 40, "max": 40}))
    with pytest.raises(R.RosterInputError, match="max_consecutive_days") as info:
        R.solve_roster(scn, [free], rules, 1, time_limit_s=5, workers=1)


def test_without_ortools_the_command_says_what_to_install(tmp_path, monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "ortools", None)
    monkeypatch.setitem(sys.modules, "ortools.sat", None)
    monkeypatch.setitem(sys.modules, "ortools.sat.python", None)
    a = write(tmp_path, "agents.csv", HEADER + "A1,general,40,,,\n")
    r = invoke("roster", "scenarios/quanzhou-10000.yaml", "--agents", a, "--out", tmp_path / "o")
    assert r.exit_code == 2 and 'pip install "simcc[roster]"' in r.output


# --------------------------------------------------------------------------------- outputs and simcc run --roster
def test_roster_folder_and_run_roster_use_the_rostered_headcount(tmp_path):
    import yaml
    scn = scenario()
    path = scenario_file(tmp_path)
    agents = write(tmp_path, "agents.csv", HEADER + "".join(
        f"A{i},desk,16,{'study' if i == 0 else ''},,{'off Sat' if i == 1 else ''}\n" for i in range(4)))
    rules = dict(TINY_RULES, subgroups={"study": {"study": [{"weekday": "Tue", "start": "09:00", "end": "11:00",
                                                             "mode": "off_phones"}]}})
    rules_path = write(tmp_path, "rules.yaml", yaml.safe_dump(rules))
    out = tmp_path / "roster"
    r = invoke("roster", path, "--agents", agents, "--rules", rules_path, "--weeks", 2, "--time-limit", 5,
               "--workers", 1, "--out", out)
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in out.iterdir()) == ["coverage.csv", "roster.csv", "roster.json", "roster.png",
                                                     "violations.csv"]
    summary = json.loads((out / "roster.json").read_text())
    assert summary["hard_rule_violations"] == 0 and summary["days"] == 14
    assert (out / "violations.csv").read_text().strip() == "rule,agent,row,date,message"
    cov = list(csv.DictReader(open(out / "coverage.csv")))
    rows = R.read_roster_csv(out / "roster.csv")
    assert {r["agent"] for r in rows} == {"A0", "A1", "A2", "A3"}
    for date in ("2026-01-05", "2026-01-06", "2026-01-11"):
        s2, when = R.roster_day_scenario(scn, out / "roster.csv", date)
        want = [int(c["rostered"]) for c in cov if c["date"] == date]
        assert s2.agents_per_interval(s2.groups[0]) == want, date
    tue = [int(c["rostered"]) for c in cov if c["date"] == "2026-01-06"]
    study = [r for r in rows if r["agent"] == "A0" and r["date"] == "2026-01-06"]
    if study:     # the study slot is on the shift but off the phones
        assert study[0]["off_phones"] == "09:00-11:00" or not study[0]["off_phones"]
    assert sum(tue) == sum(int(c["rostered"]) for c in cov if c["date"] == "2026-01-06")
    r = invoke("run", path, "--roster", out / "roster.csv", "--roster-date", "2026-01-06", "-r", 1, "--format", "json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert [round(x) for x in data["by_interval"]["agents"]] == tue     # (+ calls finished after a shift ends)
    r = invoke("run", path, "--roster", out / "roster.csv", "--roster-date", "2027-01-01", "-r", 1)
    assert r.exit_code == 2 and "outside the roster" in r.output


def test_headcount_counts_breaks_as_off_and_wraps_the_last_night():
    rows = [{"agent": "A", "date": "2026-01-11", "start": "20:00", "end": "05:00", "group": "g",
             "break_start": "00:00", "break_minutes": 60, "off_phones": ""}]
    h = R.roster_headcount(rows, ["g"], "2026-01-05", 7, 60, rotation=True)
    assert h[6, 20:24, 0].tolist() == [1, 1, 1, 1]
    assert h[0, 0:6, 0].tolist() == [0, 1, 1, 1, 1, 0]      # on the first date: the rotation starts again
    assert R.roster_headcount(rows, ["g"], "2026-01-05", 7, 60, rotation=False)[0].sum() == 0


def test_a_staffing_plan_is_the_requirement_with_its_shrinkage(tmp_path):
    scn = scenario()
    plan = {"summary": {"shrinkage": {"desk": 0.2}}, "intervals": {"required": [0] * 6 + [4] * 16 + [0] * 2}}
    req = R.requirement_from_plan(plan, scn)
    assert req[:, 0].tolist() == [0] * 6 + [5] * 16 + [0] * 2          # ceil(4 / 0.8)
    p = write(tmp_path, "plan.json", json.dumps(plan))
    res = R.solve_roster(scn, [R.Agent(f"A{i}", "desk", 16.0, line=i + 2) for i in range(2)], TINY_RULES, 1, p,
                         time_limit_s=5, workers=1)
    assert res.required[0, :, 0].tolist() == req[:, 0].tolist() and "staffing plan" in res.requirement_source
    with pytest.raises(R.RosterInputError, match="not a staffing plan"):
        R.requirement_from_plan({"summary": {}}, scn)
    with pytest.raises(R.RosterInputError, match="expected 24 agent counts"):
        R.requirement_from_plan({"intervals": {"required": [1, 2]}}, scn)


def test_selected_shifts_are_a_requirement_too(tmp_path):
    """simcc shifts --select --format json can be the roster's --plan: the agents on the selected shifts."""
    from simcc.plan import staff
    from simcc.plan.shiftsearch import select_shifts
    scn = scenario()
    sel = select_shifts(staff(scn, target_sl=0.8, within_s=20, replications=10), length_hours=8, start_every_min=60)
    data = json.loads(simcc.run.export.render(sel, "json"))
    assert R.requirement_from_plan(data, scn).tolist() == sel.joint_headcount.tolist()
    p = write(tmp_path, "shifts.json", json.dumps(data))
    assert R.requirement_from_plan(p, scn).tolist() == sel.joint_headcount.tolist()
    data["summary"]["groups"] = {"other": {}}
    with pytest.raises(R.RosterInputError, match="for groups"):
        R.requirement_from_plan(data, scn)
    data["summary"]["groups"] = {"desk": {}}
    data["headcount"]["joint"] = [[1]] * 3
    with pytest.raises(R.RosterInputError, match="expected 24 rows of 1"):
        R.requirement_from_plan(data, scn)
    data["headcount"]["joint"] = [[-1]] * 24
    with pytest.raises(R.RosterInputError, match="not an agent count"):
        R.requirement_from_plan(data, scn)


def test_whole_rest_days_count_the_night_running_into_them():
    rules = dict(CHECK_RULES, subgroups=dict(CHECK_RULES["subgroups"], whole={"whole_rest_days": True}))
    agents = [R.Agent("A4", "desk", 40.0, "whole", line=5), R.Agent("A1", "desk", 40.0, None, line=2)]
    nights = ["22:00"] * 5 + [None, None]          # Friday's night runs into Saturday
    v = R.check_roster(week("A4", nights) + week("A1", nights), agents, rules, weeks=1)
    assert {(x["rule"], x["agent"]) for x in v} == {("rest_days_per_week", "A4")}
    assert "1 whole rest day(s)" in v[0]["message"]


def test_solver_keeps_whole_rest_days_with_night_shifts():
    scn = scenario()
    rules = dict(TINY_RULES, shifts=dict(TINY_RULES["shifts"], earliest_start="06:00", latest_start="22:00"),
                 defaults=dict(TINY_RULES["defaults"], whole_rest_days=True, hours_per_week={"min": 32, "max": 32}))
    day_req = np.zeros((24, 1), dtype=np.int64)
    day_req[:6, 0] = 2                              # only nights are needed
    agents = [R.Agent(f"A{i}", "desk", None, line=i + 2) for i in range(2)]
    res = R.solve_roster(scn, agents, rules, 2, day_req, time_limit_s=10, workers=1)
    assert res.violations == [] and res.rows
    assert any(r["start"] == "22:00" for r in res.rows)


@pytest.mark.parametrize("kind", ["nights", "weekends"])
def test_large_rosters_trade_unpopular_shifts_fairly(monkeypatch, kind):
    """On the block path (large instances) night shifts and weekend days are traded between agents of a
    group after the solver (with no fairness weight, so the solver alone leaves them uneven): the most per
    agent and the spread fall, no hard rule breaks, every agent keeps its hours and the coverage is the
    same interval by interval."""
    scn = scenario()
    rules = dict(TINY_RULES, shifts=dict(TINY_RULES["shifts"], earliest_start="06:00", latest_start="22:00"),
                 defaults=dict(TINY_RULES["defaults"], hours_per_week={"min": 24, "max": 24}),
                 fairness=[kind], weights=dict(TINY_RULES["weights"], fairness=0))
    day_req = np.ones((24, 1), dtype=np.int64)      # one agent round the clock
    agents = [R.Agent(f"A{i}", "desk", None, line=i + 2) for i in range(8)]
    monkeypatch.setattr(R, "FULL_MODEL_MAX", 0)    # the block path, as for hundreds of agents
    traded = []
    real = R._share

    def share(setup, doms, covers, plans, until):
        out = real(setup, doms, covers, plans, until)
        traded.append((plans, out))
        return out

    def solve(share_s):
        monkeypatch.setattr(R, "FAIR_SHARE_S", share_s)
        return R.solve_roster(scn, agents, rules, 2, day_req, time_limit_s=6, workers=1, seed=1)

    plain = solve(0.0)
    monkeypatch.setattr(R, "_share", share)
    shared = solve(3.0)
    counts = lambda res: [res.shifts_of(kind).get(a.agent, 0) for a in agents]  # noqa: E731
    assert shared.violations == [] and shared.shortfall_hours <= plain.shortfall_hours
    spread = lambda n: max(n) - min(n)  # noqa: E731
    fair = -(-sum(counts(shared)) // len(agents))      # the fair share, rounded up
    assert spread(counts(shared)) < spread(counts(plain)) and max(counts(shared)) <= max(fair, max(counts(plain)) - 1)
    (before, after), = traded                       # the trading itself: same coverage, same hours per week
    assert any(before[ai] != after[ai] for ai in before)
    assert all(len(before[ai]) == len(after[ai]) and
               [d // 7 for d, _ in sorted(before[ai])] == [d // 7 for d, _ in sorted(after[ai])] for ai in before)
    assert sorted(k for p in before.values() for k in p) == sorted(k for p in after.values() for k in p)
