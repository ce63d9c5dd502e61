"""Sweeps: grid keys, validation of every point, common random numbers, the table, the plot, the CLI."""
import csv
import io
import json

import numpy as np
import pytest
from helpers import digest, small
from typer.testing import CliRunner

import simcc
from simcc import sweep
from simcc.cli import app
from simcc.model.edits import point_scenario
from simcc.run.grid import grid_points, parse_set, parse_values
from simcc.run.store import ResumeError
from simcc.run.sweeps import load_sweep

GZ = "scenarios/guangzhou-10000.yaml"
runner = CliRunner()


@pytest.fixture(scope="module")
def guangzhou():
    return simcc.load(GZ)


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


# -- grid values -------------------------------------------------------------
def test_parse_values():
    assert parse_values("600,700,800") == [600, 700, 800]
    assert parse_values("600:1000:200") == [600, 800, 1000]
    assert parse_values("0.8:1.2:0.1") == [0.8, 0.9, 1.0, 1.1, 1.2]
    assert parse_values("none,120") == [None, 120]
    assert parse_values("priority") == ["priority"]
    assert parse_values("true,false") == [True, False]
    assert parse_set("groups.fault.agents=300,320") == ("groups.fault.agents", [300, 320])
    for bad in ("trunks", "=1,2", "trunks="):
        with pytest.raises(ValueError):
            parse_set(bad)
    with pytest.raises(ValueError, match="step"):
        parse_values("1:5:0")
    with pytest.raises(ValueError, match="below"):
        parse_values("5:1:1")


def test_grid_order_first_key_slowest():
    pts = grid_points({"a": [1, 2], "b": ["x", "y", "z"]})
    assert [(p["a"], p["b"]) for p in pts] == [(1, "x"), (1, "y"), (1, "z"), (2, "x"), (2, "y"), (2, "z")]


# -- what each key changes -----------------------------------------------------
def test_keys_change_the_named_field(guangzhou):
    s = point_scenario(guangzhou, {"trunks": 2000, "ivr.contained": 0.3, "groups.fault.agents": 300,
                                   "call_types.fault.patience.mean_s": 200.0, "routing.tier_priority": False,
                                   "arrivals.hotline.tiers.vip": 0.2, "arrivals.hotline.tiers.standard": 0.8})
    assert s.trunks == 2000 and s.ivr.contained == 0.3
    assert s.agents_per_interval(next(g for g in s.groups if g.name == "fault")) == [300] * 48
    assert s.call_types["fault"].patience.mean_s == 200.0
    assert s.routing.tier_priority is False
    assert s.arrivals[0].tiers == {"vip": 0.2, "standard": 0.8}
    # everything else is untouched
    assert s.groups[0] == guangzhou.groups[0] and s.call_types["billing"] == guangzhou.call_types["billing"]


def test_volume_and_agents_scale(guangzhou):
    s = point_scenario(guangzhou, {"volume": 1.25, "agents_scale": 1.1})
    assert s.expected_calls() == pytest.approx(1.25 * guangzhou.expected_calls())
    for g0, g1 in zip(guangzhou.groups, s.groups):
        assert g1.agents == [int(np.floor(a * 1.1 + 0.5)) for a in g0.agents]
    t = small()
    assert point_scenario(t, {"volume": 0.5}).expected_calls() == 0.5 * t.expected_calls()


def test_policy_key_takes_names_joined_by_plus(guangzhou):
    assert point_scenario(guangzhou, {"routing.policy": "priority+overflow"}).routing.policies == (
        "priority",
        "overflow",
    )
    assert point_scenario(guangzhou, {"routing.policy": "weighted_wait"}).routing.policies == ("weighted_wait",)
    with pytest.raises(simcc.ScenarioError, match="routing.policy"):
        point_scenario(guangzhou, {"routing.policy": "priority+telepathy"})


def test_unchanged_point_is_the_same_scenario(guangzhou):
    assert point_scenario(guangzhou, {}) == guangzhou
    assert point_scenario(guangzhou, {"trunks": guangzhou.trunks}) == guangzhou


@pytest.mark.parametrize(
    "point, path, text",
    [
        ({"groups.faults.agents": 10}, "groups.faults.agents", "did you mean 'fault'"),
        ({"ivr.contained": 1.5}, "ivr.contained", "less than or equal to 1"),
        ({"ivr.contained": 0.99}, "ivr", "contained + hangup"),
        ({"routing.policy": "telepathy"}, "routing.policy", "set by sweep key routing.policy"),
        ({"call_types.fraud.patience.mean_s": 60.0}, "call_types.fraud", "did you mean 'call_types.fault'"),
        ({"trunks": 10.5}, "trunks", "whole number"),
        ({"volume": -1}, "volume", "multiplier"),
        ({"agents_scale": "lots"}, "agents_scale", "multiplier"),
        ({"trunks.lines": 3}, "trunks.lines", "is a value"),
    ],
)
def test_bad_point_names_the_key(guangzhou, point, path, text):
    with pytest.raises(simcc.ScenarioError) as info:
        point_scenario(guangzhou, point, 3)
    err = info.value
    assert "sweep point 3" in str(err) and str(list(point.values())[0]) in str(err)
    assert any(p.path.startswith(path) for p in err.problems), err.problems
    assert text in str(err)


def test_bad_point_fails_before_anything_runs(tmp_path):
    with pytest.raises(simcc.ScenarioError, match="sweep point 2"):
        sweep(small(), {"groups.agents.agents": [360, 370, -1]}, replications=2, out_dir=tmp_path)
    assert not (tmp_path / "points").exists() and not (tmp_path / "meta.json").exists()
    with pytest.raises(ValueError, match="unknown KPI"):
        sweep(small(), {"trunks": [400]}, replications=2, kpis=["service_levels"])
    with pytest.raises(simcc.SizeError):
        sweep(small(), {"volume": [1, 2]}, replications=2, max_events=1000)


# -- common random numbers, equality with simulate ------------------------------
def test_common_random_numbers_across_points():
    sw = sweep(small(hours=1), {"groups.agents.agents": [360, 380]}, seed=5, replications=4, workers=1)
    a, b = sw.results
    # same arrivals in every replication: only the staffing differs
    assert np.array_equal(a.kpi("offered"), b.kpi("offered"))
    assert not np.array_equal(a.kpi("service_level"), b.kpi("service_level"))
    assert np.all(b.kpi("service_level") >= a.kpi("service_level"))  # paired: more agents never hurt here


def test_a_point_equals_simulate_of_its_scenario():
    base = small(hours=1)
    sw = sweep(base, {"trunks": [None, 500]}, seed=7, replications=3, workers=1)
    direct = simcc.simulate(point_scenario(base, {"trunks": 500}), seed=7, replications=3, workers=1)
    assert digest(sw.results[1]) == digest(direct)
    assert digest(sw.results[0]) == digest(simcc.simulate(base, seed=7, replications=3, workers=1))


def test_workers_do_not_change_the_table():
    grid = {"volume": [0.9, 1.1], "groups.agents.agents": [360, 380]}
    one = sweep(small(hours=1), grid, seed=2, replications=5, workers=1)
    two = sweep(small(hours=1), grid, seed=2, replications=5, workers=2)
    assert one.to_csv() == two.to_csv()
    assert two.meta["execution"]["executor"] == "processes"


# -- outputs ------------------------------------------------------------------------
def test_tidy_table_plot_and_meta(tmp_path):
    kpis = ["service_level", "abandon_rate", "asa_s"]
    sw = sweep(
        small(hours=1),
        {"routing.tier_priority": [True, False], "volume": [1.0, 1.2]},
        seed=3,
        replications=3,
        kpis=kpis,
        workers=1,
        out_dir=tmp_path,
        plot_kpi="abandon_rate",
    )
    rows = list(csv.DictReader(io.StringIO((tmp_path / "sweep.csv").read_text())))
    assert len(rows) == 4 * len(kpis)
    assert list(rows[0]) == [
        "point",
        "routing.tier_priority",
        "volume",
        "kpi",
        "mean",
        "ci_low",
        "ci_high",
        "replications",
    ]
    assert [r["kpi"] for r in rows[:3]] == kpis and {r["replications"] for r in rows} == {"3"}
    for r in rows:
        assert float(r["ci_low"]) <= float(r["mean"]) <= float(r["ci_high"])
    assert (tmp_path / "sweep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta["status"] == "complete" and meta["points"] == 4 and meta["completed_points"] == 4
    assert meta["grid"] == {"routing.tier_priority": [True, False], "volume": [1.0, 1.2]}
    point = json.loads((tmp_path / "points" / "0003" / "meta.json").read_text())
    assert point["sweep_point"] == {"index": 3, "routing.tier_priority": False, "volume": 1.2}
    assert (tmp_path / "points" / "0003" / "intervals.csv").exists()
    frame = sw.to_frame()
    assert frame.shape == (12, 8) and set(frame["kpi"]) == set(kpis)
    fig = sw.plot("service_level")
    assert fig.axes[0].get_xlabel() == "routing.tier_priority"
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["True", "False"]
    assert len(fig.axes[0].get_legend().get_texts()) == 2


def test_resume_refuses_a_changed_grid(tmp_path):
    sweep(small(hours=1), {"volume": [1.0, 1.1]}, seed=1, replications=2, workers=1, out_dir=tmp_path)
    with pytest.raises(ResumeError, match="another run"):
        sweep(small(hours=1), {"volume": [0.8, 1.1]}, seed=1, replications=2, workers=1, out_dir=tmp_path, resume=True)


def test_finished_sweep_resumes_without_running(tmp_path):
    first = sweep(small(hours=1), {"volume": [1.0, 1.1]}, seed=1, replications=2, workers=1, out_dir=tmp_path)
    again = sweep(
        small(hours=1), {"volume": [1.0, 1.1]}, seed=1, replications=2, workers=1, out_dir=tmp_path, resume=True
    )
    assert again.meta["execution"]["tasks"] == 0 and again.meta["execution"]["resumed_replications"] == 4
    assert again.to_csv() == first.to_csv()


# -- CLI ----------------------------------------------------------------------------
def test_cli_set_ranges(tmp_path):
    scn = tmp_path / "s.yaml"
    scn.write_text(json.dumps(small(hours=1).model_dump(mode="json", exclude_none=True)))
    r = invoke(
        "sweep",
        scn,
        "--set",
        "groups.agents.agents=360:380:20",
        "--set",
        "volume=1.0,1.1",
        "-r",
        3,
        "--out",
        tmp_path / "out",
        "-w",
        1,
        "--kpis",
        "service_level,occupancy",
        "--seed",
        4,
    )
    assert r.exit_code == 0, r.output
    assert "service_level per point" in r.output
    csv_text = (tmp_path / "out" / "sweep.csv").read_text()
    expected = sweep(
        small(hours=1),
        {"groups.agents.agents": [360, 380], "volume": [1.0, 1.1]},
        seed=4,
        replications=3,
        kpis=["service_level", "occupancy"],
        workers=1,
    )
    assert csv_text == expected.to_csv()


def test_cli_sweep_file(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "center.yaml").write_text(json.dumps(small(hours=1).model_dump(mode="json", exclude_none=True)))
    spec = tmp_path / "sweep.yaml"
    spec.write_text(
        "scenario: sub/center.yaml\n"
        "grid:\n  trunks: [null, 400]\n  call_types.calls.patience.mean_s: [60.0, 90.0]\n"
        "seed: 9\nreplications: 2\nkpis: [service_level, blocking_rate]\n"
    )
    conf = load_sweep(spec)
    assert conf["grid"] == {"trunks": [None, 400], "call_types.calls.patience.mean_s": [60.0, 90.0]}
    r = invoke("sweep", spec, "--out", tmp_path / "out", "-w", 1)
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(io.StringIO((tmp_path / "out" / "sweep.csv").read_text())))
    assert len(rows) == 8 and rows[0]["trunks"] == "" and rows[-1]["trunks"] == "400"
    assert json.loads((tmp_path / "out" / "meta.json").read_text())["seed"] == 9


@pytest.mark.parametrize(
    "text, message",
    [
        ("scenario: c.yaml\ngrid: {trunks: [1]}\nreplicatons: 3\n", "did you mean 'replications'"),
        ("scenario: c.yaml\n", "needs grid"),
        ("scenario: c.yaml\ngrid: {groups.nobody.agents: [1]}\n", "no item named 'nobody'"),
        ("scenario: c.yaml\ngrid: {trunks: [1]}\nkpis: [speed]\n", "kpis must be"),
    ],
)
def test_cli_bad_sweep_file(tmp_path, text, message):
    (tmp_path / "c.yaml").write_text(json.dumps(small(hours=1).model_dump(mode="json", exclude_none=True)))
    (tmp_path / "sweep.yaml").write_text(text)
    r = invoke("sweep", tmp_path / "sweep.yaml", "--out", tmp_path / "out")
    assert r.exit_code == 2
    assert all(word in r.output for word in message.split()), r.output  # the problems table wraps lines
    assert "Traceback" not in r.output


def test_cli_usage_errors(tmp_path):
    scn = tmp_path / "s.yaml"
    scn.write_text(json.dumps(small(hours=1).model_dump(mode="json", exclude_none=True)))
    r = invoke("sweep", scn, "--out", tmp_path / "o")
    assert r.exit_code == 2 and "nothing to sweep" in r.output
    r = invoke("sweep", scn, "--set", "trunks", "--out", tmp_path / "o")
    assert r.exit_code == 2 and "KEY=V1,V2" in r.output
    r = invoke("sweep", scn, "--set", "trunks=1,2", "--kpis", "nope", "--out", tmp_path / "o")
    assert r.exit_code == 2 and "unknown KPI" in r.output


def test_fresh_sweep_into_a_used_folder_leaves_nothing_stale(tmp_path):
    sweep(small(hours=1), {"volume": [1.0, 1.1, 1.2]}, seed=1, replications=2, workers=1, out_dir=tmp_path)
    (tmp_path / "points" / "0002" / "notes.txt").write_text("mine")

    def stop_at_once(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sweep(
            small(hours=1),
            {"volume": [0.5, 0.6]},
            seed=1,
            replications=2,
            workers=1,
            out_dir=tmp_path,
            progress=stop_at_once,
        )
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta["status"] == "interrupted" and meta["completed_points"] == 0
    assert (tmp_path / "sweep.csv").read_text().count("\n") == 1  # the header only
    for point in ("0000", "0001"):
        assert not (tmp_path / "points" / point / "meta.json").exists()
        assert not list((tmp_path / "points" / point / "reps").glob("*.npz"))
    assert sorted(p.name for p in (tmp_path / "points" / "0002").iterdir()) == ["notes.txt"]
