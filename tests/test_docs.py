"""The docs stay true: every KPI is documented, and the README's Python examples run."""
import re
from pathlib import Path

import simcc

ROOT = Path(__file__).resolve().parent.parent


def test_every_kpi_documented():
    text = (ROOT / "docs" / "results.md").read_text()
    missing = [k for k in list(simcc.DAY_KPIS) + list(simcc.INTERVAL_KPIS) if f"`{k}`" not in text]
    assert not missing


def readme_blocks():
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```python\n(.*?)```", text, re.S)


def test_readme_python_examples_run(monkeypatch):
    """The blocks run in order in one namespace, as a reader pasting them would."""
    monkeypatch.chdir(ROOT)
    ns = {}
    for i, block in enumerate(readme_blocks()):
        if "optimize.staff" in block:      # about a minute; tests/test_optimize.py covers staff()
            continue
        exec(compile(block, f"README python block {i}", "exec"), ns)


def test_committed_json_schema_is_current():
    import json

    from simcc.model.scenario import json_schema
    committed = json.loads((ROOT / "docs" / "scenario.schema.json").read_text())
    assert committed == json.loads(json.dumps(json_schema())), "regenerate: simcc schema > docs/scenario.schema.json"


def test_shipped_scenarios_validate_against_the_schema_and_round_trip():
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        s = simcc.load(path)
        again = simcc.from_dict(s.model_dump(mode="python", exclude_none=True))
        assert again == s, path.name
