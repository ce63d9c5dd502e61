"""The routing-policy registry: every routing rule a scenario can name, in one place.

A policy is either a **choice** rule (how a freed agent picks among the
waiting calls it may take; a scenario uses exactly one, ``priority`` when it
names none) or a **filter** (which calls and groups are eligible at all; any
number combine with the choice rule). The scenario validator, the sweep and
compare commands, the compiler (``simcc.engine.compile``), both engines and
the docs read this table; ``tests/engine/test_contract.py`` checks that the
kernel implements exactly these names, in both directions.

Adding a policy: an entry here, its parameters in ``Routing``
(``simcc.model.sections``), its code in ``simcc.engine.contract`` and the
kernel's ``_pick_group`` / ``_pick_call`` (``simcc/engine/_core.pyx``), the
same lines in ``simcc.engine.routing.Router``, and its name in the agreement
test's strategy (``tests/strategies.py``). docs/developing.md has the recipe.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Policy:
    name: str
    kind: str                 # "choice" or "filter"
    params: tuple[str, ...]   # keys of the routing block the policy reads
    doc: str


_ENTRIES = (
    Policy("priority", "choice", ("tier_priority",),
           "a freed agent takes, among the call types at its best skill level with calls waiting, the call "
           "waiting longest (higher tier first with tier_priority)"),
    Policy("overflow", "filter", ("overflow_after_s",),
           "groups below a call type's best skill level may take it only after it has waited overflow_after_s"),
    Policy("reserve", "filter", ("reserve",),
           "a group keeps some idle agents for one tier or one call type"),
    Policy("weighted_wait", "choice", ("weights", "tier_weights"),
           "a freed agent takes the waiting call with the largest weight x wait / mean service time "
           "(generalized c-mu)"),
)

#: Every policy by name, in documentation order.
POLICIES: dict[str, Policy] = {p.name: p for p in _ENTRIES}
POLICY_NAMES: tuple[str, ...] = tuple(POLICIES)
CHOICE_RULES: tuple[str, ...] = tuple(p.name for p in _ENTRIES if p.kind == "choice")
FILTERS: tuple[str, ...] = tuple(p.name for p in _ENTRIES if p.kind == "filter")
DEFAULT_CHOICE = "priority"


def parse_policy(text) -> list[str]:
    """Policy names from ``"priority+overflow"`` (or a list of names), checked against the registry.

    Examples
    --------
    >>> parse_policy("priority+overflow"), parse_policy(["weighted_wait"])
    (['priority', 'overflow'], ['weighted_wait'])
    """
    names = [p.strip() for p in text.split("+") if p.strip()] if isinstance(text, str) else list(text)
    unknown = [p for p in names if p not in POLICIES]
    if not names or unknown:
        raise ValueError(f"unknown policy {text!r}; policies are {', '.join(POLICY_NAMES)} (combine with '+')")
    return names
