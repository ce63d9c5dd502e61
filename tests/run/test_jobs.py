"""Replications on several workers: identical results, in-order merge, resume, dead workers."""
import json
import os
import random
import signal

import numpy as np
import pytest

import simcc
from simcc.engine.compile import compile_scenario
from simcc.engine.replication import run_replication
from simcc.engine.streams import root_entropy
from simcc.run import executors
from simcc.run import jobs as replicate
from simcc.run.jobs import Interrupted, Job, Merger, WorkerLostWarning, run_jobs
from simcc.run.store import RepStore, ResumeError, fingerprint

psutil = pytest.importorskip("psutil")

from helpers import digest, small  # noqa: E402


@pytest.fixture(scope="module")
def one_worker():
    return simcc.simulate(small(), seed=11, replications=12, workers=1)


def test_two_workers_identical_to_one(one_worker):
    two = simcc.simulate(small(), seed=11, replications=12, workers=2)
    assert two.meta["execution"]["executor"] == "processes" and two.meta["execution"]["workers"] == 2
    assert one_worker.meta["execution"]["executor"] == "in-process"
    assert digest(two) == digest(one_worker)
    assert two.replications == list(range(12))


def test_another_seed_differs(one_worker):
    assert digest(simcc.simulate(small(), seed=12, replications=12, workers=1)) != digest(one_worker)


def test_completion_order_does_not_matter():
    s = small()
    cs = compile_scenario(s)
    ent = root_entropy(5)
    runs = [(rep, *run_replication(cs, ent, rep)) for rep in range(8)]
    results = []
    for order in (list(range(8)), [7, 3, 0, 5, 1, 6, 2, 4], [1, 0, 3, 2, 5, 4, 7, 6]):
        m = Merger(Job(cs, 8, s.sla.denominator))
        for i in order:
            m.put(*runs[i])
        assert m.complete
        results.append(digest(simcc.Result(m.acc, s, {"sl_definition": {"denominator": "queued"}})))
    assert results[0] == results[1] == results[2]


def test_reorder_buffer_is_bounded():
    s = small(hours=1)
    cs = compile_scenario(s)
    out = run_jobs([Job(cs, 40, s.sla.denominator, calls_per_rep=s.expected_calls())], root_entropy(1),
                   workers=2)
    assert out.status == "complete" and out.mergers[0].complete
    per = max(len(r) for _, r in replicate._plan([Job(cs, 40, calls_per_rep=s.expected_calls())], 2, "kernel"))
    # nothing starts more than 4 x workers tasks ahead of the oldest unfinished one
    assert out.mergers[0].max_pending <= 4 * 2 * per
    assert out.mergers[0].pending == {}


def test_prefix_of_a_parallel_run_is_a_shorter_run():
    long = simcc.simulate(small(), seed=3, replications=16, workers=2)
    short = simcc.simulate(small(), seed=3, replications=5, workers=1)
    assert np.array_equal(long.day[:5], short.day, equal_nan=True)
    assert np.array_equal(long.intervals[:5], short.intervals, equal_nan=True)


def test_small_runs_stay_in_process_by_default():
    r = simcc.simulate(small(hours=1), seed=1, replications=3)
    assert r.meta["execution"]["executor"] == "in-process"


def test_bad_arguments():
    with pytest.raises(ValueError, match="workers"):
        simcc.simulate(small(), replications=2, workers=0)
    with pytest.raises(ValueError, match="workers"):
        simcc.simulate(small(), replications=2, workers=1.5)
    with pytest.raises(ValueError, match="out_dir"):
        simcc.simulate(small(), replications=2, resume=True)


def test_store_round_trip_is_exact(tmp_path):
    s = small(hours=1)
    cs = compile_scenario(s)
    raw, volume = run_replication(cs, root_entropy(2), 4)
    store = RepStore(tmp_path, fingerprint(s, root_entropy(2), "kernel"))
    store.save(4, raw, volume)
    again = RepStore(tmp_path, fingerprint(s, root_entropy(2), "kernel"), resume=True)
    assert again.reps == {4}
    back, vol = again.load(4)
    assert vol == volume and set(back) == set(raw)
    for k, v in raw.items():
        if isinstance(v, np.ndarray):
            assert back[k].dtype == v.dtype and np.array_equal(back[k], v, equal_nan=True), k
        else:
            assert type(back[k]) is type(v) and back[k] == v, k
    assert not [f for f in os.listdir(tmp_path / "reps") if f.startswith(".simcc-")]


@pytest.mark.parametrize("workers", [1, 2])
def test_interrupt_keeps_finished_replications_and_resume_is_identical(tmp_path, workers):
    s = small()
    full = simcc.simulate(s, seed=21, replications=14, workers=1)

    def stop_at_6(done, total):
        if done >= 6:
            raise KeyboardInterrupt

    with pytest.raises(Interrupted) as info:
        simcc.simulate(s, seed=21, replications=14, workers=workers, out_dir=tmp_path, progress=stop_at_6)
    part = info.value.result
    assert isinstance(info.value, KeyboardInterrupt)
    assert part.meta["status"] == "interrupted" and len(part.replications) >= 6
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta["status"] == "interrupted" and meta["completed_replications"] == len(part.replications)
    assert meta["missing_replications"]
    stored = sorted(os.listdir(tmp_path / "reps"))
    assert len([f for f in stored if f.endswith(".npz")]) == len(part.replications)
    assert not [f for f in os.listdir(tmp_path) + stored if f.startswith(".simcc-")]

    seen = []
    resumed = simcc.simulate(s, seed=21, replications=14, workers=workers, out_dir=tmp_path, resume=True,
                             progress=lambda d, t: seen.append(d))
    assert resumed.meta["status"] == "complete"
    assert resumed.meta["execution"]["resumed_replications"] == len(part.replications)
    assert seen[0] == len(part.replications) and seen[-1] == 14
    assert digest(resumed) == digest(full)
    assert json.loads((tmp_path / "meta.json").read_text())["status"] == "complete"
    assert (tmp_path / "summary.csv").read_text() == full.summary_csv()


def test_resume_can_add_replications(tmp_path):
    s = small(hours=1)
    simcc.simulate(s, seed=4, replications=5, workers=1, out_dir=tmp_path)
    more = simcc.simulate(s, seed=4, replications=9, workers=1, out_dir=tmp_path, resume=True)
    assert more.meta["execution"]["resumed_replications"] == 5
    assert digest(more) == digest(simcc.simulate(s, seed=4, replications=9, workers=1))


def test_resume_refuses_another_run(tmp_path):
    s = small(hours=1)
    simcc.simulate(s, seed=4, replications=3, workers=1, out_dir=tmp_path)
    with pytest.raises(ResumeError, match="entropy"):
        simcc.simulate(s, seed=5, replications=3, workers=1, out_dir=tmp_path, resume=True)
    with pytest.raises(ResumeError, match="scenario contents"):
        simcc.simulate(small(hours=1, agents=371), seed=4, replications=3, workers=1, out_dir=tmp_path, resume=True)
    # without --resume the folder is simply reused: old replications are dropped
    r = simcc.simulate(s, seed=5, replications=2, workers=1, out_dir=tmp_path)
    kept = sorted(f for f in os.listdir(tmp_path / "reps") if f.endswith(".npz"))
    assert kept == ["rep-0000000.npz", "rep-0000001.npz"]
    assert r.meta["execution"]["resumed_replications"] == 0


def test_resume_with_seed_none_reuses_the_stored_entropy(tmp_path):
    s = small(hours=1)
    first = simcc.simulate(s, seed=None, replications=3, workers=1, out_dir=tmp_path)
    again = simcc.simulate(s, seed=None, replications=4, workers=1, out_dir=tmp_path, resume=True)
    assert again.meta["entropy"] == first.meta["entropy"]
    assert np.array_equal(again.day[:3], first.day, equal_nan=True)


def test_damaged_replication_file_is_run_again(tmp_path):
    s = small(hours=1)
    full = simcc.simulate(s, seed=8, replications=4, workers=1, out_dir=tmp_path)
    (tmp_path / "reps" / "rep-0000002.npz").write_bytes(b"not a zip")
    with pytest.warns(RuntimeWarning, match="unreadable"):
        again = simcc.simulate(s, seed=8, replications=4, workers=1, out_dir=tmp_path, resume=True)
    assert again.meta["execution"]["resumed_replications"] == 3
    assert digest(again) == digest(full)


def test_a_failing_replication_stops_the_run_and_keeps_the_others(tmp_path, monkeypatch):
    from simcc.run import executors as module

    real = module.run_replication

    def broken(cs, entropy, rep, engine="kernel", call_log=False):
        if rep == 3:
            raise FloatingPointError("boom")
        return real(cs, entropy, rep, engine, call_log)

    monkeypatch.setattr(module, "run_replication", broken)
    with pytest.raises(RuntimeError, match=r"replication\(s\) \[3\] of textbook failed: FloatingPointError: boom"):
        simcc.simulate(small(hours=1), seed=1, replications=6, workers=1, out_dir=tmp_path)
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta["status"] == "failed" and meta["completed_replications"] == 3


def _pool_workers():
    """Worker processes of this process's pool (started as `python -c ... _worker_main ...`)."""
    out = []
    for child in psutil.Process().children():
        try:
            if "_worker_main" in " ".join(child.cmdline()) and child.status() != psutil.STATUS_ZOMBIE:
                out.append(child)
        except psutil.NoSuchProcess:
            pass
    return out


def test_killed_worker_is_retried_and_reported(one_worker):
    killed = []

    def kill_one(done, total):
        if done >= 3 and not killed:
            victims = _pool_workers()
            assert victims, "no worker process found"
            os.kill(victims[0].pid, signal.SIGKILL)
            killed.append(victims[0].pid)

    with pytest.warns(WorkerLostWarning, match="worker died"):
        r = simcc.simulate(small(), seed=11, replications=12, workers=2, progress=kill_one)
    assert killed
    failures = r.meta["execution"]["worker_failures"]
    assert failures and all("WorkerDied" in f["error"] for f in failures)
    assert r.meta["status"] == "complete"
    assert digest(r) == digest(one_worker)


def test_a_worker_that_keeps_dying_stops_the_run(tmp_path):
    def kill_always(done, total):
        for p in _pool_workers():
            try:
                os.kill(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    with pytest.warns(WorkerLostWarning), pytest.raises(replicate.WorkerLost, match="giving up"):
        # the callback runs after each finished replication; the first one is stored, then workers keep dying
        out = run_jobs(
            [Job(compile_scenario(small()), 30, calls_per_rep=1e6)],
            root_entropy(1),
            workers=2,
            progress=kill_always,
            max_retries=1,
        )
        raise out.error


def test_merge_order_is_replication_order_for_shuffled_work():
    """A stand-in executor that finishes tasks in random order still gives the in-order result."""
    s = small(hours=1)
    cs = compile_scenario(s)
    ent = root_entropy(9)

    class Shuffled(executors.InProcess):
        workers = 3

        def __init__(self, *a):
            super().__init__(*a)
            self.rng = random.Random(0)

        def wait(self, futures, timeout=None):
            futures = list(futures)
            return {self.rng.choice(futures)}

    orig = replicate.make_executor
    replicate.make_executor = lambda jobs, entropy, engine, call_log, *a: Shuffled(jobs, entropy, engine, call_log)
    try:
        out = run_jobs([Job(cs, 20, calls_per_rep=1e6)], ent)
    finally:
        replicate.make_executor = orig
    assert out.status == "complete"
    shuffled = simcc.Result(out.mergers[0].acc, s, {"sl_definition": {"denominator": "queued"}})
    plain = simcc.simulate(s, seed=9, replications=20, workers=1)
    assert out.mergers[0].max_pending > 1  # tasks really finished out of order
    assert digest(shuffled) == digest(plain)


def test_call_logs_survive_resume(tmp_path):
    s = small(hours=1)
    full = simcc.simulate(s, seed=2, replications=3, workers=1, call_log=True)

    def stop_at_2(done, total):
        if done >= 2:
            raise KeyboardInterrupt

    with pytest.raises(Interrupted):
        simcc.simulate(s, seed=2, replications=3, workers=1, call_log=True, out_dir=tmp_path, progress=stop_at_2)
    again = simcc.simulate(s, seed=2, replications=3, workers=2, call_log=True, out_dir=tmp_path, resume=True)
    assert len(again.call_logs) == 3
    for a, b in zip(full.call_logs, again.call_logs):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    with pytest.raises(ResumeError, match="call_log"):  # a run without logs cannot finish one with them
        simcc.simulate(s, seed=2, replications=4, workers=1, out_dir=tmp_path, resume=True)


def test_one_worker_death_is_one_failure_entry(one_worker):
    killed = []

    def kill_one(done, total):
        if done >= 2 and not killed:
            victims = _pool_workers()
            os.kill(victims[0].pid, signal.SIGKILL)
            killed.append(victims[0].pid)

    with pytest.warns(WorkerLostWarning):
        r = simcc.simulate(small(), seed=11, replications=12, workers=2, progress=kill_one)
    failures = r.meta["execution"]["worker_failures"]
    assert len(failures) == len(killed) == 1, failures
    assert digest(r) == digest(one_worker)
