"""Distributions, given as planners think of them: a mean (and a coefficient of variation).

Adding a distribution: a model here (with its ``dist`` literal), its entry in
:data:`Distribution`, its mean in :func:`dist_mean`, its row in
``simcc.engine.compile`` and its draw in both engines (``_sample`` in the
kernel, ``sample`` in the reference), then a test.
"""
from __future__ import annotations

import math
from typing import Annotated, Literal, Union

from pydantic import Field

from .base import Model, NonNegFloat, PosFloat


class Exponential(Model):
    dist: Literal["exponential"]
    mean_s: PosFloat


class Deterministic(Model):
    dist: Literal["deterministic"]
    value_s: NonNegFloat


class Uniform(Model):
    dist: Literal["uniform"]
    low_s: NonNegFloat
    high_s: NonNegFloat


class Triangular(Model):
    """From ``low_s`` to ``high_s``, most likely at ``mode_s`` (a planner's minimum / typical / maximum)."""

    dist: Literal["triangular"]
    low_s: NonNegFloat
    mode_s: NonNegFloat
    high_s: NonNegFloat


class Lognormal(Model):
    dist: Literal["lognormal"]
    mean_s: PosFloat
    cv: Annotated[float, Field(gt=0, le=20)]


class Gamma(Model):
    dist: Literal["gamma"]
    mean_s: PosFloat
    cv: Annotated[float, Field(gt=0, le=20)]


class Erlang(Model):
    dist: Literal["erlang"]
    mean_s: PosFloat
    k: Annotated[int, Field(ge=1, le=1000)]


class Weibull(Model):
    dist: Literal["weibull"]
    mean_s: PosFloat
    cv: Annotated[float, Field(ge=0.05, le=10)]


class Empirical(Model):
    dist: Literal["empirical"]
    values_s: Annotated[list[NonNegFloat], Field(min_length=1, max_length=100_000)]


class Never(Model):
    """Infinite time: a caller who never hangs up (patience only)."""

    dist: Literal["never"]


Distribution = Annotated[
    Union[Exponential, Deterministic, Uniform, Triangular, Lognormal, Gamma, Erlang, Weibull, Empirical, Never],
    Field(discriminator="dist"),
]


def dist_mean(d) -> float:
    """Mean of a distribution spec in seconds (inf for ``never``)."""
    if isinstance(d, Deterministic):
        return d.value_s
    if isinstance(d, Uniform):
        return (d.low_s + d.high_s) / 2
    if isinstance(d, Triangular):
        return (d.low_s + d.mode_s + d.high_s) / 3
    if isinstance(d, Empirical):
        return sum(d.values_s) / len(d.values_s)
    if isinstance(d, Never):
        return math.inf
    return d.mean_s

