"""The docs stay true: the KPI tables match the registry, the docs' Python examples run, the schema is current."""
import re
from pathlib import Path

import simcc

ROOT = Path(__file__).resolve().parent.parent


def test_results_doc_matches_the_kpi_registry():
    """docs/results.md's day table says what the registry says, KPI for KPI, and lists the interval KPIs."""
    from simcc.run.kpis import KPIS
    text = (ROOT / "docs" / "results.md").read_text()
    day = text.split("## Day KPIs", 1)[1].split("\n## ", 1)[0]
    rows = dict(re.findall(r"^\| `(\w+)` \| (.*) \|$", day, re.M))
    assert list(rows) == list(simcc.DAY_KPIS)
    assert rows == {k: KPIS[k].meaning for k in simcc.DAY_KPIS}
    per = text.split("## Per-interval KPIs", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"`(\w+)`", per.split("`KPI_ci_high`:", 1)[1].split(".", 1)[0])
    assert listed == list(simcc.INTERVAL_KPIS)


def test_docs_python_examples_run(monkeypatch, tmp_path):
    """Every Python block of docs/*.md runs on its own (the README's: tests/test_readme.py, in a fresh venv)."""
    monkeypatch.chdir(ROOT)
    for doc in sorted((ROOT / "docs").glob("*.md")):
        for i, block in enumerate(re.findall(r"```python\n(.*?)```", doc.read_text(), re.S)):
            block = block.replace('"runs/', f'"{tmp_path}/runs/')
            block = re.sub(r"replications=\d+", "replications=2", block)   # the calls, not the long runs
            block = re.sub(r'scheduler="tcp://[^"]+"', "workers=1", block)  # no cluster here
            exec(compile(block, f"{doc.name} python block {i}", "exec"), {})


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
