"""The command line: outputs, files, exit codes."""
import csv
import io
import json

import pytest
from typer.testing import CliRunner

import simcc
from simcc.cli import app

runner = CliRunner()
QZ = "scenarios/quanzhou-10000.yaml"


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def test_run_table_shows_intervals_summary_and_sla():
    r = invoke("run", QZ, "-r", 3)
    assert r.exit_code == 0, r.output
    assert "per interval" in r.output and "Day summary" in r.output
    assert "answered within 15 s" in r.output and ("PASS" in r.output or "FAIL" in r.output)
    assert "23:30" in r.output


def test_run_json_is_complete_and_strict():
    r = invoke("run", QZ, "-r", 2, "--seed", 5, "--format", "json")
    assert r.exit_code == 0
    data = json.loads(r.stdout)
    assert set(data) == {"meta", "summary", "sla", "by_call_type", "by_group", "by_interval"}
    assert data["meta"]["seed"] == 5 and data["meta"]["replications"] == 2
    assert 0 < data["summary"]["service_level"]["mean"] <= 1
    assert len(data["by_interval"]["offered"]) == 48
    assert set(data["by_call_type"]) == {"fault", "billing", "business", "complaint"}


def test_run_csv_per_interval():
    r = invoke("run", QZ, "-r", 2, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert len(rows) == 48
    assert float(rows[20]["offered"]) > float(rows[6]["offered"])   # 10:00 busier than 03:00


def test_same_seed_same_output():
    a = invoke("run", QZ, "-r", 2, "--seed", 9, "--format", "csv").stdout
    b = invoke("run", QZ, "-r", 2, "--seed", 9, "--format", "csv").stdout
    c = invoke("run", QZ, "-r", 2, "--seed", 10, "--format", "csv").stdout
    assert a == b and a != c


def test_out_dir_files(tmp_path):
    out = tmp_path / "res"
    r = invoke("run", QZ, "-r", 2, "--out", out, "--format", "csv")
    assert r.exit_code == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == [".simcc.lock", "intervals.csv", "meta.json", "reps", "result.json", "summary.csv"]
    meta = json.loads((out / "meta.json").read_text())
    assert meta["status"] == "complete" and meta["completed_replications"] == 2
    assert "entropy" in meta and meta["sl_definition"]["denominator"] == "queued"


def test_validate_good_and_bad(tmp_path):
    assert invoke("validate", QZ).exit_code == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text(open(QZ).read().replace("trunks: 750", "trunks: -5").replace("contained: 0.38", "contained: 1.38"))
    r = invoke("validate", bad)
    assert r.exit_code == 2
    assert "trunks" in r.output and "ivr.contained" in r.output


def test_check_sla_exit_code(tmp_path):
    s = tmp_path / "under.yaml"
    s.write_text(open("scenarios/textbook-erlang-a.yaml").read())
    r = invoke("run", s, "-r", 2, "--check-sla")
    assert r.exit_code == 3          # 50 agents for 60 Erlangs cannot meet 80/20


def test_size_guard_stops_a_runaway_day_not_a_long_run(tmp_path):
    r = invoke("run", "scenarios/guangzhou-10000.yaml", "-r", 1000, "--max-events", "1e5")
    assert r.exit_code == 2
    assert "one replication" in r.output and "estimated" in r.output and "--max-events" in r.output
    from simcc.run.simulation import MAX_EVENTS, estimate_events
    gz = simcc.load("scenarios/guangzhou-10000.yaml")
    assert estimate_events(gz, 1) < MAX_EVENTS < estimate_events(gz, 2000)   # docs/scale.md's 2,000 days run


def test_reference_engine_from_cli():
    r = invoke("run", "scenarios/textbook-erlang-b.yaml", "-r", 1, "--engine", "reference", "--format", "json")
    k = invoke("run", "scenarios/textbook-erlang-b.yaml", "-r", 1, "--engine", "kernel", "--format", "json")
    assert json.loads(r.stdout)["summary"] == json.loads(k.stdout)["summary"]


@pytest.mark.parametrize("args", [
    ["--calls-per-hour", "1200", "--aht-s", "280"],
    ["--calls-per-hour", "1200", "--aht-s", "280", "--patience-s", "120", "--agents", "95"],
])
def test_erlang_calculator(args):
    r = invoke("erlang", *args, "--format", "json")
    assert r.exit_code == 0
    data = json.loads(r.stdout)
    assert data["agents"] >= 94 and 0 < data["service_level"] <= 1 and data["trunk_lines"] > data["agents"]


def test_erlang_bad_input():
    r = invoke("erlang", "--calls-per-hour", "-5", "--aht-s", "280")
    assert r.exit_code == 2


def test_out_that_is_a_file_is_refused_before_running(tmp_path):
    f = tmp_path / "afile"
    f.write_text("keep me")
    for args in (["run", QZ, "-r", 2, "--out", f], ["sweep", QZ, "--set", "trunks=10", "--out", f]):
        r = invoke(*args)
        assert r.exit_code == 2 and "not a folder" in r.output
    assert f.read_text() == "keep me"


def test_misplaced_key_names_where_it_belongs(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(open(QZ).read().replace("name: quanzhou-10000", "name: quanzhou-10000\npolicy: priority"))
    r = invoke("validate", bad)
    assert r.exit_code == 2 and "belongs under routing" in r.output


def test_progress_bar_eta_ignores_resumed_replications(monkeypatch):
    import io
    import time

    from rich.console import Console

    from simcc.cli import scale as _cli_scale

    monkeypatch.setattr(_cli_scale, "err", Console(file=io.StringIO(), force_terminal=True, width=100))
    bar = _cli_scale.Progress(100)
    with bar as tick:
        tick(50, 100)                   # where a resumed run starts
        for done in range(51, 56):
            time.sleep(0.05)
            tick(done, 100)
        task = bar.bar.tasks[0]
        assert task.completed == 55 and task.total == 100
        assert task.speed < 100         # about 20 per second, not 50 in no time
        assert task.time_remaining > 1
