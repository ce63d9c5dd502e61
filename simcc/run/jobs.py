"""Many replications at once: local worker processes or a Dask cluster, merged in replication order.

A run (or each point of a sweep) is a *job*: a compiled scenario and a
number of replications. Replication ``r`` always draws from the streams
spawned for ``(root entropy, r)`` (:mod:`simcc.engine.streams`), whatever process
runs it, so the work can be cut into tasks of a few replications and sent to
any executor:

- ``workers=1``: in this process, one replication after the other;
- ``workers=N`` (``None`` = all cores): N local worker processes that receive
  the compiled scenarios once, when they start, and ignore Ctrl-C (the parent
  handles it);
- ``scheduler="tcp://host:8786"`` (or ``"local"``, or a ``distributed.Client``):
  a Dask distributed cluster.

Finished replications are merged into the :class:`~simcc.run.results.Accumulator`
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

import math
import signal
import warnings
from collections import deque
from dataclasses import dataclass, field
from typing import Callable

from ..engine.compile import CompiledScenario
from . import arguments
from .executors import POLL_S, make_executor
from .results import Accumulator
from .store import RepStore

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


class ReplicationFailed(RuntimeError):
    """A replication raised an error (out of memory, say); ``__cause__`` is that error."""


class WorkerLostWarning(RuntimeWarning):
    """A worker died; its replications are being run again."""



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
# The loop
# --------------------------------------------------------------------------
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


def check_workers(workers) -> None:
    arguments.workers(workers)


class _Runner:
    """One call of :func:`run_jobs`: plan the tasks, keep a bounded number in flight, merge in order."""

    def __init__(self, jobs: list[Job], entropy: int, engine: str, workers, scheduler, progress, call_log: bool,
                 max_retries: int, on_job_done):
        self.jobs, self.entropy, self.engine = jobs, entropy, engine
        self.workers, self.scheduler, self.call_log = workers, scheduler, call_log
        self.progress, self.max_retries, self.on_job_done = progress, max_retries, on_job_done
        self.mergers = [Merger(job, call_log) for job in jobs]
        for m in self.mergers:
            m.drain()           # replications kept from an earlier run, in order
        self.total = sum(job.replications for job in jobs)
        stored = [sum(1 for r in job.store.reps if r < job.replications) if job.store else 0 for job in jobs]
        self.done = sum(stored)
        self.work = sum(job.calls_per_rep * (job.replications - k) for job, k in zip(jobs, stored))
        self.failures: list[dict] = []
        self.backend = None
        self.tasks: list = []
        self.inflight: dict = {}
        self.reported: set[int] = set()

    # ------------------------------------------------------------------
    def report_complete(self) -> None:
        for j, m in enumerate(self.mergers):
            if m.complete and j not in self.reported:
                self.reported.add(j)
                if self.on_job_done is not None:
                    self.on_job_done(j, m)

    def tick(self) -> None:
        if self.progress is not None:
            self.progress(self.done, self.total)

    def accept(self, t: int, value) -> None:
        j = self.tasks[t][0]
        for rep, raw, volume in self.backend.unpack(value):
            store = self.jobs[j].store
            if store is not None:
                store.save(rep, raw, volume)
            self.mergers[j].put(rep, raw, volume)
            self.done += 1
        self.finished[t] = True
        self.report_complete()
        self.tick()

    def settle(self, futures) -> list:
        """Take finished tasks in submission order; return those whose worker died."""
        lost = []
        for f in sorted(futures, key=lambda f: self.inflight[f]):
            t = self.inflight.pop(f)
            exc = f.exception()
            if exc is None:
                self.accept(t, f.result())
            elif self.backend.is_lost(exc):
                lost.append((t, exc))
            else:
                j, reps = self.tasks[t]
                where = f" of {self.jobs[j].label}" if self.jobs[j].label else ""
                raise ReplicationFailed(f"replication(s) {compress_ranges(list(reps))}{where} failed: "
                                   f"{type(exc).__name__}: {exc}") from exc
        return lost

    def retry(self, lost: list) -> None:
        """Run again the tasks of workers that died; one death (one error) is one failure entry."""
        by_death: dict[int, list] = {}
        for t, exc in sorted(lost):
            by_death.setdefault(id(exc), [exc]).append(t)
        for exc, *tasks in by_death.values():
            reps = sorted(r for t in tasks for r in self.tasks[t][1])
            labels = sorted({self.jobs[self.tasks[t][0]].label for t in tasks})
            entry = {"job": ", ".join(label for label in labels if label), "replications": compress_ranges(reps),
                     "attempt": max(self.attempts[t] for t in tasks) + 1, "error": f"{type(exc).__name__}: {exc}"}
            self.failures.append(entry)
            for t in tasks:
                self.attempts[t] += 1
                if self.attempts[t] > self.max_retries:
                    j, task_reps = self.tasks[t]
                    raise WorkerLost(f"replication(s) {compress_ranges(list(task_reps))}"
                                     f"{' of ' + self.jobs[j].label if self.jobs[j].label else ''}: a worker died "
                                     f"{self.attempts[t]} times while running them; giving up ({entry['error']})")
        for t in sorted((t for _, *tasks in by_death.values() for t in tasks), reverse=True):
            self.pending.appendleft(t)
        warnings.warn(f"a worker died ({lost[0][1].__class__.__name__}); running replication(s) "
                      f"{compress_ranges(sorted(r for t, _ in lost for r in self.tasks[t][1]))} again",
                      WorkerLostWarning, stacklevel=4)
        self.backend.recover()

    def note_lost_workers(self) -> None:
        """Workers an executor replaced by itself (Dask runs their tasks again)."""
        for w in self.backend.lost_workers():
            for j, reps in w["tasks"]:
                self.failures.append({"job": self.jobs[j].label, "replications": compress_ranges(list(reps)),
                                      "worker": w["worker"],
                                      "error": f"Dask worker {w['worker']} died; Dask ran the task again"})
            warnings.warn(f"Dask worker {w['worker']} died while running replication(s) "
                          f"{compress_ranges(sorted(r for _, reps in w['tasks'] for r in reps))}; "
                          f"Dask ran them again", WorkerLostWarning, stacklevel=4)

    # ------------------------------------------------------------------
    def loop(self, stop: _GracefulStop) -> None:
        self.backend = make_executor(self.jobs, self.entropy, self.engine, self.call_log, self.workers,
                                     self.scheduler, self.work, self.total - self.done, AUTO_MIN_CALLS,
                                     AUTO_MIN_REPLICATIONS)
        self.tasks = _plan(self.jobs, self.backend.workers, self.engine)
        n = len(self.tasks)
        self.backend.prepare(n)
        self.attempts = [0] * n
        self.finished = [False] * n
        self.pending = deque(range(n))
        workers = self.backend.workers
        max_inflight = 2 * workers if workers > 1 else 1
        ahead = max(4 * workers, 8) if workers > 1 else 1     # bounds the reorder buffer
        oldest = 0
        self.report_complete()
        while (self.pending or self.inflight) and not stop.requested:
            while self.pending and len(self.inflight) < max_inflight and self.pending[0] < oldest + ahead:
                t = self.pending.popleft()
                j, reps = self.tasks[t]
                self.inflight[self.backend.submit(j, reps, self.attempts[t])] = t
            lost = self.settle(self.backend.wait(self.inflight, timeout=POLL_S))
            if lost and self.backend.breaks_all:
                lost += self.settle(self.backend.wait_all(self.inflight))
            if lost:
                self.retry(lost)
            while oldest < n and self.finished[oldest]:
                oldest += 1
        if stop.requested:
            raise KeyboardInterrupt
        self.note_lost_workers()
        self.backend.close()
        unfinished = [m.job.label or str(j) for j, m in enumerate(self.mergers) if not m.complete]
        if unfinished:  # pragma: no cover - a bug, never a silent gap
            raise RuntimeError(f"replications of {', '.join(unfinished)} were neither run nor stored")

    def run(self) -> Outcome:
        outcome = Outcome(self.mergers)
        stop = _GracefulStop()
        try:
            self.tick()
            if self.done == self.total:
                self.report_complete()
                outcome.execution = {"executor": "none (every replication was stored)", "workers": 0, "tasks": 0,
                                     "resumed_replications": sum(m.resumed for m in self.mergers),
                                     "worker_failures": []}
                return outcome
            self.loop(stop)
        except KeyboardInterrupt:
            outcome.status = "interrupted"
            if self.backend is not None:
                self.backend.abort(self.inflight)
        except Exception as exc:  # noqa: BLE001 - reported through the outcome, raised by the caller
            # a second Ctrl-C can land inside a library (zipfile, Dask) and come out as another error
            outcome.status = "interrupted" if _caused_by_interrupt(exc) else "failed"
            outcome.error = None if outcome.status == "interrupted" else exc
            if self.backend is not None:
                self.backend.abort(self.inflight)
        finally:
            stop.restore()
        if outcome.status != "complete":
            for m in self.mergers:
                m.drain()
            try:
                self.report_complete()        # jobs whose last replication came in just before the stop
            except Exception:  # noqa: BLE001 - already stopping; the job stays unreported
                pass
            for m in self.mergers:
                m.drain_all()
        execution = self.backend.describe() if self.backend is not None else {"executor": "not started",
                                                                              "workers": 0}
        execution.update(tasks=len(self.tasks), resumed_replications=sum(m.resumed for m in self.mergers),
                         worker_failures=self.failures)
        outcome.execution = execution
        return outcome


def run_jobs(jobs: list[Job], entropy: int, engine: str = "kernel", *, workers: int | None = None,
             scheduler=None, progress: Callable[[int, int], None] | None = None, call_log: bool = False,
             max_retries: int = MAX_RETRIES, on_job_done: Callable[[int, Merger], None] | None = None) -> Outcome:
    """Run every missing replication of every job and merge them in replication order.

    Never raises for Ctrl-C or a failed task: the returned :class:`Outcome`
    says ``"interrupted"`` or ``"failed"`` (with ``error``), after the workers
    are stopped; the mergers hold everything that finished.
    """
    check_workers(workers)
    return _Runner(jobs, entropy, engine, workers, scheduler, progress, call_log, max_retries, on_job_done).run()
