"""pydantic's validation errors turned into simcc Problems: one mistake, one problem, in the user's words."""
from __future__ import annotations

import difflib
import functools
import re

from pydantic import ValidationError

from ..errors import Problem
from .dists import Deterministic, Empirical, Erlang, Exponential, Gamma, Lognormal, Triangular, Uniform, Weibull
from .sections import (
    IVR,
    SLA,
    Arrivals,
    Break,
    Callback,
    CallType,
    Campaign,
    Dialer,
    Group,
    HandlingOverride,
    Outbound,
    QualityCallbacks,
    Redial,
    Reserve,
    Roster,
    Routing,
    ServiceLevelTarget,
    Shift,
    SubgroupRules,
    Transfer,
)

_SECTIONS = (CallType, IVR, Arrivals, Group, Routing, SLA, ServiceLevelTarget, HandlingOverride, Redial,
             Transfer, Reserve, Callback, QualityCallbacks, Campaign, Outbound, Roster, Shift, Break, SubgroupRules,
             Dialer, Exponential, Deterministic, Uniform, Triangular, Lognormal, Gamma, Erlang, Weibull, Empirical)


@functools.lru_cache(maxsize=8)
def _field_names(top) -> tuple:
    return tuple(sorted({name for model in (top, *_SECTIONS) for name in model.model_fields}))


_WHERE = {"Scenario": "the top level", "CallType": "a call type", "IVR": "ivr", "Arrivals": "an arrival stream",
          "Group": "a group", "Routing": "routing", "SLA": "sla", "Outbound": "outbound", "Roster": "a roster",
          "Shift": "a shift", "HandlingOverride": "a group's handling", "Redial": "redial", "Transfer": "transfer",
          "Reserve": "a routing reserve", "Callback": "callback", "QualityCallbacks": "outbound.quality",
          "Campaign": "a campaign", "Dialer": "outbound.dialer"}


def _owners(key: str, top) -> str:
    places = sorted({_WHERE.get(m.__name__, m.__name__) for m in (top, *_SECTIONS) if key in m.model_fields})
    return " or ".join(places)


_NUMBER_TEXT = re.compile(r"^[-+]?(\d[\d_]*\.?\d*|\.\d+)([eE][-+]?\d+)?$")


def line_for(lines: dict[str, int], path: str) -> int | None:
    while True:
        if path in lines:
            return lines[path]
        if "." not in path:
            return lines.get(path)
        path = path.rsplit(".", 1)[0]


_BRANCH_LABELS = ("int", "float", "str", "bool", "ServiceLevelTarget", "exponential", "deterministic", "uniform",
                  "lognormal", "gamma", "erlang", "weibull", "empirical", "never")


def _is_branch(x: str) -> bool:
    """A pydantic union-member label in an error location (e.g. 'list[...]', 'exponential', 'int')."""
    return x.startswith(("list[", "dict[", "function-", "constrained-", "literal[")) or x in _BRANCH_LABELS


def _branch_kind(label: str) -> str:
    if label.startswith("list["):
        return "list"
    if label.startswith("dict[") or label == "ServiceLevelTarget":
        return "dict"
    return "scalar"


def _value_at(data, loc):
    for x in loc:
        try:
            data = data[x]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _one_branch(errors: list[dict], data) -> list[dict]:
    """Keep, for a value that matched no member of a union (``int | list[int]``), only the errors
    of the member that fits the value's shape, so that one mistake gives one problem."""
    def split(loc):
        for i, x in enumerate(loc):
            if isinstance(x, str) and _is_branch(x):
                return tuple(loc[:i]), x
        return None, None

    members: dict[tuple, set] = {}
    for e in errors:
        prefix, branch = split(e["loc"])
        if prefix is not None:
            members.setdefault(prefix, set()).add(branch)
    keep, merged = [], set()
    for e in errors:
        prefix, branch = split(e["loc"])
        if prefix is None or len(members[prefix]) < 2:
            keep.append(e)
            continue
        value = _value_at(data, prefix)
        kind = "list" if isinstance(value, list) else "dict" if isinstance(value, dict) else "scalar"
        if any(_branch_kind(b) == kind for b in members[prefix]):
            if _branch_kind(branch) == kind:
                keep.append(e)
        elif prefix not in merged:   # fits no member: one problem naming what was expected
            merged.add(prefix)
            expected = " or ".join(sorted({_expected(b) for b in members[prefix]}))
            keep.append(dict(e, loc=prefix, type="union_type", msg=f"Input should be {expected}"))
    return keep


def _expected(label: str) -> str:
    if label.startswith("list["):
        return "a list"
    if label.startswith("dict[") or label == "ServiceLevelTarget":
        return "a mapping"
    if "int" in label:
        return "a whole number"
    if "float" in label:
        return "a number"
    return "a text" if "str" in label else label


def translate(exc: ValidationError, lines, data, top) -> list[Problem]:
    """The problems of a failed validation of ``top`` (the Scenario model), each with its path, line and hint."""
    out, seen = [], set()
    for e in _one_branch(exc.errors(include_url=False), data):
        loc = [str(x) for x in e["loc"]]
        # drop pydantic's union-member labels (e.g. 'list[...]', 'exponential', 'int')
        loc = [x for x in loc if not _is_branch(x)]
        path = ".".join(loc)
        msg = e["msg"]
        hint = None
        if e["type"] == "extra_forbidden":
            key = loc[-1] if loc else ""
            close = difflib.get_close_matches(key, _field_names(top), n=1)
            msg = f"unknown key {key!r}"
            if close and close[0] == key:       # a real key, in the wrong place
                hint = f"{key!r} belongs under {_owners(key, top)}"
            else:
                hint = f"did you mean {close[0]!r}?" if close else None
        elif e["type"] == "union_tag_invalid":
            msg = f"unknown distribution {e['input'].get('dist')!r}" if isinstance(e.get("input"), dict) else msg
            hint = "one of: exponential, deterministic, uniform, lognormal, gamma, erlang, weibull, empirical, never"
        elif e["type"] == "union_tag_not_found":
            msg = "a distribution needs a 'dist' key"
        elif e["type"] in ("int_type", "float_type") and isinstance(e.get("input"), str):
            msg = f"{msg}, got the text {e['input']!r}"
            text = e["input"].strip()
            if _NUMBER_TEXT.match(text):
                hint = ("YAML reads a number such as 1e3 as text; write 1000 or 1.0e+3" if "e" in text.lower()
                        else "write the number without quotes")
        elif e["type"] in ("int_type", "float_type") and isinstance(e.get("input"), bool):
            msg = f"{msg}, got {str(e['input']).lower()}"
        elif e["type"] == "bool_type":
            msg = f"{msg}, got {e.get('input')!r}"
            hint = "write true or false"
        elif e["type"] == "int_from_float" or (e["type"] == "int_type" and isinstance(e.get("input"), float)):
            msg = f"must be a whole number, got {e.get('input')!r}"
        problem = Problem(path, msg, line_for(lines, path), hint)
        if problem not in seen:
            seen.add(problem)
            out.append(problem)
    return out
