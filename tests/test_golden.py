"""Golden tests: one seeded day of each shipped scenario, pinned by a digest of every array.

A change that moves any number of any shipped scenario fails here. When the
change is meant (a model change, a new draw), regenerate on purpose:

    SIMCC_REGEN_GOLDEN=1 python -m pytest tests/test_golden.py

NumPy promises the same streams only for the same build on the same machine,
and libm differs across platforms, so the digests are tagged with the
platform and the numpy version, and checked only where those match.
"""
import hashlib
import json
import os
import platform
from pathlib import Path

import numpy as np
import pytest

import simcc
from simcc.engine.compile import compile_scenario
from simcc.engine.replication import run_replication
from simcc.engine.streams import root_entropy

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden" / "digests.json"
SCENARIOS = sorted(p.name for p in (ROOT / "scenarios").glob("*.yaml"))
TAG = f"{platform.system()}-{platform.machine()}-numpy{np.__version__}"


def digest(path: str) -> dict:
    cs = compile_scenario(simcc.load(ROOT / "scenarios" / path))
    raw, _ = run_replication(cs, root_entropy(1), 0)
    h = hashlib.sha256()
    for k in sorted(raw):
        if isinstance(raw[k], np.ndarray):
            h.update(k.encode())
            h.update(np.ascontiguousarray(raw[k]).tobytes())
    return {"sha256": h.hexdigest(), "offered": int(raw["offered"].sum()), "answered": int(raw["answered"].sum())}


@pytest.fixture(scope="module")
def golden():
    if os.environ.get("SIMCC_REGEN_GOLDEN"):
        data = {"platform": TAG, "digests": {p: digest(p) for p in SCENARIOS}}
        GOLDEN.write_text(json.dumps(data, indent=2) + "\n")
    return json.loads(GOLDEN.read_text())


@pytest.mark.parametrize("path", SCENARIOS)
def test_shipped_scenario_day_is_pinned(golden, path):
    if golden["platform"] != TAG:
        pytest.skip(f"golden digests were made on {golden['platform']}, this is {TAG}")
    assert path in golden["digests"], "new scenario: regenerate the golden digests on purpose"
    assert digest(path) == golden["digests"][path]
