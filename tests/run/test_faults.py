"""Fault injection: kills, interrupts, concurrent runs and foreign files on an output folder.

Every case must end with the right exit code, no traceback, no hang, every
file complete, a ``meta.json`` that is either absent (a crash) or true, and a
resume bit-identical to an uninterrupted run. ``SIMCC_FAULTS=N`` raises the
number of random kills and interrupts (default 6 each, a few seconds in CI).
"""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
from helpers import digest, small

import simcc
from simcc.run import outdir

ROOT = Path(simcc.__file__).resolve().parents[1]
N_FAULTS = int(os.environ.get("SIMCC_FAULTS", "6"))
RESULT_FILES = ("summary.csv", "intervals.csv", "result.json", "meta.json")
pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX signals")


def _scenario_file(tmp_path) -> Path:
    path = tmp_path / "center.yaml"
    path.write_text(json.dumps(small(hours=24).model_dump(mode="json", exclude_none=True)))
    return path


def _cli(*args) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in [str(ROOT), os.environ.get("PYTHONPATH", "")] if p))
    return subprocess.Popen([sys.executable, "-m", "simcc", *map(str, args)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)


def _finish(proc, timeout=60):
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"no exit within {timeout} s (a hang)")
    return proc.returncode, out.decode(), err.decode()


def _started(out: Path, proc) -> bool:
    """The command holds the folder (simcc is imported and the run has begun)."""
    try:
        return json.loads((out / ".simcc.lock").read_text()).get("pid") == proc.pid
    except (OSError, ValueError):
        return False


def _check_consistent(out: Path) -> None:
    """meta.json, when present, vouches only for files of the same run, all complete."""
    assert not list(out.glob("**/.simcc-*.tmp")) or not (out / "meta.json").exists()
    meta_path = out / "meta.json"
    if not meta_path.exists():
        return
    meta = json.loads(meta_path.read_text())
    assert meta["status"] in ("complete", "interrupted")
    if (out / "result.json").exists():
        result = json.loads((out / "result.json").read_text())
        assert result["meta"]["entropy"] == meta["entropy"]
        assert result["meta"]["replications"] == meta["replications"]
        assert result["meta"]["status"] == meta["status"]


def test_a_second_run_on_a_busy_folder_is_refused_naming_the_holder(tmp_path):
    s = small()
    busy = rf"in use by another simcc run \(process {os.getpid()}"
    with outdir.claim(tmp_path / "out"), pytest.raises(simcc.FolderBusy, match=busy):
        simcc.simulate(s, replications=2, out_dir=tmp_path / "out", workers=1)
    r = simcc.simulate(s, replications=2, out_dir=tmp_path / "out", workers=1)     # free again
    assert r.meta["status"] == "complete"


def test_two_commands_on_one_folder(tmp_path):
    scn, out = _scenario_file(tmp_path), tmp_path / "out"
    first = _cli("run", scn, "-r", 400, "--seed", 7, "--out", out, "-w", 1)
    try:
        deadline = time.monotonic() + 60
        while not list((out / "reps").glob("rep-*.npz")):
            assert first.poll() is None and time.monotonic() < deadline, first.communicate()
            time.sleep(0.02)
        code, _, err = _finish(_cli("run", scn, "-r", 4, "--seed", 8, "--out", out, "-w", 1))
        assert code == 2 and "in use by another simcc run" in err and "Traceback" not in err, err
    finally:
        os.killpg(first.pid, signal.SIGINT)
        _finish(first)
    meta = json.loads((out / "meta.json").read_text())
    assert meta["seed"] == 7 and meta["status"] == "interrupted"


def test_a_foreign_replication_file_is_never_merged(tmp_path):
    s = small()
    simcc.simulate(s, seed=8, replications=5, out_dir=tmp_path / "b", workers=1)
    simcc.simulate(s, seed=7, replications=3, out_dir=tmp_path / "a", workers=1)
    shutil.copy(tmp_path / "b" / "reps" / "rep-0000004.npz", tmp_path / "a" / "reps" / "rep-0000004.npz")
    with pytest.warns(RuntimeWarning, match="belongs to another run"):
        resumed = simcc.simulate(s, seed=7, replications=5, out_dir=tmp_path / "a", resume=True, workers=1)
    assert resumed.meta["execution"]["resumed_replications"] == 3
    assert digest(resumed) == digest(simcc.simulate(s, seed=7, replications=5, workers=1))


def test_a_folder_that_is_not_a_run_is_left_alone(tmp_path):
    (tmp_path / "meta.json").write_text('{"my": "own notes"}')
    with pytest.raises(simcc.NotARunFolder, match="did not write"):
        simcc.simulate(small(), replications=2, out_dir=tmp_path, workers=1)
    assert (tmp_path / "meta.json").read_text() == '{"my": "own notes"}'


def test_interrupt_before_the_first_replication_writes_an_honest_marker(tmp_path):
    s = small()
    simcc.simulate(s, seed=3, replications=2, out_dir=tmp_path, workers=1)     # an earlier run's files

    def stop(done, total):
        raise KeyboardInterrupt

    with pytest.raises(simcc.Interrupted, match="before any of 4") as info:
        simcc.simulate(s, seed=4, replications=4, out_dir=tmp_path, workers=1, progress=stop)
    assert info.value.result is None
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta["status"] == "interrupted" and meta["seed"] == 4 and meta["missing_replications"] == [[0, 3]]
    assert not (tmp_path / "summary.csv").exists() and not (tmp_path / "result.json").exists()


def test_an_error_in_the_first_replication_is_the_error_reported(tmp_path, monkeypatch):
    from simcc.run import executors

    def broken(*args, **kw):
        raise MemoryError("no room for the call slots")

    monkeypatch.setattr(executors, "run_replication", broken)
    with pytest.raises(simcc.ReplicationFailed, match="MemoryError: no room") as info:
        simcc.simulate(small(), replications=3, out_dir=tmp_path, workers=1)
    assert isinstance(info.value.__cause__, MemoryError)
    assert json.loads((tmp_path / "meta.json").read_text())["status"] == "failed"


def test_leftover_temporary_files_are_removed_and_the_marker_invalidated(tmp_path):
    s = small()
    simcc.simulate(s, seed=5, replications=2, out_dir=tmp_path, workers=1)
    (tmp_path / ".simcc-abc.tmp").write_text("half")
    (tmp_path / "reps" / ".simcc-def.tmp").write_text("half")
    seen = {}

    def look(done, total):
        seen.setdefault("meta", (tmp_path / "meta.json").exists())

    simcc.simulate(s, seed=5, replications=4, out_dir=tmp_path, workers=1, resume=True, progress=look)
    assert seen["meta"] is False               # no stale marker while the run extends the folder
    assert not list(tmp_path.glob("**/.simcc-*.tmp"))


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_random_kills_and_interrupts_then_resume_is_identical(tmp_path, sig):
    scn, out = _scenario_file(tmp_path), tmp_path / "out"
    reps = 40
    args = ["run", scn, "-r", reps, "--seed", 11, "--out", out, "-w", 1, "--format", "csv"]
    rng = random.Random(2026)
    outcomes = []
    for i in range(N_FAULTS):
        proc = _cli(*args, *(["--resume"] if i else []))
        deadline = time.monotonic() + 30
        while not _started(out, proc) and time.monotonic() < deadline:   # past Python's start-up
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 1.0))
        os.killpg(proc.pid, sig)
        code, _, err = _finish(proc, timeout=20)    # an interrupt always ends within seconds
        assert "Traceback" not in err, err
        allowed = (-signal.SIGKILL, 0) if sig == signal.SIGKILL else (130, -signal.SIGINT, 0)   # 0: it had finished
        assert code in allowed, (code, err)
        outcomes.append(code)
        _check_consistent(out)
    code, stdout, err = _finish(_cli(*args, "--resume"), timeout=120)
    assert code == 0, err
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = simcc.simulate(simcc.load(scn), seed=11, replications=reps, workers=1)
    assert stdout == expected.to_csv()
    assert (out / "summary.csv").read_text() == expected.summary_csv()
    assert json.loads((out / "meta.json").read_text())["status"] == "complete"


def test_random_kills_of_a_sweep_then_resume_is_identical(tmp_path):
    scn, out = _scenario_file(tmp_path), tmp_path / "out"
    args = ["sweep", scn, "--set", "groups.agents.agents=360,380", "-r", 16, "--seed", 13, "--out", out, "-w", 1,
            "--kpis", "service_level,abandon_rate", "--format", "csv"]
    rng = random.Random(7)
    for i in range(max(2, N_FAULTS // 2)):
        proc = _cli(*args, *(["--resume"] if i else []))
        deadline = time.monotonic() + 30
        while not _started(out, proc) and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 1.0))
        os.killpg(proc.pid, signal.SIGKILL)
        code, _, err = _finish(proc, timeout=20)
        assert code in (-signal.SIGKILL, 0) and "Traceback" not in err, (code, err)
        meta = out / "meta.json"
        assert not meta.exists() or json.loads(meta.read_text())["status"] in ("complete", "interrupted")
    code, stdout, err = _finish(_cli(*args, "--resume"), timeout=120)
    assert code == 0, err
    expected = simcc.sweep(simcc.load(scn), {"groups.agents.agents": [360, 380]}, seed=13, replications=16,
                           kpis=["service_level", "abandon_rate"], workers=1)
    assert (out / "sweep.csv").read_text() == expected.to_csv()
    assert json.loads((out / "meta.json").read_text())["status"] == "complete"


def _failing_writes(monkeypatch, modules, fails):
    """Make atomic_write fail (as a full or read-only disk would) for the files ``fails(path)`` picks."""
    from simcc import atomic

    real = atomic.atomic_write

    def write(path, data):
        err = fails(os.fspath(path))
        if err is not None:
            raise err
        real(path, data)

    for module in modules:
        monkeypatch.setattr(module, "atomic_write", write)


def test_a_full_disk_during_the_final_writes_leaves_no_false_marker(tmp_path, monkeypatch):
    from simcc.run import export

    s = small()
    simcc.simulate(s, seed=6, replications=2, out_dir=tmp_path, workers=1)      # complete: meta.json written
    full = OSError(28, "No space left on device")
    _failing_writes(monkeypatch, [export], lambda p: full if p.endswith("result.json") else None)
    with pytest.raises(OSError, match="No space left"):                         # extending it fills the disk
        simcc.simulate(s, seed=6, replications=4, out_dir=tmp_path, workers=1, resume=True)
    assert not (tmp_path / "meta.json").exists()          # never vouches for a half-written folder
    assert not list(tmp_path.glob("**/.simcc-*.tmp"))
    monkeypatch.undo()
    resumed = simcc.simulate(s, seed=6, replications=4, out_dir=tmp_path, workers=1, resume=True)
    assert resumed.meta["execution"]["resumed_replications"] == 4
    assert digest(resumed) == digest(simcc.simulate(s, seed=6, replications=4, workers=1))


def test_a_read_only_folder_is_a_clear_error(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from simcc.cli import app
    from simcc.run import export, store

    denied = PermissionError(13, "Permission denied")
    _failing_writes(monkeypatch, [export, store], lambda p: denied)
    r = CliRunner().invoke(app, ["run", str(_scenario_file(tmp_path)), "-r", "2", "-w", "1", "--out",
                                 str(tmp_path / "o")])
    assert r.exit_code == 2, (r.output, r.exception)
    assert "Permission denied" in r.output and "Traceback" not in r.output
