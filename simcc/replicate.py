"""Many replications at once: local worker processes or a Dask cluster, merged in replication order.

A run (or each point of a sweep) is a *job*: a compiled scenario and a
number of replications. Replication ``r`` always draws from the streams
spawned for ``(root entropy, r)`` (:mod:`simcc.streams`), whatever process
runs it, so the work can be cut into tasks of a few replications and sent to
any executor:

- ``workers=1``: in this process, one replication after the other;
- ``workers=N`` (``None`` = all cores): N local worker processes that receive
  the compiled scenarios once, when they start, and ignore Ctrl-C (the parent
  handles it);
- ``scheduler="tcp://host:8786"`` (or ``"local"``, or a ``distributed.Client``):
  a Dask distributed cluster.

Finished replications are merged into the :class:`~simcc.results.Accumulator`
strictly in replication order (a small reorder buffer holds the ones that
finish early), so the merged result is bit-identical for any executor, number
of workers and completion order. The buffer is bounded: no task is started
more than a few tasks ahead of the oldest unfinished one.

With an output folder, each finished replication is written at once to
``reps/rep-NNNNNNN.npz`` (atomically), with ``reps/run.json`` naming the run
(scenario digest, root entropy, engine, versions). Ctrl-C or a failure keeps
every finished replication; ``resume=True`` runs only the missing ones and,
because every replication has its own streams, ends bit-identical to an
uninterrupted run.

A worker process that dies (killed, out of memory) is noticed, reported
(``WorkerLostWarning`` and ``meta["execution"]["worker_failures"]``) and its
replications run again, up to ``max_retries`` times each; beyond that the run
stops with :class:`WorkerLost`. Nothing is dropped silently.
"""
from __future__ import annotations

import concurrent.futures as cf
import hashlib
import importlib.metadata
import io
import json
import math
import os
import re
import signal
import uuid
import warnings
import zipfile
from collections import deque
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .compile import CompiledScenario
from .io import atomic_write
from .results import Accumulator

#: Aim for tasks of about this many simulated calls (a fraction of a second on the kernel).
KERNEL_CALLS_PER_TASK = 300_000
REFERENCE_CALLS_PER_TASK = 3_000
#: Never more replications than this in one task (bounds what an interrupt or a dead worker costs).
MAX_REPS_PER_TASK = 64
#: With ``workers=None``, runs of fewer calls than this (all replications) stay in this process.
AUTO_MIN_CALLS = 2_000_000
AUTO_MIN_REPLICATIONS = 4
#: A task whose worker died is run again at most this many times.
MAX_RETRIES = 2

_REP_FILE = re.compile(r"^rep-(\d{7})\.npz$")


class Interrupted(KeyboardInterrupt):
    """A run stopped by Ctrl-C; ``result`` holds every finished replication.

    It is a ``KeyboardInterrupt``, so code that does not care sees an
    ordinary interrupt. With an output folder the partial result was written
    there (``meta.json`` status ``"interrupted"``); ``resume=True`` continues.
    """

    def __init__(self, result, message: str = "interrupted"):
        super().__init__(message)
        self.result = result


class WorkerLost(RuntimeError):
    """A worker died more than ``max_retries`` times while running the same replications."""


class WorkerLostWarning(RuntimeWarning):
    """A worker died; its replications are being run again."""


class ResumeError(ValueError):
    """The output folder holds replications of a different run (scenario, seed, engine or version)."""


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
# What a run is, and where its finished replications are kept
# --------------------------------------------------------------------------
def fingerprint(scenario, entropy: int, engine: str, call_log: bool = False) -> dict:
    """What must match for stored replications to be reused by a resumed run."""
    text = json.dumps(scenario.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return {
        "scenario": scenario.name,
        "scenario_sha256": hashlib.sha256(text.encode()).hexdigest(),
        "entropy": str(entropy),
        "engine": engine,
        "call_log": bool(call_log),
        "simcc_version": _version("simcc"),
        "numpy_version": np.__version__,
    }


def stored_entropy(folder) -> int | None:
    """Root entropy of the run stored in ``folder`` (to resume a run started with ``seed=None``)."""
    try:
        with open(os.path.join(os.fspath(folder), "reps", "run.json")) as fh:
            return int(json.load(fh)["entropy"])
    except (OSError, ValueError, KeyError):
        return None


class RepStore:
    """Finished replications of one run: ``folder/reps/rep-NNNNNNN.npz``, one per replication.

    Each file is written atomically (temp file, fsync, rename), so a file that
    exists is complete. ``reps/run.json`` names the run; a resumed run must
    match it. Without ``resume`` old replication files are removed first.
    """

    def __init__(self, folder, fp: dict, resume: bool = False):
        self.folder = os.fspath(folder)
        self.dir = os.path.join(self.folder, "reps")
        os.makedirs(self.dir, exist_ok=True)
        marker = os.path.join(self.dir, "run.json")
        self.reps: set[int] = set()
        if resume and os.path.exists(marker):
            with open(marker) as fh:
                old = json.load(fh)
            diff = [k for k in sorted(set(old) | set(fp)) if old.get(k) != fp.get(k)]
            if diff:
                what = ", ".join(f"{k} {old.get(k)!r} -> {fp.get(k)!r}" if k != "scenario_sha256" else "scenario contents"
                                 for k in diff)
                raise ResumeError(f"cannot resume from {self.folder}: it holds replications of another run ({what}); "
                                  f"use another output folder, or run without --resume to start over")
            for name in sorted(os.listdir(self.dir)):
                m = _REP_FILE.match(name)
                if m is None:
                    continue
                if self._readable(os.path.join(self.dir, name)):
                    self.reps.add(int(m.group(1)))
                else:
                    warnings.warn(f"stored replication {name} in {self.dir} is unreadable; it will be run again",
                                  RuntimeWarning, stacklevel=3)
                    os.unlink(os.path.join(self.dir, name))
        else:
            if not resume:
                for name in os.listdir(self.dir):
                    if _REP_FILE.match(name):
                        os.unlink(os.path.join(self.dir, name))
                # an earlier run's commit marker must not vouch for this run's files
                old_meta = os.path.join(self.folder, "meta.json")
                if os.path.exists(old_meta):
                    os.unlink(old_meta)
            atomic_write(marker, json.dumps(fp, indent=2))

    @staticmethod
    def _readable(path: str) -> bool:
        # Files are renamed into place complete, so this only catches outside
        # damage; reading the zip directory is cheap (the arrays are not read).
        try:
            with zipfile.ZipFile(path) as z:
                return "__volume__.npy" in z.namelist() and "__scalars__.npy" in z.namelist()
        except (OSError, zipfile.BadZipFile):
            return False

    def path(self, rep: int) -> str:
        return os.path.join(self.dir, f"rep-{rep:07d}.npz")

    def has(self, rep: int) -> bool:
        return rep in self.reps

    def save(self, rep: int, raw: dict, volume: float) -> None:
        arrays = {k: v for k, v in raw.items() if isinstance(v, np.ndarray)}
        scalars = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in raw.items() if not isinstance(v, np.ndarray)}
        buf = io.BytesIO()
        np.savez_compressed(buf, __volume__=np.float64(volume), __scalars__=np.array(json.dumps(scalars)), **arrays)
        atomic_write(self.path(rep), buf.getvalue())
        self.reps.add(rep)

    def load(self, rep: int) -> tuple[dict, float]:
        """A stored replication: (raw arrays, volume factor), exactly as the worker returned them."""
        try:
            with np.load(self.path(rep), allow_pickle=False) as z:
                raw = {k: z[k] for k in z.files if k not in ("__volume__", "__scalars__")}
                raw.update(json.loads(str(z["__scalars__"])))
                volume = float(z["__volume__"])
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            raise ResumeError(f"cannot read stored replication {self.path(rep)} ({exc}); delete it and "
                              f"resume to run it again") from None
        return raw, volume


# --------------------------------------------------------------------------
# Jobs and their in-order merge
# --------------------------------------------------------------------------
@dataclass
class Job:
    """One scenario to replicate: a run, or one point of a sweep."""

    cs: CompiledScenario
    replications: int
    sl_denominator: str = "queued"
    store: RepStore | None = None
    label: str = ""
    calls_per_rep: float = 1.0


class Merger:
    """Adds a job's replications to an Accumulator in replication order, whatever order they finish in."""

    def __init__(self, job: Job, call_log: bool = False):
        self.job = job
        self.acc = Accumulator(job.cs, job.sl_denominator)
        self.call_log = call_log
        self.logs: list = []
        self.next = 0
        self.pending: dict[int, tuple[dict, float]] = {}
        self.max_pending = 0
        self.resumed = 0

    @property
    def complete(self) -> bool:
        return self.next >= self.job.replications

    def put(self, rep: int, raw: dict, volume: float) -> None:
        self.pending[rep] = (raw, volume)
        self.max_pending = max(self.max_pending, len(self.pending))
        self.drain()

    def _take(self, rep: int):
        if rep in self.pending:
            return self.pending.pop(rep)
        store = self.job.store
        if store is not None and store.has(rep):
            self.resumed += 1
            return store.load(rep)
        return None

    def _add(self, rep: int, raw: dict, volume: float) -> None:
        if self.call_log:
            self.logs.append(raw["call_log"])
        self.acc.add(rep, raw, volume)

    def drain(self) -> None:
        while self.next < self.job.replications:
            got = self._take(self.next)
            if got is None:
                break
            self._add(self.next, *got)
            self.next += 1

    def drain_all(self) -> None:
        """After an interrupt: add every finished replication (in order, leaving gaps)."""
        self.drain()
        store = self.job.store
        stored = store.reps if store is not None else set()
        for rep in sorted((set(self.pending) | stored) - set(range(self.next))):
            if rep < self.job.replications:
                got = self._take(rep)
                if got is not None:
                    self._add(rep, *got)
        self.pending.clear()

    def missing(self) -> list[int]:
        done = set(self.acc.day_rows)
        return [r for r in range(self.job.replications) if r not in done]


def compress_ranges(reps: list[int]) -> list:
    """[0, 1, 2, 5, 7, 8] -> [[0, 2], 5, [7, 8]] (for metadata)."""
    out: list = []
    for r in reps:
        if out and isinstance(out[-1], list) and out[-1][1] == r - 1:
            out[-1][1] = r
        elif out and isinstance(out[-1], int) and out[-1] == r - 1:
            out[-1] = [out[-1], r]
        else:
            out.append(r)
    return out


# --------------------------------------------------------------------------
# What runs in a worker
# --------------------------------------------------------------------------
def _compute(cs: CompiledScenario, entropy: int, engine: str, reps, call_log: bool) -> list:
    from .simulate import run_replication
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
    return _compute(w["scenarios"][job], w["entropy"], w["engine"], reps, w["call_log"])


def _identity(x):
    return x


def _dask_task(cs, entropy, engine, reps, call_log) -> dict:
    """One Dask task: a few replications, plus the versions that produced them."""
    return {"versions": (_version("simcc"), np.__version__),
            "reps": _compute(cs, entropy, engine, reps, call_log)}


# --------------------------------------------------------------------------
# Executors: one loop, three ways of running a task
# --------------------------------------------------------------------------
class _InProcess:
    kind = "in-process"
    workers = 1
    breaks_all = False

    def __init__(self, jobs, entropy, engine, call_log):
        self.args = ([j.cs for j in jobs], entropy, engine, call_log)

    def submit(self, job, reps, attempt):
        scenarios, entropy, engine, call_log = self.args
        f = cf.Future()
        try:
            f.set_result(_compute(scenarios[job], entropy, engine, reps, call_log))
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


class _Pool:
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
        from ._procpool import lease
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
        from ._procpool import WorkerDied
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


class _LocalDaskCluster:
    """``scheduler="local"``: a Dask scheduler and ``n`` workers on 127.0.0.1, started as separate
    programs with simcc's worker path (not ``LocalCluster``, whose processes re-run the user's script)."""

    def __init__(self, n: int):
        import shutil
        import tempfile
        from ._procpool import run_module
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


class _Dask:
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
            self.cluster = _LocalDaskCluster(workers or default_workers())
            try:
                self.client = Client(self.cluster.wait_address(), timeout="30s")
            except Exception:
                self.cluster.close()
                raise
            self.address = "local"
        else:
            self.client = Client(scheduler, timeout="30s")
            self.address = str(scheduler)
        try:
            # a local cluster of n workers is ready when all n are; a given cluster when one is
            self.client.wait_for_workers(len(self.cluster.procs) - 1 if self.cluster is not None else 1, timeout=120)
        except Exception:
            self.close()
            raise
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


# --------------------------------------------------------------------------
# The loop
# --------------------------------------------------------------------------
#: How often the loop looks up from waiting (to notice Ctrl-C while long tasks run).
POLL_S = 0.25


class _GracefulStop:
    """Ctrl-C asks the loop to stop between two steps instead of raising wherever it lands
    (half-way through writing a file, say); a second Ctrl-C raises at once.

    Installed only in the main thread and only over Python's default handler;
    elsewhere Ctrl-C raises KeyboardInterrupt as usual, which the loop also handles.
    """

    def __init__(self):
        self.requested = False
        self.previous = None
        try:
            if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
                self.previous = signal.signal(signal.SIGINT, self._handler)
        except ValueError:   # not the main thread
            self.previous = None

    def _handler(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def restore(self):
        if self.previous is not None:
            try:
                signal.signal(signal.SIGINT, self.previous)
            except ValueError:  # pragma: no cover - not the main thread
                pass
            self.previous = None


def _caused_by_interrupt(exc: BaseException) -> bool:
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


@dataclass
class Outcome:
    """What :func:`run_jobs` returns: one merger per job, how the run ended, and how it ran."""

    mergers: list
    status: str = "complete"          # "complete", "interrupted" or "failed"
    error: BaseException | None = None
    execution: dict = field(default_factory=dict)


def _plan(jobs: list[Job], workers: int, engine: str) -> list[tuple[int, tuple]]:
    target = KERNEL_CALLS_PER_TASK if engine == "kernel" else REFERENCE_CALLS_PER_TASK
    tasks = []
    for j, job in enumerate(jobs):
        stored = job.store.reps if job.store is not None else set()
        missing = [r for r in range(job.replications) if r not in stored]
        if workers <= 1:
            per = 1
        else:
            per = max(1, int(target // max(job.calls_per_rep, 1.0)))
            per = min(per, MAX_REPS_PER_TASK, max(1, math.ceil(len(missing) / (4 * workers))))
        tasks += [(j, tuple(missing[i:i + per])) for i in range(0, len(missing), per)]
    return tasks


def _backend(jobs, entropy, engine, call_log, workers, scheduler, work_calls, n_reps):
    if scheduler is not None:
        return _Dask(jobs, entropy, engine, call_log, scheduler, workers)
    if workers is None:
        workers = default_workers()
        scale = 1.0 if engine == "kernel" else 0.01
        if n_reps < AUTO_MIN_REPLICATIONS or work_calls < AUTO_MIN_CALLS * scale:
            workers = 1
    if workers <= 1:
        return _InProcess(jobs, entropy, engine, call_log)
    return _Pool(jobs, entropy, engine, call_log, workers)


def check_workers(workers) -> None:
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1):
        raise ValueError(f"workers must be a whole number >= 1 (or None for all cores), not {workers!r}")


def run_jobs(jobs: list[Job], entropy: int, engine: str = "kernel", *, workers: int | None = None,
             scheduler=None, progress: Callable[[int, int], None] | None = None, call_log: bool = False,
             max_retries: int = MAX_RETRIES, on_job_done: Callable[[int, Merger], None] | None = None) -> Outcome:
    """Run every missing replication of every job and merge them in replication order.

    Never raises for Ctrl-C or a failed task: the returned :class:`Outcome`
    says ``"interrupted"`` or ``"failed"`` (with ``error``), after the workers
    are stopped; the mergers hold everything that finished.
    """
    check_workers(workers)
    mergers = [Merger(job, call_log) for job in jobs]
    for m in mergers:
        m.drain()           # replications kept from an earlier run, in order
    total = sum(job.replications for job in jobs)
    stored = [sum(1 for r in job.store.reps if r < job.replications) if job.store else 0 for job in jobs]
    done = sum(stored)
    work = sum(job.calls_per_rep * (job.replications - k) for job, k in zip(jobs, stored))
    missing_reps = total - done
    outcome = Outcome(mergers)
    failures: list[dict] = []
    backend = None
    tasks: list = []
    inflight: dict = {}
    reported: set[int] = set()
    stop = _GracefulStop()

    def report_complete():
        for j, m in enumerate(mergers):
            if m.complete and j not in reported:
                reported.add(j)
                if on_job_done is not None:
                    on_job_done(j, m)

    try:
        if progress is not None:
            progress(done, total)
        if missing_reps == 0:
            report_complete()
            outcome.execution = {"executor": "none (every replication was stored)", "workers": 0, "tasks": 0,
                                 "resumed_replications": sum(m.resumed for m in mergers), "worker_failures": []}
            return outcome
        backend = _backend(jobs, entropy, engine, call_log, workers, scheduler, work, missing_reps)
        tasks = _plan(jobs, backend.workers, engine)
        n = len(tasks)
        backend.prepare(n)
        attempts = [0] * n
        finished = [False] * n
        pending = deque(range(n))
        max_inflight = 2 * backend.workers if backend.workers > 1 else 1
        ahead = max(4 * backend.workers, 8) if backend.workers > 1 else 1
        oldest = 0
        report_complete()

        def accept(t, value):
            nonlocal done
            j = tasks[t][0]
            for rep, raw, volume in backend.unpack(value):
                store = jobs[j].store
                if store is not None:
                    store.save(rep, raw, volume)
                mergers[j].put(rep, raw, volume)
                done += 1
            finished[t] = True
            report_complete()
            if progress is not None:
                progress(done, total)

        def settle(futures) -> list:
            lost = []
            for f in sorted(futures, key=lambda f: inflight[f]):
                t = inflight.pop(f)
                exc = f.exception()
                if exc is None:
                    accept(t, f.result())
                elif backend.is_lost(exc):
                    lost.append((t, exc))
                else:
                    j, reps = tasks[t]
                    where = f" of {jobs[j].label}" if jobs[j].label else ""
                    raise RuntimeError(f"replication(s) {compress_ranges(list(reps))}{where} failed: "
                                       f"{type(exc).__name__}: {exc}") from exc
            return lost

        while (pending or inflight) and not stop.requested:
            while pending and len(inflight) < max_inflight and pending[0] < oldest + ahead:
                t = pending.popleft()
                j, reps = tasks[t]
                inflight[backend.submit(j, reps, attempts[t])] = t
            lost = settle(backend.wait(inflight, timeout=POLL_S))
            if lost and backend.breaks_all:
                lost += settle(backend.wait_all(inflight))
            if lost:
                for t, exc in sorted(lost, reverse=True):
                    j, reps = tasks[t]
                    attempts[t] += 1
                    entry = {"job": jobs[j].label, "replications": compress_ranges(list(reps)),
                             "attempt": attempts[t], "error": f"{type(exc).__name__}: {exc}"}
                    failures.append(entry)
                    if attempts[t] > max_retries:
                        raise WorkerLost(f"replication(s) {entry['replications']}"
                                         f"{' of ' + jobs[j].label if jobs[j].label else ''}: a worker died "
                                         f"{attempts[t]} times while running them; giving up ({entry['error']})")
                    pending.appendleft(t)
                warnings.warn(f"a worker died ({lost[0][1].__class__.__name__}); running replication(s) "
                              f"{compress_ranges(sorted(r for t, _ in lost for r in tasks[t][1]))} again",
                              WorkerLostWarning, stacklevel=2)
                backend.recover()
            while oldest < n and finished[oldest]:
                oldest += 1
        if stop.requested:
            raise KeyboardInterrupt
        if isinstance(backend, _Dask):
            for w in backend.lost_workers():
                for j, reps in w["tasks"]:
                    failures.append({"job": jobs[j].label, "replications": compress_ranges(list(reps)),
                                     "worker": w["worker"], "error": f"Dask worker {w['worker']} died; Dask ran "
                                                                     f"the task again"})
                warnings.warn(f"Dask worker {w['worker']} died while running replication(s) "
                              f"{compress_ranges(sorted(r for _, reps in w['tasks'] for r in reps))}; "
                              f"Dask ran them again", WorkerLostWarning, stacklevel=2)
        backend.close()
        unfinished = [m.job.label or str(j) for j, m in enumerate(mergers) if not m.complete]
        if unfinished:  # pragma: no cover - a bug, never a silent gap
            raise RuntimeError(f"replications of {', '.join(unfinished)} were neither run nor stored")
    except KeyboardInterrupt:
        outcome.status = "interrupted"
        if backend is not None:
            backend.abort(inflight)
    except Exception as exc:  # noqa: BLE001 - reported through the outcome, raised by the caller
        # a second Ctrl-C can land inside a library (zipfile, Dask) and come out as another error
        outcome.status = "interrupted" if _caused_by_interrupt(exc) else "failed"
        outcome.error = None if outcome.status == "interrupted" else exc
        if backend is not None:
            backend.abort(inflight)
    finally:
        stop.restore()
    if outcome.status != "complete":
        for m in mergers:
            m.drain()
        try:
            report_complete()        # jobs whose last replication came in just before the stop
        except Exception:  # noqa: BLE001 - already stopping; the job stays unreported
            pass
        for m in mergers:
            m.drain_all()
    execution = backend.describe() if backend is not None else {"executor": "not started", "workers": 0}
    execution.update(tasks=len(tasks),
                     resumed_replications=sum(m.resumed for m in mergers),
                     worker_failures=failures)
    outcome.execution = execution
    return outcome
