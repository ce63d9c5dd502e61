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
