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

class Day:
    stats: dict[str, np.ndarray]
    finished: bool
    @property
    def border(self) -> int: ...
    @property
    def ended(self) -> int: ...
    @property
    def interval_s(self) -> float: ...
    @property
    def now(self) -> float: ...
    @property
    def counters(self) -> dict[str, int]: ...
    def advance(self, stop: int, until_s: float = ...) -> int: ...
    def set_headcount(self, headcount: np.ndarray) -> None: ...
    def unsettled_from(self) -> int: ...
    def copy(self) -> Day: ...

def start_day(
    cs: CompiledScenario,
    arrival_bitgens: Sequence[np.random.BitGenerator],
    source_bitgens: Sequence[np.random.BitGenerator],
    stats: dict[str, np.ndarray],
    volume: float = ...,
    idle_room: int = ...,
) -> Day: ...
