"""What the commands print: user text verbatim, no lost digits, every format for every command, valid JSON."""
import csv
import io
import json
import math
import re
import subprocess
import sys

import pytest
from typer.testing import CliRunner

import simcc
from simcc.cli import app, console

runner = CliRunner()
QZ = "scenarios/quanzhou-10000.yaml"
ESC = "\x1b"

SMALL = """\
name: {name}
interval_minutes: 30
intervals: 4
call_types:
  {ctype}:
    patience: {{dist: exponential, mean_s: 120}}
    talk: {{dist: exponential, mean_s: 180}}
arrivals:
  - name: line
    entry: {ctype}
    calls: [60, 90, 90, 60]
groups:
  - name: desk
    agents: [8, 12, 12, 8]
    skills: {{{ctype}: 1}}
sla:
  service_level: {{percent: 80, within_s: 20}}
  abandon_max_pct: 10
"""


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def small(tmp_path, name="small", ctype="calls"):
    path = tmp_path / "small.yaml"
    path.write_text(SMALL.format(name=name, ctype=ctype))
    return path


def strict_json(text: str):
    """json.loads that refuses NaN and Infinity, as most parsers do."""
    def refuse(token):
        raise ValueError(f"invalid JSON constant {token}")
    return json.loads(text, parse_constant=refuse)


# -- user text, verbatim ---------------------------------------------------------
def test_bracketed_skill_key_is_reported_as_written(tmp_path):
    path = small(tmp_path)
    path.write_text(path.read_text().replace("skills: {calls: 1}", 'skills: {calls: 1, "billing[vip]": 1}'))
    r = invoke("validate", path)
    assert r.exit_code == 2
    assert "unknown call type 'billing[vip]'" in r.output
    assert "did you mean 'billing'" not in r.output


@pytest.mark.parametrize("name", ["[/]", "[bold red]loud[/]", "a [link=x]b[/link]", "red\x1b[31mtext"])
def test_markup_and_control_characters_in_a_scenario_are_shown_not_obeyed(tmp_path, name):
    path = small(tmp_path, name=json.dumps(name))
    for args in (["validate", path], ["run", path, "-r", 2]):
        r = invoke(*args)
        assert r.exit_code == 0, r.output
        assert ESC not in r.output
    shown = name.replace(ESC, "\\x1b")
    assert shown in invoke("run", path, "-r", 2).output


@pytest.mark.parametrize("args, text", [
    (["staff", "{s}", "--target", "95[x]/15"], "'95[x]/15'"),
    (["staff", "{s}", "--abandon-max", "5[%]"], "'5[%]'"),
    (["trunks", "{s}", "--blocking-max", "[1]%"], "'[1]%'"),
    (["shifts", "{s}", "--target", "[b]90/15"], "'[b]90/15'"),
    (["erlang", "--calls-per-hour", "100", "--aht-s", "100", "--target", "9[0]"], "'9[0]'"),
    (["compare", "{s}", "-p", "priority", "-p", "prio[rity]", "-r", "2"], "'prio[rity]'"),
    (["sweep", "{s}", "--set", "trunks=[5]", "--out", "{out}"], "[5]"),
])
def test_bad_option_text_is_echoed_verbatim(tmp_path, args, text):
    path = small(tmp_path)
    r = invoke(*[a.format(s=path, out=tmp_path / "o") for a in args])
    assert r.exit_code == 2, r.output
    assert text in r.output, r.output
    assert "Traceback" not in r.output


def test_visible_shows_controls_and_keeps_text():
    assert console.visible("billing[vip] 客服") == "billing[vip] 客服"
    assert console.visible("a\x1b[2Jb\x07") == "a\\x1b[2Jb\\x07"
    assert console.visible("line\nnext") == "line\nnext"


# -- no lost digits ----------------------------------------------------------------
@pytest.fixture
def narrow(monkeypatch):
    monkeypatch.setattr(console.out, "width", 80)
    monkeypatch.setattr(console.err, "width", 80)


def _cells(output):
    return [c.strip() for line in output.splitlines() for c in re.split(r"[│┃]", line) if c.strip()]


def test_run_tables_fit_80_columns_without_cutting_a_number(narrow):
    r = invoke("run", QZ, "-r", 3, "--seed", 4)
    assert r.exit_code == 0
    assert "…" not in r.output
    assert max(len(line) for line in r.output.splitlines()) <= 80
    table = list(csv.DictReader(io.StringIO(invoke("run", QZ, "-r", 3, "--seed", 4, "--format", "csv").stdout)))
    cells = set(_cells(r.output))
    for p in (0, 20, 47):        # every value of these rows is in the table, whole
        row = table[p]
        assert f"{float(row['offered']):,.0f}" in cells
        assert f"{100 * float(row['service_level']):.1f}%" in cells
        assert f"{float(row['asa_s']):,.1f}" in cells


def test_staff_table_of_a_five_group_center_keeps_every_digit_when_piped(tmp_path):
    """Piped output (no terminal) is wide and still split rather than cut."""
    gz = simcc.load("scenarios/guangzhou-10000.yaml")
    groups = [g.model_dump(mode="python", exclude_none=True) for g in gz.groups]
    assert len(groups) == 5
    from rich.console import Console

    from simcc.cli.console import print_table
    buf = io.StringIO()
    long = "1,234,567.8 (1,234,000.1-1,235,000.9)"
    print_table(["interval", *[g["name"] for g in groups], "service level (95% CI)", "abandon (95% CI)"],
                [["08:00", *["123"] * 5, long, long]], console=Console(file=buf, width=100))
    out = buf.getvalue()
    assert "…" not in out and out.count(long) == 2
    assert max(len(line) for line in out.splitlines()) <= 100


# -- every format for every command ----------------------------------------------------
def _commands(path, tmp_path):
    return {
        "run": ["run", path, "-r", 2],
        "validate": ["validate", path],
        "erlang": ["erlang", "--calls-per-hour", "120", "--aht-s", "180", "--target", "80%"],
        "compare": ["compare", path, "-p", "priority", "-p", "weighted_wait", "-r", 3],
        "sweep": ["sweep", path, "--set", "groups.desk.agents=10,14", "-r", 2, "--out", tmp_path / "sw"],
        "staff": ["staff", path, "-r", 4, "--no-verify"],
        "trunks": ["trunks", path, "-r", 4],
        "shifts": ["shifts", path, "--headcount", "--shift-hours", "1"],
    }


@pytest.mark.parametrize("command", ["run", "validate", "erlang", "compare", "sweep", "staff", "trunks", "shifts"])
def test_every_command_prints_csv_and_strict_json(tmp_path, command):
    path = small(tmp_path)
    args = _commands(path, tmp_path)[command]
    table = invoke(*args)
    assert table.exit_code == 0, table.output
    c = invoke(*args, "--format", "csv")
    assert c.exit_code == 0
    rows = list(csv.reader(io.StringIO(c.stdout)))
    least = 1 if command == "validate" else 2          # a clean scenario has no problem rows
    assert len(rows) >= least and len({len(r) for r in rows}) == 1, c.stdout       # a header and rectangular rows
    j = invoke(*args, "--format", "json")
    assert j.exit_code == 0
    assert strict_json(j.stdout)


def test_infinite_and_missing_values_are_null_in_json():
    r = invoke("erlang", "--calls-per-hour", "3600", "--aht-s", "100", "--agents", "90", "--format", "json")
    data = strict_json(r.stdout)                       # 100 Erlangs on 90 agents: no steady state
    assert data["asa_s"] is None and data["trunk_lines"] is None
    assert data["agents"] == 90


def test_csv_booleans_and_numbers_are_written_one_way(tmp_path):
    path = small(tmp_path)
    out = invoke("staff", path, "-r", 4, "--no-verify", "--format", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {r["passed"] for r in rows} <= {"true", "false"} and {r["measured"] for r in rows} <= {"true", "false"}
    assert all(not r["required"].endswith(".0") for r in rows)


def test_erlang_takes_percent_signs_like_the_other_commands():
    a = strict_json(invoke("erlang", "--calls-per-hour", "1200", "--aht-s", "280", "--target", "90%",
                           "--format", "json").stdout)
    b = strict_json(invoke("erlang", "--calls-per-hour", "1200", "--aht-s", "280", "--target", "90",
                           "--format", "json").stdout)
    assert a == b and a["service_level"] >= 0.9


# -- conventions -------------------------------------------------------------------------
def test_version_everywhere():
    r = invoke("--version")
    assert r.exit_code == 0 and r.output.strip() == f"simcc {simcc.__version__}"
    proc = subprocess.run([sys.executable, "-m", "simcc", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.strip() == f"simcc {simcc.__version__}"
    assert re.match(r"\d+\.\d+", simcc.__version__)


def test_completion_is_offered():
    assert "--install-completion" in invoke("--help").output


def test_short_reprs_and_html_reprs(tmp_path):
    s = simcc.load(QZ)
    assert len(repr(s)) < 200 and "quanzhou" in repr(s) and str(s) == repr(s)
    r = simcc.simulate(s, replications=2)
    for obj in (s, r):
        html = obj._repr_html_()
        assert html.startswith("<table") and "</table>" in html
    evil = simcc.load(small(tmp_path, name='"<script>x</script>"'))
    assert "<script>" not in evil._repr_html_() and "&lt;script&gt;" in evil._repr_html_()
    from simcc import plan as planning
    plan = planning.staff(evil, replications=3, verify=False)
    assert "<table" in plan._repr_html_() and len(repr(plan)) < 300
    assert math.isfinite(plan.agent_hours)
