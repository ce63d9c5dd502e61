"""The malformed-scenario corpus (reliability tests R1, R2, R16).

Every file in ``tests/scenarios/bad/`` is a small variation of the valid
scenario ``BASE`` below with one mistake (or, for the ``five_*`` and
``three_*`` files, several). Its header says what the loader must report::

    # expect: <field path> | <substring of the message> | line N

``<scenario>`` stands for the empty path (a problem with the whole file),
``no line`` for a problem that has no line in the file (an empty file, a
missing key). A case passes when ``simcc.load`` raises ``ScenarioError``,
every expectation is met by some problem (the substring may be in the
message or in the hint), and the file reports exactly as many problems as
it has ``expect`` lines: one mistake, one problem.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import simcc
from simcc.model import yamlio as _yaml

BAD_DIR = Path(__file__).parents[1] / "scenarios" / "bad"
BAD_FILES = sorted(BAD_DIR.glob("*.yaml"))

#: The valid scenario every bad file is a variation of (two call types, two tiers, an IVR, two groups).
BASE = """\
name: small-center
description: a small two-type center used as the base of the bad-scenario corpus
interval_minutes: 30
intervals: 4
warmup_minutes: 30
trunks: 40
tiers: [vip, standard]
call_types:
  billing:
    patience: {dist: exponential, mean_s: 120}
    talk: {dist: lognormal, mean_s: 180, cv: 0.8}
    hold_prob: 0.2
    hold: {dist: exponential, mean_s: 60}
    acw: {dist: gamma, mean_s: 40, cv: 0.6}
  fault:
    patience: {dist: exponential, mean_s: 150}
    talk: {dist: exponential, mean_s: 240}
ivr:
  menu_time: {dist: deterministic, value_s: 30}
  contained: 0.3
  hangup: 0.02
  menu: {billing: 0.6, fault: 0.4}
arrivals:
  - name: hotline
    entry: ivr
    tiers: {vip: 0.1, standard: 0.9}
    calls: [100, 150, 120, 80]
groups:
  - name: general
    agents: [10, 12, 12, 8]
    skills: {billing: 1, fault: 2}
  - name: fault
    agents: 5
    skills: {fault: 1}
sla:
  service_level: {percent: 90, within_s: 15}
  abandon_max_pct: 5
"""

_EXPECT = re.compile(
    r"^# expect:\s*(?P<path>[^|]*?)\s*\|\s*(?P<text>[^|]*?)\s*(?:\|\s*(?P<line>line \d+|no line)\s*)?$"
)


def expectations(path: Path) -> list[tuple[str, str, int | None | str]]:
    """(field path, message substring, line) from the ``# expect:`` header of a corpus file."""
    out = []
    with open(path, "rb") as fh:
        for raw in fh:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if not line.startswith("#"):
                break
            m = _EXPECT.match(line)
            if m:
                where = m["line"] or "any line"
                out.append(
                    (
                        "" if m["path"] == "<scenario>" else m["path"],
                        m["text"],
                        int(where.split()[1]) if where.startswith("line ") else where,
                    )
                )
    return out


def problems_of(path) -> list[simcc.Problem]:
    with pytest.raises(simcc.ScenarioError) as info:
        simcc.load(path)
    assert info.value.problems, "a ScenarioError must list at least one problem"
    return info.value.problems


def check(problems, expected) -> None:
    listing = "\n".join(f"  {p!r}" for p in problems)
    for path, text, line in expected:
        hits = [p for p in problems if p.path == path and (text in p.message or text in (p.hint or ""))]
        assert hits, f"no problem at {path!r} mentioning {text!r}; got:\n{listing}"
        if isinstance(line, int):
            assert any(p.line == line for p in hits), f"{path!r}: expected line {line}; got:\n{listing}"
        elif line == "any line":
            assert all(p.line is not None for p in hits), f"{path!r}: expected a line number; got:\n{listing}"
    assert len(problems) == len(expected), f"expected {len(expected)} problem(s), got:\n{listing}"


# ---------------------------------------------------------------------------
# R1: the corpus
# ---------------------------------------------------------------------------
def test_corpus_is_big_enough():
    assert len(BAD_FILES) >= 60
    for f in BAD_FILES:
        assert expectations(f), f"{f.name} has no '# expect:' header"


def test_base_scenario_is_valid():
    s = simcc.loads(BASE)
    assert s.n_intervals == 4 and s.warnings() == []


@pytest.mark.parametrize("path", BAD_FILES, ids=[f.stem for f in BAD_FILES])
def test_bad_scenario(path):
    check(problems_of(path), expectations(path))


def test_file_over_5_mb(tmp_path):
    path = tmp_path / "huge.yaml"
    filler = "# " + "x" * 1000 + "\n"
    path.write_text(BASE + filler * (6 * 1024), encoding="utf-8")  # about 6 MB of comments
    assert path.stat().st_size > _yaml.MAX_FILE_BYTES
    check(problems_of(path), [("", "limited to 5 MB", "no line")])


def test_invalid_utf8(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(BASE.replace("a small", "a sm\xe4ll").encode("latin-1"))  # 0xE4 is not UTF-8
    check(problems_of(path), [("", "not UTF-8", 2)])


def test_missing_file_and_directory(tmp_path):
    check(problems_of(tmp_path / "nope.yaml"), [("", "cannot read", "no line")])
    check(problems_of(tmp_path), [("", "cannot read", "no line")])


def test_problems_are_rendered_with_path_and_line():
    with pytest.raises(simcc.ScenarioError) as info:
        simcc.load(BAD_DIR / "dup_key_top.yaml")
    text = str(info.value)
    assert "dup_key_top.yaml: 1 problem" in text
    assert "trunks (line " in text and "duplicate key 'trunks'" in text


# ---------------------------------------------------------------------------
# R2: every problem at once
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["five_field_errors", "five_cross_field_errors"])
def test_five_independent_errors_reported_together(name):
    problems = problems_of(BAD_DIR / f"{name}.yaml")
    assert len(problems) == 5, "\n".join(map(repr, problems))
    assert len({p.path for p in problems}) == 5


# ---------------------------------------------------------------------------
# Hints and security
# ---------------------------------------------------------------------------
def test_typo_in_valid_scenario_gets_did_you_mean_hint():
    text = BASE.replace("abandon_max_pct: 5", "abandon_max_pct: 5\n  hold_mx_s: 90")  # meant hold_max_s
    with pytest.raises(simcc.ScenarioError) as info:
        simcc.loads(text)
    (p,) = info.value.problems
    assert p.path == "sla.hold_mx_s" and p.line == 38
    assert p.hint == "did you mean 'hold_max_s'?"


def test_typo_in_shipped_scenario_gets_did_you_mean_hint():
    text = (Path(__file__).parents[2] / "scenarios" / "quanzhou-10000.yaml").read_text(encoding="utf-8")
    simcc.loads(text)  # valid as shipped
    with pytest.raises(simcc.ScenarioError) as info:
        simcc.loads(text.replace("menu: {fault:", "menu: {falt:"))
    hints = {p.path: p.hint for p in info.value.problems}
    assert hints["ivr.menu.falt"] == "did you mean 'fault'?"


@pytest.mark.parametrize(
    "tag",
    [
        "!!python/object/apply:os.system ['touch {marker}']",
        "!!python/object/apply:os.system 'touch {marker}'",
        "!!python/object/new:os.system ['touch {marker}']",
    ],
)
def test_python_tag_is_rejected_and_never_executed(tmp_path, tag):
    marker = tmp_path / "executed"
    path = tmp_path / "evil.yaml"
    path.write_text(BASE.replace("trunks: 40", "trunks: " + tag.format(marker=marker)), encoding="utf-8")
    (p,) = problems_of(path)
    assert p.path == "trunks" and p.line == 6 and "unsupported YAML tag" in p.message
    assert not marker.exists(), "the YAML tag ran a command"


def test_alias_bomb_is_refused_quickly():
    import time

    t0 = time.perf_counter()
    problems_of(BAD_DIR / "alias_bomb.yaml")
    assert time.perf_counter() - t0 < 1.0


# ---------------------------------------------------------------------------
# The CLI: exit code 2, a table of problems, no traceback
# ---------------------------------------------------------------------------
CLI_ENV = {**os.environ, "COLUMNS": "200"}  # wide enough that rich does not fold field paths
CLI_CASES = [
    "dup_key_top",
    "tab_indent",
    "empty",
    "python_tag_apply",
    "alias_bomb",
    "five_field_errors",
    "call_type_not_served",
]


@pytest.mark.parametrize("name", CLI_CASES)
def test_cli_validate_exits_2_without_traceback(name):
    path = BAD_DIR / f"{name}.yaml"
    proc = subprocess.run(
        [sys.executable, "-m", "simcc", "validate", str(path)], capture_output=True, text=True, timeout=60, env=CLI_ENV
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    assert "problem" in proc.stderr
    for field, _, _ in expectations(path):
        assert (field or "-") in proc.stderr


def test_cli_validate_accepts_base(tmp_path):
    path = tmp_path / "base.yaml"
    path.write_text(BASE, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "simcc", "validate", str(path)], capture_output=True, text=True, timeout=60, env=CLI_ENV
    )
    assert proc.returncode == 0, proc.stderr
    assert "valid" in proc.stdout


# ---------------------------------------------------------------------------
# docs/scenario.md stays in step with the models
# ---------------------------------------------------------------------------
DOC = Path(__file__).parents[2] / "docs" / "scenario.md"


def test_doc_example_is_valid():
    text = DOC.read_text(encoding="utf-8")
    example = re.search(r"```yaml\n(.*?)```", text, re.S).group(1)
    s = simcc.loads(example)
    assert (s.n_intervals, s.trunks, s.sla.service_level.within_s) == (4, 40, 15.0)


def test_doc_names_every_key():
    from simcc.model import base, dists, scenario, sections

    text = DOC.read_text(encoding="utf-8")
    models = {
        cls
        for mod in (dists, sections, scenario)
        for cls in vars(mod).values()
        if isinstance(cls, type) and issubclass(cls, base.Model) and cls is not base.Model
    }
    assert len(models) >= 28

    def described(k):  # `key`, or a dotted path that names it: `redial.prob`, `quality.share`
        return f"`{k}`" in text or f".{k}`" in text or f"`{k}." in text

    missing = sorted(
        {
            f"{m.__name__}.{k}"
            for m in models
            for k in m.model_fields
            if not described(k) and not (k in ("percent", "within_s") and "within_s: T}" in text)
        }
    )
    assert not missing, f"docs/scenario.md does not describe: {missing}"
    for name in (
        "exponential",
        "deterministic",
        "uniform",
        "lognormal",
        "gamma",
        "erlang",
        "weibull",
        "empirical",
        "never",
    ):
        assert f"`{name}`" in text
