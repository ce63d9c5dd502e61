"""Run a scenario: replications on one of two engines, merged into a Result."""
from __future__ import annotations

import importlib.metadata
import os
import platform
from typing import Callable

import numpy as np

from ..engine import streams
from ..engine.compile import compile_scenario
from ..engine.replication import ENGINES, check_engine, kernel, run_replication
from ..errors import SizeError
from ..model.scenario import Scenario
from . import arguments, jobs, outdir
from .export import write_meta_only, write_result
from .results import Accumulator, Result
from .store import RepStore, fingerprint, stored_entropy

__all__ = [
    "DEFAULT_SEED",
    "ENGINES",
    "MAX_EVENTS",
    "check_memory",
    "check_size",
    "estimate_memory_gb",
    "estimate_events",
    "run_meta",
    "simulate",
]

DEFAULT_SEED = 1
#: Size guard: refuse a scenario whose one replication (one simulated day) is estimated above
#: this many events (about 50 million calls a day; the 10086-size day is about 2 x 10^7). It stops
#: runaway single replications; a long run of many replications is the user's choice and is not refused.
MAX_EVENTS = 2e8
EVENTS_PER_CALL = 4.0


def estimate_events(scenario: Scenario, replications: int = 1) -> float:
    """Rough number of events ``replications`` days of a scenario process (for the size guard)."""
    return scenario.expected_calls() * EVENTS_PER_CALL * replications


def check_size(scenario: Scenario, max_events: float, what: str = "this scenario") -> None:
    """Raise :class:`SizeError` when one replication of ``scenario`` is estimated above ``max_events``."""
    est = estimate_events(scenario, 1)
    if est > max_events:
        raise SizeError(
            f"one replication of {what} is estimated at {est:.3g} events "
            f"({scenario.expected_calls():.3g} calls a day), above the limit of {max_events:.3g} "
            f"per replication; pass max_events= (command line: --max-events) to run it anyway"
        )


#: Memory guard: by default a run may use at most this share of the machine's physical memory.
MEMORY_SHARE = 0.5


def physical_memory_gb() -> float | None:
    """The machine's physical memory in GB (None where the platform does not say)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 1e9
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX
        return None


def estimate_memory_gb(cs, replications: int, call_log: bool = False, expected_calls: float = 0.0) -> float:
    """Rough peak memory of a run in GB: the statistics arrays of a replication (a few copies while
    one is built and merged, and the running totals), the per-interval rows kept for every
    replication, and the call logs."""
    from ..engine.contract import LOG_DTYPE, STATS, stat_shape
    from .kpis import INTERVAL_KPIS

    stats = sum(float(np.prod(stat_shape(a, cs))) * np.dtype(a.dtype).itemsize for a in STATS)
    rows = replications * cs.n_intervals * (len(INTERVAL_KPIS) + 2) * 8.0 * 2
    logs = replications * expected_calls * 1.5 * LOG_DTYPE.itemsize if call_log else 0.0
    return (2 * stats + rows + logs) / 1e9


def check_memory(
    css: list,
    replications: int,
    max_memory_gb: float | None,
    call_log: bool = False,
    expected_calls: float = 0.0,
    what: str = "this run",
) -> None:
    """Raise :class:`SizeError` when ``what`` (the compiled scenarios ``css``, each run ``replications``
    times: one for a run, one per point for a sweep) is estimated to need more memory than allowed."""
    limit = max_memory_gb
    if limit is None:
        total = physical_memory_gb()
        if total is None:  # pragma: no cover
            return
        limit, whose = MEMORY_SHARE * total, f"half of this machine's {total:.3g} GB"
    else:
        whose = "the limit given"
    need = sum(estimate_memory_gb(cs, replications, call_log, expected_calls) for cs in css)
    cs = max(css, key=lambda c: c.n_intervals * c.n_types * c.n_groups)
    if need > limit:
        raise SizeError(
            f"{what} is estimated to need {need:.3g} GB of memory ({replications:,} replication(s) of "
            f"{cs.n_intervals:,} intervals, {cs.n_types:,} call types x {cs.n_groups:,} groups), above "
            f"{limit:.3g} GB ({whose}); pass max_memory_gb= (command line: --max-memory-gb) to run it "
            f"anyway, or use fewer replications, intervals, call types or groups"
        )


def simulate(
    scenario: Scenario,
    seed: int | None = DEFAULT_SEED,
    replications: int = 1,
    *,
    engine: str = "kernel",
    progress: Callable[[int, int], None] | None = None,
    max_events: float = MAX_EVENTS,
    call_log: bool = False,
    workers: int | None = None,
    scheduler=None,
    out_dir: str | os.PathLike | None = None,
    resume: bool = False,
    router=None,
    max_memory_gb: float | None = None,
) -> Result:
    """Simulate ``replications`` independent days of a scenario, on all local cores or a cluster.

    Replication ``r`` draws from its own streams spawned from the root seed, so
    the merged result (replications added in order) is bit-identical whatever
    runs it: this process, N worker processes or a Dask cluster.

    Parameters
    ----------
    scenario : Scenario
        From :func:`simcc.load`, :func:`simcc.from_dict` or :mod:`simcc.textbook`.
    seed : int or None
        Root seed; the same seed, scenario and version give bit-identical
        results. None draws fresh entropy (recorded in ``result.meta``).
    replications : int
        Independent days, each with its own streams spawned from the root seed.
    engine : {"kernel", "reference"}
        The compiled kernel, or the SimPy reference (slow; the specification).
    progress : callable, optional
        Called as ``progress(done, total)`` after each replication.
    max_events : float
        Refuse a scenario whose one replication is estimated above this many
        events (a runaway day; raise it on purpose). Many replications are
        never refused: they are what the user asked for.
    call_log : bool
        Keep one record per call (``result.call_logs``); memory grows with calls.
    workers : int or None
        Local worker processes. None: all cores, except that small runs
        (fewer than 4 replications or about 2 million calls in all) stay in
        this process, where starting workers would cost more than it saves.
        1: always in this process.
    scheduler : str or distributed.Client, optional
        Run on Dask distributed instead: a scheduler address
        (``"tcp://host:8786"``), ``"local"`` for a local cluster of
        ``workers`` processes, or a connected ``Client``.
    out_dir : path, optional
        Keep every finished replication in ``out_dir/reps/`` as it finishes
        (atomic writes) and, at the end or on Ctrl-C, the result files
        (``summary.csv``, ``intervals.csv``, ``result.json``, then ``meta.json``).
    resume : bool
        Reuse the replications stored in ``out_dir`` by an earlier run of the
        same scenario, seed and engine, and run only the missing ones; the
        result is bit-identical to an uninterrupted run.
    router : simcc.Router subclass, optional
        Routing written in Python (the three decisions of the compiled
        policies); runs on ``engine="reference"`` only, in this process.
    max_memory_gb : float, optional
        Refuse a run estimated to need more memory than this (default: half
        of the machine's physical memory).

    Returns
    -------
    Result
        ``meta["status"]`` is ``"complete"``; ``meta["execution"]`` says what ran
        it and lists any worker that died (its replications were run again).

    Raises
    ------
    ValueError
        Bad engine, replication count or worker count; ``resume`` without ``out_dir``.
    SizeError
        One replication is estimated above ``max_events``, or the run above
        ``max_memory_gb``.
    simcc.Interrupted
        Ctrl-C: a ``KeyboardInterrupt`` whose ``result`` holds the finished
        replications (also written to ``out_dir``, status ``"interrupted"``).
    simcc.ResumeError
        ``out_dir`` holds replications of another run.
    simcc.WorkerLost
        A worker died more than twice on the same replications.

    Examples
    --------
    >>> import simcc
    >>> s = simcc.textbook.erlang(arrival_rate=0.5, mean_talk_s=180, agents=100, hours=1)
    >>> r = simcc.simulate(s, seed=7, replications=3)
    >>> sorted(r.summary()["service_level"])
    ['ci_high', 'ci_low', 'mean']
    """
    scenario = arguments.scenario(scenario)
    check_engine(engine)
    replications = arguments.replications(replications)
    seed = arguments.seed(seed)
    arguments.workers(workers)
    arguments.progress(progress)
    arguments.out_dir(out_dir)
    check_size(scenario, arguments.max_events(max_events))
    if resume and out_dir is None:
        raise ValueError("resume=True needs out_dir (the folder of the run to continue)")
    if engine == "kernel":
        kernel()
    cs = compile_scenario(scenario)
    check_memory([cs], replications, arguments.max_memory(max_memory_gb), call_log, scenario.expected_calls())
    if router is not None:
        if out_dir is not None or resume or scheduler is not None or (workers or 1) > 1:
            raise ValueError(
                "a Python router runs in this process only: drop out_dir, resume, scheduler and workers > 1"
            )
        return _simulate_with_router(scenario, cs, seed, replications, engine, router, progress, call_log)
    if out_dir is None:
        return _simulate_jobs(
            scenario, cs, seed, replications, engine, progress, call_log, workers, scheduler, None, resume
        )
    with outdir.claim(out_dir):
        return _simulate_jobs(
            scenario, cs, seed, replications, engine, progress, call_log, workers, scheduler, os.fspath(out_dir), resume
        )


def _simulate_jobs(
    scenario, cs, seed, replications, engine, progress, call_log, workers, scheduler, out_dir, resume
) -> Result:
    """The replications as one job of :func:`jobs.run_jobs`, stored in ``out_dir`` (which this run owns)."""
    entropy = (stored_entropy(out_dir) if resume and seed is None else None) or streams.root_entropy(seed)
    store = None
    if out_dir is not None:
        store = RepStore(out_dir, fingerprint(scenario, entropy, engine, call_log), resume)
    job = jobs.Job(
        cs, int(replications), scenario.sla.denominator, store, scenario.name, max(scenario.expected_calls(), 1.0)
    )
    outcome = jobs.run_jobs(
        [job], entropy, engine, workers=workers, scheduler=scheduler, progress=progress, call_log=call_log
    )
    merger = outcome.mergers[0]
    meta = run_meta(scenario, seed, entropy, replications, engine)
    meta["status"] = outcome.status
    if outcome.status != "complete":
        meta["missing_replications"] = jobs.compress_ranges(merger.missing())
    meta["execution"] = outcome.execution
    if not merger.acc.day_rows:  # stopped before any replication finished: nothing to summarise
        if out_dir is not None:
            write_meta_only(meta, out_dir)
        if outcome.error is not None:
            raise outcome.error
        raise jobs.Interrupted(None, f"interrupted before any of {replications} replications finished")
    result = Result(merger.acc, scenario, meta)
    result.call_logs = merger.logs
    if out_dir is not None:
        write_result(result, out_dir)
    if outcome.status == "interrupted":
        raise jobs.Interrupted(result, f"interrupted after {len(result.replications)} of {replications} replications")
    if outcome.error is not None:
        raise outcome.error
    return result


def _simulate_with_router(scenario, cs, seed, replications, engine, router, progress, call_log) -> Result:
    """Replications in this process with a Python router (a fresh router per replication)."""
    if engine != "reference":
        raise ValueError("a Python router runs on the reference engine only: pass engine='reference'")
    if not isinstance(router, type):
        raise ValueError("pass the Router subclass itself (each replication gets a fresh instance)")
    entropy = streams.root_entropy(seed)
    acc = Accumulator(cs, scenario.sla.denominator)
    logs = []
    for rep in range(replications):
        raw, volume = run_replication(cs, entropy, rep, engine, call_log, router)
        if call_log:
            logs.append(raw["call_log"])
        acc.add(rep, raw, volume)
        if progress is not None:
            progress(rep + 1, replications)
    meta = run_meta(scenario, seed, entropy, replications, engine)
    meta["router"] = f"{router.__module__}.{router.__qualname__}"
    result = Result(acc, scenario, meta)
    result.call_logs = logs
    return result


def run_meta(scenario: Scenario, seed, entropy: int, replications: int, engine: str) -> dict:
    """Metadata recorded with every result (what makes a run reproducible)."""
    try:
        version = importlib.metadata.version("simcc")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover
        version = "unknown"
    return {
        "scenario": scenario.name,
        "seed": seed,
        "entropy": str(entropy),
        "replications": replications,
        "engine": engine,
        "simcc_version": version,
        "numpy_version": np.__version__,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sl_definition": {
            "threshold_s": scenario.sl_threshold_s,
            "denominator": scenario.sla.denominator,
            "short_abandon_s": scenario.sla.short_abandon_s,
            "text": (
                f"answered within {scenario.sl_threshold_s:g} s / "
                f"{'queued' if scenario.sla.denominator == 'queued' else 'answered'}"
                + (
                    f", abandons under {scenario.sla.short_abandon_s:g} s dropped"
                    if scenario.sla.short_abandon_s > 0
                    else ""
                )
                + "".join(f"; {k}: within {t.within_s:g} s" for k, t in scenario.sla.by_call_type.items())
            ),
        },
        "sl_by_call_type": {k: t.within_s for k, t in scenario.sla.by_call_type.items()},
        "warmup_s": scenario.warmup_minutes * 60.0,
        "status": "complete",
    }
