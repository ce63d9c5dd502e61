"""One replication on one of the two engines: the compiled kernel or the SimPy reference."""
from __future__ import annotations

import dataclasses

from . import streams
from .compile import CompiledScenario
from .contract import new_stats
from .native import kernel

ENGINES = ("kernel", "reference")


def check_engine(engine) -> None:
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")


def run_replication(cs: CompiledScenario, entropy: int, rep: int, engine: str = "kernel",
                    call_log: bool = False, router=None) -> tuple[dict, float]:
    """Run replication ``rep`` of a compiled scenario; returns (raw arrays and counters, volume factor).

    ``router`` (reference engine only) is a :class:`simcc.engine.routing.Router`
    subclass or instance: routing written in Python instead of the compiled policy.
    """
    check_engine(engine)
    if router is not None and engine != "reference":
        raise ValueError("a Python router runs on the reference engine only: pass engine='reference'")
    arrivals, sources = streams.bit_generators(entropy, rep, cs.n_streams)
    volume = streams.volume_factor(cs, entropy, rep)
    headcount = streams.day_headcount(cs, entropy, rep)
    if headcount is not cs.headcount:       # agents absent today: this day's headcount
        cs = dataclasses.replace(cs, headcount=headcount)
    stats = new_stats(cs)
    if engine == "kernel":
        extra = kernel().run(cs, arrivals, sources, stats, volume, call_log)
    else:
        from . import reference
        if isinstance(router, type):
            router = router()
        extra = reference.run(cs, arrivals, sources, stats, volume, call_log, router)
    stats.update(extra)
    return stats, volume


def start_day(cs: CompiledScenario, entropy: int, rep: int, idle_room: int = 0):
    """Replication ``rep`` of a compiled scenario as a :class:`simcc.engine._core.Day` at t = 0 (the
    compiled kernel only), and its volume factor. Advanced to its end with the same headcount, it gives
    the raw arrays :func:`run_replication` gives (see :func:`day_raw`). ``idle_room``: agents per group it
    may later be given beyond its most (:meth:`~simcc.engine._core.Day.set_headcount`)."""
    arrivals, sources = streams.bit_generators(entropy, rep, cs.n_streams)
    volume = streams.volume_factor(cs, entropy, rep)
    headcount = streams.day_headcount(cs, entropy, rep)
    if headcount is not cs.headcount:
        cs = dataclasses.replace(cs, headcount=headcount)
    return kernel().start_day(cs, arrivals, sources, new_stats(cs), volume, idle_room), volume


def day_raw(day) -> dict:
    """The raw arrays and counters of a :class:`simcc.engine._core.Day` (as :func:`run_replication` returns)."""
    raw = dict(day.stats)
    raw.update(day.counters)
    return raw
