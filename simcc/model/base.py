"""Shared pieces of the scenario models: the strict base model, field types and hard limits."""
from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

MAX_AGENTS = 100_000          # per group and interval
MAX_TRUNKS = 1_000_000
MAX_INTERVALS = 10_000
MAX_NAMES = 1_000             # call types, tiers, groups or streams
MAX_CALLS_PER_DAY = 1e9
SHARE_TOLERANCE = 1e-6


class Model(BaseModel):
    """Every scenario section: unknown keys, NaN/inf and lax type coercion are errors; values are frozen."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)


PosFloat = Annotated[float, Field(gt=0)]
NonNegFloat = Annotated[float, Field(ge=0)]
Prob = Annotated[float, Field(ge=0, le=1)]
Name = Annotated[str, Field(min_length=1, max_length=100)]
