"""Ctrl-C keeps every finished replication; --resume ends with the same table as an uninterrupted run."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import typer
from helpers import digest, small

import simcc
from simcc import sweep
from simcc.cli import scale as _cli_scale
from simcc.run.jobs import Interrupted

psutil = pytest.importorskip("psutil")
ROOT = Path(simcc.__file__).resolve().parents[1]
GRID = {"groups.agents.agents": [360, 380]}
KPIS = ["service_level", "abandon_rate", "asa_s"]


def _rep_files(out: Path) -> list[Path]:
    return list(out.glob("points/*/reps/rep-*.npz")) + list(out.glob("reps/rep-*.npz"))


def _temp_files(out: Path) -> list[Path]:
    return [p for p in out.rglob("*") if p.name.startswith(".simcc-")]


@pytest.mark.parametrize("workers", [1, 2])
def test_sweep_interrupted_midway_then_resumed(tmp_path, workers):
    base = small(hours=1)
    grid = {"groups.agents.agents": [360, 370, 380]}
    uninterrupted = sweep(base, grid, seed=13, replications=6, kpis=KPIS, workers=1)

    def ctrl_c_at_8(done, total):
        if done >= 8:
            raise KeyboardInterrupt

    with pytest.raises(Interrupted) as info:
        sweep(base, grid, seed=13, replications=6, kpis=KPIS, workers=workers, out_dir=tmp_path, progress=ctrl_c_at_8)
    part = info.value.result
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta["status"] == "interrupted" and meta["completed_points"] == sum(r is not None for r in part.results)
    assert meta["completed_points"] < 3 and meta["unfinished_points"]
    if workers == 1:
        assert meta["completed_points"] == 1    # in order: point 0 (6 replications) was done at the 8th
    assert len(_rep_files(tmp_path)) >= 8 and not _temp_files(tmp_path)
    # the table holds the finished points only, each exactly as in the full run
    table = (tmp_path / "sweep.csv").read_text().splitlines()
    full = uninterrupted.to_csv().splitlines()
    assert table[0] == full[0] and set(table[1:]) <= set(full[1:])
    assert len(table) == 1 + meta["completed_points"] * len(KPIS)

    kept = len(_rep_files(tmp_path))
    resumed = sweep(base, grid, seed=13, replications=6, kpis=KPIS, workers=workers, out_dir=tmp_path, resume=True)
    assert resumed.meta["execution"]["resumed_replications"] == kept
    assert (tmp_path / "sweep.csv").read_text() == uninterrupted.to_csv()
    assert [digest(r) for r in resumed.results] == [digest(r) for r in uninterrupted.results]
    assert json.loads((tmp_path / "meta.json").read_text())["status"] == "complete"


def _cli(*args, **kw):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in [str(ROOT), os.environ.get("PYTHONPATH", "")] if p))
    return subprocess.Popen([sys.executable, "-c", "from simcc.cli import main; main()", *map(str, args)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True, **kw)


def _session_processes(sid: int) -> list:
    out = []
    for p in psutil.process_iter(["pid"]):
        try:
            if os.getsid(p.pid) == sid and p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except (ProcessLookupError, psutil.NoSuchProcess, PermissionError):
            pass
    return out


def test_cli_ctrl_c_then_resume(tmp_path):
    """A real SIGINT to the whole process group (what Ctrl-C sends), in the middle of a sweep on two workers."""
    scn = tmp_path / "center.yaml"
    base = small(hours=24)          # ~170,000 calls a replication: a few seconds of work in all
    scn.write_text(json.dumps(base.model_dump(mode="json", exclude_none=True)))
    out = tmp_path / "out"
    args = ["sweep", scn, "--set", "groups.agents.agents=360,380", "-r", 40, "--out", out, "-w", 2,
            "--kpis", ",".join(KPIS), "--seed", 17]
    proc = _cli(*args)
    try:
        deadline = time.monotonic() + 60
        while len(_rep_files(out)) < 6:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no replication finished within 60 s"
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, stderr.decode()
    assert b"interrupted" in stderr and b"--resume" in stderr and b"Traceback" not in stderr
    meta = json.loads((out / "meta.json").read_text())
    assert meta["status"] == "interrupted" and meta["completed_points"] < 2
    kept = len(_rep_files(out))
    assert 6 <= kept < 80 and not _temp_files(out)
    deadline = time.monotonic() + 10
    while _session_processes(proc.pid) and time.monotonic() < deadline:   # no worker left behind
        time.sleep(0.1)
    assert not _session_processes(proc.pid)

    again = _cli(*args, "--resume")
    stdout, stderr = again.communicate(timeout=120)
    assert again.returncode == 0, stderr.decode()
    meta = json.loads((out / "meta.json").read_text())
    assert meta["status"] == "complete" and meta["execution"]["resumed_replications"] == kept
    expected = sweep(base, GRID, seed=17, replications=40, kpis=KPIS, workers=2)
    assert (out / "sweep.csv").read_text() == expected.to_csv()


def test_run_helper_exit_codes_and_resume(tmp_path, monkeypatch):
    """What `simcc run --out DIR [--resume]` calls: 130 on Ctrl-C with the replications kept, then resume."""
    real = _cli_scale.simulate

    def ctrl_c_after_4(*args, **kw):
        def tick(done, total):
            kw["progress"](done, total)
            if done >= 4:
                raise KeyboardInterrupt
        return real(*args, **dict(kw, progress=tick))

    base = small()
    monkeypatch.setattr(_cli_scale, "simulate", ctrl_c_after_4)
    with pytest.raises(typer.Exit) as info:
        _cli_scale.run_replications(base, seed=3, replications=10, workers=2, out_dir=tmp_path)
    assert info.value.exit_code == 130
    assert json.loads((tmp_path / "meta.json").read_text())["status"] == "interrupted"
    monkeypatch.setattr(_cli_scale, "simulate", real)
    result = _cli_scale.run_replications(base, seed=3, replications=10, workers=2, out_dir=tmp_path, resume=True)
    assert result.meta["execution"]["resumed_replications"] >= 4
    assert digest(result) == digest(simcc.simulate(base, seed=3, replications=10, workers=1))
    with pytest.raises(typer.Exit) as info:
        _cli_scale.run_replications(base, seed=4, replications=10, out_dir=tmp_path, resume=True)
    assert info.value.exit_code == 2          # another seed: refuses to mix runs
    with pytest.raises(typer.Exit) as info:
        _cli_scale.run_replications(base, seed=3, replications=10, resume=True)
    assert info.value.exit_code == 2          # --resume without --out


def _run_has_resume() -> bool:
    from typer.testing import CliRunner

    from simcc.cli import app
    return "--resume" in CliRunner().invoke(app, ["run", "--help"], terminal_width=200).output


@pytest.mark.skipif(not _run_has_resume(), reason="simcc run has no --workers/--resume yet (simcc/cli.py wiring)")
def test_cli_run_ctrl_c_then_resume(tmp_path):
    """`simcc run --out DIR`: Ctrl-C exits 130 keeping the finished replications; --resume ends identical."""
    scn = tmp_path / "center.yaml"
    base = small(hours=24)
    scn.write_text(json.dumps(base.model_dump(mode="json", exclude_none=True)))
    out = tmp_path / "out"
    args = ["run", scn, "-r", 60, "--out", out, "-w", 2, "--seed", 23, "--format", "json"]
    proc = _cli(*args)
    try:
        deadline = time.monotonic() + 60
        while len(_rep_files(out)) < 5:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no replication finished within 60 s"
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, stderr.decode()
    meta = json.loads((out / "meta.json").read_text())
    kept = len(_rep_files(out))
    assert meta["status"] == "interrupted" and meta["completed_replications"] == kept and 5 <= kept < 60
    assert not _temp_files(out)

    again = _cli(*args, "--resume")
    stdout, stderr = again.communicate(timeout=120)
    assert again.returncode == 0, stderr.decode()
    result = json.loads(stdout)
    assert result["meta"]["status"] == "complete" and result["meta"]["execution"]["resumed_replications"] == kept
    expected = simcc.simulate(base, seed=23, replications=60, workers=2)
    assert (out / "summary.csv").read_text() == expected.summary_csv()
    assert (out / "intervals.csv").read_text() == expected.intervals_csv()
