"""A real Dask cluster on this machine (scheduler + two workers on loopback): same results as one process."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed (pip install 'simcc[dask]')")

from helpers import digest, small  # noqa: E402

import simcc  # noqa: E402
from simcc import sweep  # noqa: E402
from simcc.run.jobs import WorkerLostWarning  # noqa: E402

ROOT = Path(simcc.__file__).resolve().parents[1]
START_TIMEOUT_S = 60


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(procs):
    for p in procs:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + 15
    for p in procs:
        try:
            p.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(5)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """`dask scheduler` and two `dask worker --nworkers 1 --nthreads 1` processes, loopback only."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    # the workers import simcc (and, for client.run, these tests) from this checkout
    path = [str(ROOT), str(Path(__file__).parent), str(Path(__file__).parents[1]), os.environ.get("PYTHONPATH", "")]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in path if p),
               DASK_DISTRIBUTED__WORKER__DAEMON="False")
    logs = tmp_path_factory.mktemp("dask")
    procs = []

    def start(name, args):
        log = open(logs / f"{name}.log", "wb")
        procs.append(subprocess.Popen([sys.executable, "-m", *args], stdout=log, stderr=subprocess.STDOUT, env=env,
                                      cwd=logs, start_new_session=True))

    try:
        start("scheduler", ["distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", str(port),
                            "--no-dashboard"])
        for i in range(2):
            start(f"worker{i}", ["distributed.cli.dask_worker", address, "--nworkers", "1", "--nthreads", "1",
                                 "--host", "127.0.0.1", "--no-dashboard", "--death-timeout", "60",
                                 "--local-directory", str(logs / f"w{i}"), "--name", f"w{i}"])
        client = distributed.Client(address, timeout=f"{START_TIMEOUT_S}s")
        try:
            client.wait_for_workers(2, timeout=START_TIMEOUT_S)
        except Exception as exc:
            text = "\n".join(
                (logs / f).read_text(errors="replace")[-2000:] for f in os.listdir(logs) if f.endswith(".log")
            )
            raise RuntimeError(f"the Dask cluster did not start:\n{text}") from exc
        yield address, client
        client.close()
    finally:
        _stop(procs)


@pytest.fixture(scope="module")
def reference():
    return simcc.simulate(small(), seed=11, replications=12, workers=1)


def test_cluster_gives_identical_results(cluster, reference):
    address, _ = cluster
    r = simcc.simulate(small(), seed=11, replications=12, scheduler=address)
    ex = r.meta["execution"]
    assert ex["executor"] == "dask" and ex["scheduler"] == address and ex["workers"] == 2
    assert ex["worker_failures"] == []
    assert digest(r) == digest(reference)
    assert digest(simcc.simulate(small(), seed=11, replications=12, workers=2)) == digest(reference)


def _tasks_run(dask_worker):
    """simcc tasks this worker finished (from its transition log)."""
    return sum(
        1
        for e in dask_worker.state.log
        if isinstance(e[0], str) and e[0].startswith("simcc-reps") and tuple(e[1:3]) == ("executing", "memory")
    )


def test_both_workers_take_part(cluster):
    address, client = cluster
    before = client.run(_tasks_run)
    r = simcc.simulate(small(), seed=2, replications=16, scheduler=client)
    after = client.run(_tasks_run)
    assert len(after) == 2 and all(after[w] > before.get(w, 0) for w in after), (before, after)
    assert sum(after.values()) - sum(before.values()) == r.meta["execution"]["tasks"]


def test_cluster_sweep_from_the_cli(cluster, tmp_path):
    from typer.testing import CliRunner

    from simcc.cli import app

    address, _ = cluster
    scn = tmp_path / "s.yaml"
    scn.write_text(json.dumps(small(hours=1).model_dump(mode="json", exclude_none=True)))
    r = CliRunner().invoke(
        app,
        [
            "sweep",
            str(scn),
            "--set",
            "groups.agents.agents=360,380",
            "--set",
            "volume=1,1.1",
            "-r",
            "4",
            "--out",
            str(tmp_path / "out"),
            "--scheduler",
            address,
            "--kpis",
            "service_level,abandon_rate",
        ],
    )
    assert r.exit_code == 0, r.output
    local = sweep(
        small(hours=1),
        {"groups.agents.agents": [360, 380], "volume": [1, 1.1]},
        seed=1,
        replications=4,
        workers=1,
        kpis=["service_level", "abandon_rate"],
    )
    assert (tmp_path / "out" / "sweep.csv").read_text() == local.to_csv()
    meta = json.loads((tmp_path / "out" / "meta.json").read_text())
    assert meta["execution"]["executor"] == "dask" and meta["status"] == "complete"


def test_killed_dask_worker_loses_nothing(cluster, reference):
    address, client = cluster
    killed = []

    def kill_a_busy_worker(done, total):
        if done >= 2 and not killed:
            busy = [w for w, keys in client.processing().items() if keys]
            assert busy, "no worker is running a task"
            pid = client.run(os.getpid, workers=busy[:1])[busy[0]]
            os.kill(pid, signal.SIGKILL)  # the nanny starts a new worker process
            killed.append(busy[0])

    with pytest.warns(WorkerLostWarning, match="Dask ran them again"):
        r = simcc.simulate(small(), seed=11, replications=12, scheduler=address, progress=kill_a_busy_worker)
    assert killed
    failures = r.meta["execution"]["worker_failures"]
    assert failures and {f["worker"] for f in failures} == set(killed)
    assert all(f["replications"] for f in failures)
    assert r.meta["status"] == "complete"
    assert digest(r) == digest(reference)
    client.wait_for_workers(2, timeout=START_TIMEOUT_S)  # leave the cluster as we found it


def test_local_dask_cluster():
    r = simcc.simulate(small(hours=1), seed=6, replications=6, scheduler="local", workers=2)
    assert r.meta["execution"]["executor"] == "dask" and r.meta["execution"]["workers"] == 2
    assert digest(r) == digest(simcc.simulate(small(hours=1), seed=6, replications=6, workers=1))


def test_a_wrong_scheduler_address_is_a_clear_error_within_the_timeout(monkeypatch):
    from simcc.run import executors
    from simcc.run.executors import SchedulerError

    with pytest.raises(SchedulerError, match="not of the form"):
        simcc.simulate(small(), replications=2, scheduler="http//x")
    with pytest.raises(SchedulerError, match="cannot reach"):
        simcc.simulate(small(), replications=2, scheduler="tcp://127.0.0.1:1")
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(5)  # accepts connections, never says a word
    monkeypatch.setattr(executors, "CONNECT_TIMEOUT_S", 2.0)
    t0 = time.monotonic()
    with pytest.raises(SchedulerError, match="no Dask scheduler answered"):
        simcc.simulate(small(), replications=2, scheduler=f"tcp://127.0.0.1:{silent.getsockname()[1]}")
    assert time.monotonic() - t0 < 15
    silent.close()
