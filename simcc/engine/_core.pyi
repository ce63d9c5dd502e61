"""Type stub of the compiled kernel (simcc/engine/_core.pyx)."""
from typing import Any, Sequence

import numpy as np

from .compile import CompiledScenario

SOURCE_IDS: dict[str, int]
DIST_CODES: dict[str, int]
OUTCOMES: dict[str, int]
CALL_KINDS: dict[str, int]
LEGS: dict[str, int]
CHOICE_CODES: dict[str, int]
N_WAIT_BINS: int
N_SOURCE_IDS: int
STAT_NAMES: tuple[str, ...]

def run(
    cs: CompiledScenario,
    arrival_bitgens: Sequence[np.random.BitGenerator],
    source_bitgens: Sequence[np.random.BitGenerator],
    stats: dict[str, np.ndarray],
    volume: float = ...,
    call_log: bool = ...,
) -> dict[str, Any]: ...
