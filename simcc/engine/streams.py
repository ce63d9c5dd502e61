"""Random streams: one numpy BitGenerator per random source and replication.

Replication ``r`` of a run with root seed ``seed`` draws source ``src`` from
``SeedSequence(root.entropy, spawn_key=(r, src))``, the same child that
``root.spawn(r + 1)[r].spawn(src + 1)[src]`` gives; arrival stream ``s`` uses
``spawn_key=(r, 0, s)``. Sources are keyed by a fixed enum, so adding a source
never shifts the others, and two runs with the same seed share common random
numbers source by source (two policies, two staffing levels).
"""
from __future__ import annotations

import numpy as np

from .compile import CompiledScenario
from .contract import SOURCE_IDS, SOURCES


def root_entropy(seed) -> int:
    """The root entropy of a seed (an int, or None for fresh OS entropy)."""
    return int(np.random.SeedSequence(seed).entropy)


def source_seq(entropy: int, rep: int, source: str, *sub: int) -> np.random.SeedSequence:
    """SeedSequence of one random source in one replication."""
    return np.random.SeedSequence(entropy, spawn_key=(rep, SOURCE_IDS[source], *sub))


def bit_generators(entropy: int, rep: int, n_streams: int):
    """(arrival bit generators, source bit generators) of one replication."""
    arrivals = [np.random.PCG64(source_seq(entropy, rep, "arrival", s)) for s in range(n_streams)]
    sources = [np.random.PCG64(source_seq(entropy, rep, name)) for name in SOURCES]
    return arrivals, sources


def day_headcount(cs: CompiledScenario, entropy: int, rep: int) -> np.ndarray:
    """The headcount of one replication's day after absence: each group with ``absence`` p loses a
    Binomial(n, p) of its n agents (n = its largest headcount of the day), and every interval the same
    share of its headcount, rounded to whole agents. Drawn group by group from a stream of its own
    (beside the volume factor's), so absence changes no other draw."""
    if not np.any(cs.absence > 0):
        return cs.headcount
    gen = np.random.Generator(np.random.PCG64(source_seq(entropy, rep, "volume", 1)))
    out = cs.headcount.copy()
    for g in range(cs.n_groups):
        n = int(cs.headcount[:, g].max(initial=0))
        if cs.absence[g] > 0 and n > 0:
            share = gen.binomial(n, cs.absence[g]) / n
            out[:, g] -= np.floor(cs.headcount[:, g] * share + 0.5).astype(out.dtype)
    return out


def volume_factor(cs: CompiledScenario, entropy: int, rep: int) -> float:
    """Day-level volume factor: Gamma with mean 1 and cv ``volume_cv`` (1.0 when cv is 0)."""
    if cs.volume_cv <= 0:
        return 1.0
    shape = 1.0 / (cs.volume_cv * cs.volume_cv)
    gen = np.random.Generator(np.random.PCG64(source_seq(entropy, rep, "volume")))
    return float(gen.gamma(shape, 1.0 / shape))
