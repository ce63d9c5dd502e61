"""The code's own checks: ruff on the whole tree, mypy on the public API and registries, and every
example in a docstring (the examples a researcher pastes must run and print what they say)."""
import doctest
import importlib
import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import simcc

ROOT = Path(__file__).resolve().parents[1]
SKIP = {"simcc.__main__", "simcc._moved"}          # a command, and aliases that import on demand
MODULES = sorted(m.name for m in pkgutil.walk_packages(simcc.__path__, "simcc.") if m.name not in SKIP
                 and not m.name.startswith("simcc.cli"))


def _tool(name):
    if shutil.which(name) is None and importlib.util.find_spec(name) is None:
        pytest.skip(f"{name} is not installed (pip install -e '.[test]')")
    return [sys.executable, "-m", name]


def test_ruff():
    proc = subprocess.run([*_tool("ruff"), "check", "--no-cache", "."], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy():
    proc = subprocess.run([*_tool("mypy"), "--no-incremental", "--cache-dir", "/dev/null"], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) of {name} failed (run python -m doctest)"
