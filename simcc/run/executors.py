"""Executors: three ways of running a task of a few replications, behind one protocol.

:class:`Executor` documents the protocol the job loop (:mod:`simcc.run.jobs`)
uses; :class:`InProcess` runs tasks here, one after the other;
:class:`Pool` on local worker processes (:mod:`simcc.run.pool`: they import
simcc from where this process did and never run the user's main module);
:class:`Dask` on a Dask distributed cluster (an address, a ``Client``, or
``"local"``: a scheduler and workers started on 127.0.0.1). Every task calls
:func:`compute`, so replication ``r`` is the same day whatever runs it.
"""
from __future__ import annotations

import concurrent.futures as cf
import importlib.metadata
import json
import os
import re
import signal
import socket
import threading
import uuid

import numpy as np

from ..engine.compile import CompiledScenario
from ..engine.replication import run_replication

#: How often the job loop looks up from waiting (to notice Ctrl-C while long tasks run).
POLL_S = 0.25


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover
        return "unknown"


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)



# --------------------------------------------------------------------------
# What runs in a worker
# --------------------------------------------------------------------------
def compute(cs: CompiledScenario, entropy: int, engine: str, reps, call_log: bool) -> list:
    """Run replications ``reps`` of one compiled scenario: ``[(rep, raw, volume), ...]``."""
    out = []
    for rep in reps:
        raw, volume = run_replication(cs, entropy, rep, engine, call_log)
        out.append((rep, raw, volume))
    return out


_WORKER: dict = {}


def _init_worker(scenarios, entropy, engine, call_log) -> None:
    _WORKER.clear()
    _WORKER.update(scenarios=scenarios, entropy=entropy, engine=engine, call_log=call_log)


def _pool_task(job: int, reps) -> list:
    w = _WORKER
    return compute(w["scenarios"][job], w["entropy"], w["engine"], reps, w["call_log"])


def _identity(x):
    return x


def _dask_task(cs, entropy, engine, reps, call_log) -> dict:
    """One Dask task: a few replications, plus the versions that produced them."""
    return {"versions": (_version("simcc"), np.__version__),
            "reps": compute(cs, entropy, engine, reps, call_log)}



# --------------------------------------------------------------------------
# The protocol and the three executors
# --------------------------------------------------------------------------
class Executor:
    """What the job loop needs from a way of running tasks.

    ``submit(job, reps, attempt)`` returns a future; ``wait(futures,
    timeout)`` the futures done (at least one unless the timeout passed);
    ``wait_all`` waits for all; ``is_lost(exc)`` says whether a task failed
    because its worker died (the loop runs it again) rather than raising;
    ``unpack(value)`` turns a task's value into ``[(rep, raw, volume)]``;
    ``prepare(n_tasks)`` starts workers; ``recover()`` follows a lost worker;
    ``abort(futures)`` stops everything at once (Ctrl-C, a failure);
    ``close()`` ends a run that finished; ``lost_workers()`` reports workers
    that died but whose tasks the executor ran again by itself; ``describe()``
    is recorded in ``meta["execution"]``. ``breaks_all`` says a lost worker
    fails every task in flight.
    """

    kind = "executor"
    workers = 1
    breaks_all = False

    def submit(self, job, reps, attempt):
        raise NotImplementedError

    def wait(self, futures, timeout=None):
        raise NotImplementedError

    def wait_all(self, futures):
        raise NotImplementedError

    def is_lost(self, exc) -> bool:
        return False

    def unpack(self, value):
        return value

    def prepare(self, n_tasks: int) -> None:
        pass

    def recover(self) -> None:
        pass

    def abort(self, futures) -> None:
        pass

    def close(self) -> None:
        pass

    def lost_workers(self) -> list[dict]:
        return []

    def describe(self) -> dict:
        return {"executor": self.kind, "workers": self.workers}


class InProcess(Executor):
    kind = "in-process"
    workers = 1
    breaks_all = False

    def __init__(self, jobs, entropy, engine, call_log):
        self.args = ([j.cs for j in jobs], entropy, engine, call_log)

    def submit(self, job, reps, attempt):
        scenarios, entropy, engine, call_log = self.args
        f = cf.Future()
        try:
            f.set_result(compute(scenarios[job], entropy, engine, reps, call_log))
        except Exception as exc:  # noqa: BLE001 - handed to the loop like a worker's error
            f.set_exception(exc)
        return f

    def wait(self, futures, timeout=None):
        return set(futures)

    def wait_all(self, futures):
        return set(futures)

    def is_lost(self, exc) -> bool:
        return False

    def unpack(self, value):
        return value

    def prepare(self, n_tasks: int):
        pass

    def recover(self):
        pass

    def abort(self, futures):
        pass

    def close(self):
        pass

    def describe(self) -> dict:
        return {"executor": self.kind, "workers": 1}


class Pool(Executor):
    """Local worker processes (:mod:`simcc._procpool`): they import simcc from where this process did
    and never run the user's main module, so scripts without a main guard, stdin and notebooks work."""

    kind = "processes"
    breaks_all = False   # a dead worker fails only its own tasks; the pool starts a replacement

    def __init__(self, jobs, entropy, engine, call_log, workers: int):
        self.workers = workers
        self.args = ([j.cs for j in jobs], entropy, engine, call_log)
        self.lease = None
        self.pool = None

    def prepare(self, n_tasks: int):
        from .pool import lease
        self.workers = max(1, min(self.workers, n_tasks))   # no idle processes for a short run
        self.lease = lease(self.workers)
        self.pool = self.lease.pool
        self.pool.context(_init_worker, *self.args)

    def submit(self, job, reps, attempt):
        return self.pool.submit(_pool_task, job, reps)

    def wait(self, futures, timeout=None):
        return self.pool.wait(futures, timeout=timeout)

    def wait_all(self, futures):
        while not all(f.done() for f in futures):
            self.pool.wait([f for f in futures if not f.done()], timeout=POLL_S)
        return set(futures)

    def is_lost(self, exc) -> bool:
        from .pool import WorkerDied
        return isinstance(exc, WorkerDied)

    def unpack(self, value):
        return value

    def recover(self):
        pass

    def abort(self, futures):
        if self.lease is not None:
            self.lease.release(broken=True)
            self.lease = None

    def close(self):
        if self.lease is not None:
            self.lease.release()
            self.lease = None

    def describe(self) -> dict:
        return {"executor": self.kind, "workers": self.workers}


class LocalDaskCluster:
    """``scheduler="local"``: a Dask scheduler and ``n`` workers on 127.0.0.1, started as separate
    programs with simcc's worker path (not ``LocalCluster``, whose processes re-run the user's script)."""

    def __init__(self, n: int):
        import shutil
        import tempfile

        from .pool import run_module
        self.dir = tempfile.mkdtemp(prefix="simcc-dask-")
        self.procs = []
        self.shutil = shutil
        sched_file = os.path.join(self.dir, "scheduler.json")
        self.log = open(os.path.join(self.dir, "cluster.log"), "wb")
        self.procs.append(run_module("distributed.cli.dask_scheduler",
                                     ["--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                      "--scheduler-file", sched_file], self.log))
        for i in range(n):
            self.procs.append(run_module("distributed.cli.dask_worker",
                                         ["--scheduler-file", sched_file, "--nworkers", "1", "--nthreads", "1",
                                          "--host", "127.0.0.1", "--no-dashboard", "--death-timeout", "60",
                                          "--local-directory", os.path.join(self.dir, f"w{i}"),
                                          "--name", f"simcc-{i}"], self.log))
        self.scheduler_file = sched_file

    def wait_address(self, timeout: float = 60.0) -> str:
        import time
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with open(self.scheduler_file) as fh:
                    return json.load(fh)["address"]
            except (OSError, ValueError, KeyError):
                if self.procs[0].poll() is not None:
                    break
                time.sleep(0.1)
        raise RuntimeError(f"the local Dask scheduler did not start: {self.output()}")

    def output(self) -> str:
        try:
            with open(os.path.join(self.dir, "cluster.log"), "rb") as fh:
                return fh.read().decode("utf-8", "replace")[-2000:]
        except OSError:
            return ""

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except (ProcessLookupError, PermissionError):
                    pass
        for p in self.procs:
            try:
                p.wait(10)
            except Exception:  # noqa: BLE001 - still running: kill
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                p.wait(5)
        self.log.close()
        self.shutil.rmtree(self.dir, ignore_errors=True)


#: How long to wait for a Dask scheduler to answer, and for its first worker.
CONNECT_TIMEOUT_S = 30.0
WORKERS_TIMEOUT_S = 60.0


class SchedulerError(OSError):
    """No Dask scheduler answered at the given address (or it has no workers)."""


def _connect(Client, address):
    """A Client of the scheduler at ``address``, or SchedulerError within about CONNECT_TIMEOUT_S.

    The address is checked first (a string ``tcp://host:port`` that accepts a
    connection); the client is then made in a helper thread, so a service that
    accepts connections but never answers (or answers in another protocol) ends
    in a clear error at the timeout instead of a hang or a huge allocation.
    """
    if not isinstance(address, str):
        raise TypeError(f"scheduler must be an address such as 'tcp://host:8786', 'local' or a "
                        f"distributed.Client, not {type(address).__name__}")
    m = re.fullmatch(r"(?:tcp://)?\[?([^\]/]+?)\]?:(\d{1,5})/?", address.strip())
    if m is None:
        raise SchedulerError(f"scheduler address {address!r} is not of the form tcp://host:port (or 'local')")
    host, port = m.group(1), int(m.group(2))
    try:
        socket.create_connection((host, port), timeout=min(CONNECT_TIMEOUT_S, 10.0)).close()
    except OSError as exc:
        raise SchedulerError(f"cannot reach a Dask scheduler at {address}: {exc}") from None
    box: dict = {}

    def make():
        try:
            box["client"] = Client(f"tcp://{host}:{port}", timeout=f"{CONNECT_TIMEOUT_S:g}s")
        except BaseException as exc:  # noqa: BLE001 - reported below, in the caller's thread
            box["error"] = exc

    t = threading.Thread(target=make, name="simcc-dask-connect", daemon=True)
    t.start()
    t.join(CONNECT_TIMEOUT_S + 5)
    if "client" in box:
        return box["client"]
    why = (f"{type(box['error']).__name__}: {str(box['error'])[:200]}" if "error" in box
           else f"no answer within {CONNECT_TIMEOUT_S:g} s")
    raise SchedulerError(f"no Dask scheduler answered at {address} ({why}); is it a Dask scheduler's address?")


class Dask(Executor):
    kind = "dask"
    breaks_all = False

    def __init__(self, jobs, entropy, engine, call_log, scheduler, workers: int | None):
        try:
            from distributed import Client
        except ImportError:
            raise ImportError("running on a Dask cluster needs dask.distributed: pip install 'simcc[dask]'") from None
        self.entropy, self.engine, self.call_log = entropy, engine, call_log
        self.cluster = None
        self.own_client = True
        if isinstance(scheduler, Client):
            self.client, self.own_client = scheduler, False
            self.address = scheduler.scheduler.address
        elif scheduler == "local":
            self.cluster = LocalDaskCluster(workers or default_workers())
            try:
                self.client = Client(self.cluster.wait_address(), timeout="30s")
            except Exception:
                self.cluster.close()
                raise
            self.address = "local"
        else:
            self.client = _connect(Client, scheduler)
            self.address = str(scheduler)
        try:
            # a local cluster of n workers is ready when all n are; a given cluster when one is
            need = len(self.cluster.procs) - 1 if self.cluster is not None else 1
            self.client.wait_for_workers(need, timeout=WORKERS_TIMEOUT_S)
        except Exception as exc:
            self.close()
            raise SchedulerError(f"the Dask scheduler at {self.address} has no workers ready after "
                                 f"{WORKERS_TIMEOUT_S:g} s ({type(exc).__name__}); start workers with "
                                 f"`dask worker {self.address}`") from None
        self.workers = max(1, sum(self.client.nthreads().values()))
        self.token = uuid.uuid4().hex[:10]
        # The compiled scenario goes to each worker once (a task result, so
        # Dask recomputes it if the worker holding it dies).
        self.scenarios = [self.client.submit(_identity, j.cs, key=f"simcc-scenario-{self.token}-{i}", pure=False)
                          for i, j in enumerate(jobs)]
        self.keys: dict[str, tuple] = {}
        self.mine = (_version("simcc"), np.__version__)

    def submit(self, job, reps, attempt):
        key = f"simcc-reps-{self.token}-{job}-{reps[0]}-{attempt}"
        self.keys[key] = (job, reps)
        return self.client.submit(_dask_task, self.scenarios[job], self.entropy, self.engine, list(reps),
                                  self.call_log, key=key, pure=False, retries=0)

    def wait(self, futures, timeout=None):
        from distributed import wait
        try:
            return set(wait(list(futures), timeout=timeout, return_when="FIRST_COMPLETED").done)
        except TimeoutError:
            return {f for f in futures if f.done()}

    def wait_all(self, futures):
        from distributed import wait
        return set(wait(list(futures)).done)

    def is_lost(self, exc) -> bool:
        from distributed import KilledWorker
        return isinstance(exc, KilledWorker)

    def unpack(self, value):
        if tuple(value["versions"]) != self.mine:
            raise RuntimeError(f"a Dask worker runs simcc {value['versions'][0]} with numpy {value['versions'][1]}, "
                               f"this process simcc {self.mine[0]} with numpy {self.mine[1]}; results would not be "
                               f"reproducible: install the same versions on every worker")
        return value["reps"]

    def prepare(self, n_tasks: int):
        pass

    def recover(self):
        pass

    def lost_workers(self) -> list[dict]:
        """Workers the scheduler saw die while running our tasks (Dask ran those tasks again):
        ``[{"worker": address, "tasks": [(job, reps), ...]}]``."""
        out = []
        try:
            events = self.client.get_events("all")
        except Exception:  # noqa: BLE001 - reporting only
            return out
        for _, msg in events:
            if isinstance(msg, dict) and msg.get("action") == "remove-worker" and not msg.get("expected"):
                ours = sorted(self.keys[k] for k in msg.get("processing-tasks", ()) if k in self.keys)
                if ours:
                    out.append({"worker": msg.get("worker"), "tasks": ours})
        return out

    def abort(self, futures):
        try:
            self.client.cancel(list(futures) + self.scenarios, force=True)
        except Exception:  # noqa: BLE001 - the cluster may be gone
            pass
        self.close()

    def close(self):
        try:
            if self.own_client:
                self.client.close()
            if self.cluster is not None:
                self.cluster.close()
        except Exception:  # noqa: BLE001 - closing what may already be closed
            pass

    def describe(self) -> dict:
        return {"executor": self.kind, "workers": self.workers, "scheduler": self.address}


def make_executor(jobs, entropy, engine, call_log, workers, scheduler, work_calls, n_reps,
                  auto_min_calls: float, auto_min_replications: int) -> Executor:
    """The executor a run asks for: Dask with a scheduler; else processes, except that with
    ``workers=None`` small runs stay in this process (starting workers would cost more)."""
    if scheduler is not None:
        return Dask(jobs, entropy, engine, call_log, scheduler, workers)
    if workers is None:
        workers = default_workers()
        scale = 1.0 if engine == "kernel" else 0.01
        if n_reps < auto_min_replications or work_calls < auto_min_calls * scale:
            workers = 1
    if workers <= 1:
        return InProcess(jobs, entropy, engine, call_log)
    return Pool(jobs, entropy, engine, call_log, workers)
