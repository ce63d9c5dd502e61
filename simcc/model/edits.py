"""Changed copies of a scenario: what sweeps and policy comparisons run.

A change is a *key* and a value. A key is a dotted path into the scenario's
data (``trunks``, ``ivr.contained``, ``call_types.fault.patience.mean_s``;
list items such as groups and arrival streams are found by their ``name``,
or by index), or a shorthand: ``volume`` multiplies every arrival volume,
``agents_scale`` every group's headcount (rounded to whole agents, halves
up), ``routing.policy`` takes policy names joined by ``+``. Every changed
copy is validated like any scenario.
"""
from __future__ import annotations

import difflib
import math
import re

from ..errors import Problem, ScenarioError
from .policies import parse_policy
from .scenario import Scenario, from_dict

SHORTHANDS = ("volume", "agents_scale")


def _number(key, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ScenarioError([Problem(key, f"{key} is a multiplier: a number >= 0, not {value!r}")], "sweep")
    return float(value)


def _scale_volume(data: dict, m: float) -> None:
    for a in data.get("arrivals", []):
        if a.get("calls") is not None:
            a["calls"] = [float(x) * m for x in a["calls"]] if isinstance(a["calls"], list) else float(a["calls"]) * m
        if a.get("daily_calls") is not None:
            a["daily_calls"] = float(a["daily_calls"]) * m


def _scale_agents(data: dict, m: float) -> None:
    def r(x):
        return int(math.floor(x * m + 0.5))
    for g in data.get("groups", []):
        g["agents"] = [r(x) for x in g["agents"]] if isinstance(g["agents"], list) else r(g["agents"])


def _set_policy(data: dict, value) -> None:
    """``routing.policy``: a name, names joined by '+' (``priority+overflow``) or a list of names,
    as in ``simcc compare``; a reserve is dropped when the policy does not use it. Unknown names are
    left for the scenario validator to report."""
    names = [p.strip() for p in value.split("+") if p.strip()] if isinstance(value, str) else value
    routing = data.setdefault("routing", {})
    routing["policy"] = names[0] if isinstance(names, list) and len(names) == 1 else names
    if isinstance(names, list) and "reserve" not in names and routing.get("reserve"):
        routing["reserve"] = []


def _set_path(data: dict, key: str, value) -> None:
    parts = key.split(".")
    node = data
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        here = ".".join(parts[:i + 1])
        if isinstance(node, dict):
            if last:
                node[part] = value
                return
            if part not in node or node[part] is None:
                close = difflib.get_close_matches(part, [k for k in node if node[k] is not None], n=1)
                raise ScenarioError(
                    [
                        Problem(
                            key,
                            f"sweep key {key!r}: the scenario has no {here!r}",
                            hint=f"did you mean {'.'.join(parts[:i] + [close[0]])!r}?" if close else None,
                        )
                    ],
                    "sweep",
                )
            node = node[part]
        elif isinstance(node, list):
            names = [x.get("name") for x in node if isinstance(x, dict)]
            if part in names:
                idx = names.index(part)
            elif re.fullmatch(r"\d+", part) and int(part) < len(node):
                idx = int(part)
            else:
                close = difflib.get_close_matches(part, [n for n in names if n], n=1)
                raise ScenarioError(
                    [
                        Problem(
                            key,
                            f"sweep key {key!r}: no item named {part!r} in {'.'.join(parts[:i])!r}",
                            hint=f"did you mean {close[0]!r}?"
                            if close
                            else (f"known: {', '.join(n for n in names if n)}" if any(names) else None),
                        )
                    ],
                    "sweep",
                )
            if last:
                node[idx] = value
                return
            node = node[idx]
        else:
            raise ScenarioError(
                [Problem(key, f"sweep key {key!r}: {'.'.join(parts[:i])!r} is a value, not a section")], "sweep"
            )


def point_scenario(base: Scenario, point: dict, index: int = 0) -> Scenario:
    """The scenario of one sweep point: ``base`` with the point's changes, validated.

    Raises
    ------
    ScenarioError
        A key that names nothing in the scenario, or a point whose scenario
        is invalid; the error's source names the point and its values.

    Examples
    --------
    >>> import simcc
    >>> s = simcc.textbook.erlang(arrival_rate=0.5, mean_talk_s=180, agents=100, hours=1)
    >>> p = point_scenario(s, {"groups.agents.agents": 110, "volume": 1.2})
    >>> p.groups[0].agents, p.expected_calls()
    (110, 2160.0)
    """
    data = base.model_dump(mode="python", exclude_none=True)
    label = ", ".join(f"{k}={v!r}" for k, v in point.items())
    source = f"sweep point {index} ({label})"
    for key, value in point.items():
        try:
            if key == "volume":
                _scale_volume(data, _number(key, value))
            elif key == "agents_scale":
                _scale_agents(data, _number(key, value))
            elif key in ("routing.policy", "policy"):
                _set_policy(data, value)
            else:
                _set_path(data, key, value)
        except ScenarioError as exc:
            raise ScenarioError(exc.problems, source) from None
    try:
        return from_dict(data, source=source)
    except ScenarioError as exc:
        keys = [k for k in point if k not in SHORTHANDS]
        problems = [
            p
            if p.hint or not _related(p.path, keys)
            else Problem(p.path, p.message, p.line, f"set by sweep key {_related(p.path, keys)}")
            for p in exc.problems
        ]
        raise ScenarioError(problems, source) from None


def _related(path: str, keys: list[str]) -> str | None:
    for k in keys:
        if path == k or path.startswith(k + ".") or k.startswith(path + "."):
            return k
    return None


def policy_variant(scenario: Scenario, policy: str) -> Scenario:
    """The scenario with ``routing.policy`` replaced; ``policy`` is a name or names joined by '+'.

    Examples
    --------
    >>> import simcc
    >>> s = simcc.textbook.erlang(arrival_rate=0.5, mean_talk_s=180, agents=100, hours=1)
    >>> policy_variant(s, "weighted_wait").routing.policies
    ('weighted_wait',)
    """
    names = parse_policy(policy)
    routing = scenario.routing.model_dump(mode="python")
    routing["policy"] = names[0] if len(names) == 1 else names
    if "reserve" not in names:
        routing["reserve"] = []
    return scenario.with_changes(routing=routing)
