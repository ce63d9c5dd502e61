"""One replication on one of the two engines: the compiled kernel or the SimPy reference."""
from __future__ import annotations

import os

from . import streams
from .compile import CompiledScenario
from .contract import new_stats

ENGINES = ("kernel", "reference")


def kernel():
    """The compiled kernel module, or a clear error saying how to build it (never a silent fallback)."""
    try:
        from . import _core
    except ImportError as exc:  # pragma: no cover - only without a build
        here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        raise RuntimeError(
            f"the compiled kernel simcc.engine._core is not built in {here}. If that is the repository folder "
            f"(simcc was installed without -e, or not at all), run `python -m pip install -e .` there "
            f"(needs a C compiler), or start Python from another folder (the SimPy reference engine needs it "
            f"too, for the calls' own random streams)") from exc
    return _core


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
