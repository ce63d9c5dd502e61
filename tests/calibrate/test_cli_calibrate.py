"""simcc run --records, simcc fit and simcc backtest on the command line: files, formats, exit codes."""
import csv
import io
import json

import numpy as np
import pytest
from typer.testing import CliRunner

import simcc
from simcc.calibrate import read_records
from simcc.cli import app

runner = CliRunner()
EA = "scenarios/textbook-erlang-a.yaml"


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def calls(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "calls.csv"
    r = invoke("run", EA, "-r", 3, "--seed", 4, "--records", path, "--format", "csv")
    assert r.exit_code == 0, r.output
    return path


def test_run_records_writes_the_record_format(calls):
    rows = list(csv.DictReader(open(calls, encoding="utf-8")))
    assert list(rows[0]) == list(simcc.calibrate.COLUMNS)
    days = {r["arrival"][:10] for r in rows}
    assert days == {"2026-01-05", "2026-01-06", "2026-01-07"}
    assert {r["outcome"] for r in rows} <= set(simcc.calibrate.OUTCOMES)
    rec = read_records(calls)
    assert len(rec) == len(rows)


def test_fit_writes_a_valid_scenario_and_its_report(calls, tmp_path):
    out = tmp_path / "fitted.yaml"
    r = invoke("fit", calls, "--base", EA, "--out", out)
    assert r.exit_code == 0, r.output
    s = simcc.load(out)
    assert s.name.endswith("-fitted")
    report = json.loads((tmp_path / "fitted.fit.json").read_text())
    assert report["records"] == len(read_records(calls)) and len(report["days"]) == 3
    assert "call_types" in str(report["estimates"])


def test_fit_csv_and_json_formats(calls):
    r = invoke("fit", calls, "--base", EA, "--format", "csv")
    assert r.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    names = {row["name"] for row in rows}
    assert "call_types.inquiry.talk" in names or any(n.endswith(".talk") for n in names)
    r = invoke("fit", calls, "--base", EA, "--format", "json")
    data = json.loads(r.stdout)
    assert set(data) == {"scenario", "report"}


def test_fit_with_sla_options_and_no_base(calls, tmp_path):
    r = invoke("fit", calls, "--target", "80/20", "--abandon-max", "5%", "--name", "mine", "--out",
               tmp_path / "s.yaml")
    assert r.exit_code == 0, r.output
    s = simcc.load(tmp_path / "s.yaml")
    assert s.name == "mine" and s.sla.service_level.percent == 80 and s.sla.abandon_max_pct == 5
    assert "placeholder" in r.output


def test_backtest_writes_every_file_and_passes_on_its_own_scenario(calls, tmp_path):
    r = invoke("backtest", EA, calls, "-r", 40, "--out", tmp_path / "bt", "--check")
    assert r.exit_code == 0, r.output
    for f in ("verdicts.csv", "intervals.csv", "day.csv", "backtest.png", "backtest.json"):
        assert (tmp_path / "bt" / f).stat().st_size > 0, f
    data = json.loads((tmp_path / "bt" / "backtest.json").read_text())
    assert data["passed"] is True
    assert "no headcount records" in r.output


def test_backtest_check_fails_a_wrong_scenario(calls, tmp_path):
    data = simcc.load(EA).model_dump(mode="json", exclude_none=True)
    data["groups"][0]["agents"] = [max(1, int(a * 0.8)) for a in simcc.load(EA).agents_per_interval(
        simcc.load(EA).groups[0])]
    wrong = tmp_path / "wrong.yaml"
    import yaml
    wrong.write_text(yaml.safe_dump(data))
    r = invoke("backtest", wrong, calls, "-r", 40, "--check")
    assert r.exit_code == 3, r.output
    assert "FAIL" in r.output


def test_backtest_uses_each_days_headcount(calls, tmp_path):
    """A dated headcount file: each recorded day is simulated with its own agents."""
    scn = simcc.load(EA)
    agents = scn.agents_per_interval(scn.groups[0])
    lines = ["interval_start,group,agents"]
    for d in ("2026-01-05", "2026-01-06", "2026-01-07"):
        for p, a in enumerate(agents):
            lines.append(f"{d}T{p * 30 // 60:02d}:{p * 30 % 60:02d}:00,{scn.groups[0].name},{a}")
    (tmp_path / "agents.csv").write_text("\n".join(lines) + "\n")
    r = invoke("backtest", EA, calls, "-r", 30, "--agents", tmp_path / "agents.csv", "--format", "json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert not any("no headcount" in n for n in data["notes"])
    # an unknown group in the headcount file is a clear error
    (tmp_path / "bad.csv").write_text("interval_start,group,agents\n2026-01-05T08:00:00,nobody,3\n")
    r = invoke("backtest", EA, calls, "-r", 30, "--agents", tmp_path / "bad.csv")
    assert r.exit_code == 2 and "nobody" in r.output and "Traceback" not in r.output


def test_parquet_records_read_like_csv(calls, tmp_path):
    pytest.importorskip("pyarrow")
    import pandas as pd
    pd.read_csv(calls, dtype=str, keep_default_na=False).to_parquet(tmp_path / "calls.parquet")
    a, b = read_records(calls), read_records(tmp_path / "calls.parquet")
    assert len(a) == len(b)
    for k in ("arrival_s", "wait_s", "talk_s", "outcome", "caller"):
        assert np.array_equal(getattr(a, k), getattr(b, k)), k


def test_records_with_offsets_and_an_export_mapping(tmp_path):
    text = ("Id,Ani,Start,Dnis,Result,Queue,Q,Talk\n"
            "1,555,02/03/2026 08:00:05,ivr,ANS,billing,3,120\n"
            "2,556,02/03/2026 08:01:00,ivr,ABN,billing,40,\n")
    (tmp_path / "acd.csv").write_text(text)
    (tmp_path / "map.yaml").write_text(
        "columns: {call_id: Id, caller_id: Ani, arrival: Start, entry: Dnis, outcome: Result, call_type: Queue,"
        " wait_s: Q, talk_s: Talk}\n"
        "outcome_values: {ANS: answered, ABN: abandoned}\ntime_format: '%d/%m/%Y %H:%M:%S'\n")
    r = invoke("fit", tmp_path / "acd.csv", "--mapping", tmp_path / "map.yaml", "--format", "json")
    # one answered call without a group: the mapping worked, and the record problem is named
    assert r.exit_code == 2 and "group" in r.output and "Traceback" not in r.output
    with pytest.raises(simcc.RecordsError) as err:
        read_records(tmp_path / "acd.csv", mapping=tmp_path / "map.yaml")
    assert [(p.path, p.line) for p in err.value.problems] == [("group", 2)]
    rec = read_records(tmp_path / "acd.csv", mapping=tmp_path / "map.yaml", skip_bad=True)
    assert len(rec) == 1 and rec.skipped == {"group missing": 1}
    assert rec.days == ["2026-03-02"] and rec.arrival_s[0] == pytest.approx(8 * 3600 + 60)
