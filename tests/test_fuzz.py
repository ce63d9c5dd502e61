"""Fuzzing: mutants of the shipped scenarios and of the malformed corpus never crash simcc.

Each mutant (a value replaced by something hostile, a key dropped or added,
a name made of markup or control characters) goes through ``simcc validate``
and a one-replication ``simcc run``: both must exit 0 (valid) or 2 (a clear
problem), never with a traceback, a hang or unbounded memory. The budget is
fixed for CI; ``SIMCC_FUZZ=N`` runs N examples. Any input that ever broke
simcc belongs in ``tests/scenarios/bad/`` (the corpus below replays it).
"""
import math
import os
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from simcc.cli import app

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted((ROOT / "scenarios").glob("*.yaml"))
CORPUS = sorted((ROOT / "tests" / "scenarios" / "bad").glob("*.yaml"))
BUDGET = int(os.environ.get("SIMCC_FUZZ", "60"))
runner = CliRunner()

HOSTILE = st.one_of(
    st.sampled_from([-1, 0, -0.5, 1e300, -1e300, math.inf, -math.inf, math.nan, 10**30, 2**63, True, None, "",
                     "[/]", "[bold red]x[/]", "\x1b[2J", "$x^2$", "1e3", "NaN", [], {}, [1, -2], {"dist": "never"},
                     {"dist": "nope"}, "billing[vip]", "x" * 5000, 1.0e+12]),
    st.integers(-10**6, 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
)


def _paths(data, prefix=()):
    """Every (path, value) in a nested mapping/list."""
    yield prefix, data
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(data, list):
        for i, v in enumerate(data[:6]):
            yield from _paths(v, prefix + (i,))


def _set(data, path, value):
    node = data
    for p in path[:-1]:
        node = node[p]
    node[path[-1]] = value


def _drop(data, path):
    node = data
    for p in path[:-1]:
        node = node[p]
    del node[path[-1]]


@st.composite
def mutants(draw):
    source = draw(st.sampled_from(SHIPPED))
    data = yaml.safe_load(source.read_text())
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p, _ in _paths(data) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        action = draw(st.sampled_from(["replace", "replace", "replace", "drop", "add"]))
        try:
            if action == "replace":
                _set(data, path, draw(HOSTILE))
            elif action == "drop":
                _drop(data, path)
            else:
                node = data
                for p in path[:-1]:
                    node = node[p]
                if isinstance(node, dict):
                    node[draw(st.sampled_from(["unknown_key", "[/]", "talk", "agents"]))] = draw(HOSTILE)
        except (KeyError, IndexError, TypeError):
            pass
    return yaml.safe_dump(data, allow_unicode=True)


def _check(path: Path):
    for args in (["validate", path], ["run", path, "-r", 1, "-w", 1, "--max-events", 2e6]):
        r = runner.invoke(app, [str(a) for a in args])
        assert r.exit_code in (0, 2), (args, r.exit_code, r.output[-2000:], r.exception)
        assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
        assert "Traceback" not in r.output
        assert "\x1b[2J" not in r.output


@settings(max_examples=BUDGET, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(text=mutants())
def test_mutants_of_the_shipped_scenarios_never_crash(tmp_path, text):
    path = tmp_path / "mutant.yaml"
    path.write_text(text)
    _check(path)


@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
def test_the_malformed_corpus_is_refused_cleanly(path):
    _check(path)
