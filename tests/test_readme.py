"""The README, followed literally on a fresh machine: its two commands, and its Python blocks wherever users run them.

CI runs the second command unchanged in a fresh virtual environment
(``.ci/run``). The slow test here builds another fresh environment from a copy
of the sources, runs the first command from the repository folder, then runs
every README Python block saved as a script in that folder, and a script
without a main guard whose run uses worker processes as a file, piped on stdin
and as ``python -c`` (how a notebook cell runs: no file behind ``__main__``).
A second environment installs without ``-e`` and runs a multi-process run from
the repository folder, whose uncompiled ``./simcc`` the workers must not import.
"""
import os
import re
import subprocess
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Saved as a script without a main guard: 100 Quanzhou days (about 4 million calls) run on worker processes.
NO_GUARD = """\
import simcc
scenario = simcc.load("scenarios/quanzhou-10000.yaml")
result = simcc.simulate(scenario, seed=7, replications=100)
assert result.meta["execution"]["executor"] == "processes", result.meta["execution"]
print("service level", round(result.summary()["service_level"]["mean"], 4))
"""


def quick_start_commands():
    text = (ROOT / "README.md").read_text()
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return [line.strip() for line in block.strip().splitlines() if line.strip()]


def readme_python_blocks():
    return re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


def test_exactly_two_commands_and_ci_runs_the_second_in_a_fresh_venv():
    cmds = quick_start_commands()
    assert len(cmds) == 2
    assert "simcc run scenarios/" in cmds[0]
    ci = (ROOT / ".ci" / "run").read_text()
    assert cmds[1] in [line.strip() for line in ci.splitlines()]
    assert "-m venv" in ci and ci.index("-m venv") < ci.index(cmds[1])


def test_every_readme_block_stands_alone():
    """Each block can be pasted on its own: it imports what it uses and defines its scenario."""
    for i, block in enumerate(readme_python_blocks()):
        assert "import simcc" in block, f"README python block {i} does not import simcc"
        if "scenario" in block:
            assert re.search(r"^scenario = ", block, re.M), f"README python block {i} uses an undefined scenario"


def _fresh_env(tmp_path, name):
    env_dir = tmp_path / name
    venv.EnvBuilder(with_pip=True).create(env_dir)
    env = dict(os.environ, PATH=f"{env_dir / 'bin'}{os.pathsep}{os.environ['PATH']}", VIRTUAL_ENV=str(env_dir))
    for var in ("PYTHONPATH", "PYTHONHOME"):
        env.pop(var, None)
    return env


def _sources(tmp_path, name):
    """A clean copy of the repository (committed files plus uncommitted edits), without built files."""
    src = tmp_path / name
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(ROOT), str(src)], check=True)
    for item in ("simcc", "scenarios", "docs", "README.md", "pyproject.toml", "setup.py"):
        subprocess.run(["cp", "-rT" if (ROOT / item).is_dir() else "-f", str(ROOT / item), str(src / item)], check=True)
    for pattern in ("simcc/**/*.so", "simcc/**/_core.c", "simcc/**/_core.html", "simcc/**/__pycache__"):
        for junk in src.glob(pattern):
            subprocess.run(["rm", "-rf", str(junk)], check=True)
    return src


def _run(args, cwd, env, stdin=None, timeout=900):
    proc = subprocess.run(args, cwd=cwd, env=env, input=stdin, capture_output=True, text=True, timeout=timeout)
    out = f"$ {' '.join(map(str, args))}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    assert proc.returncode == 0, out
    assert "Traceback" not in proc.stderr, out
    return proc


@pytest.mark.slow
def test_readme_on_a_fresh_machine_from_the_repository_folder(tmp_path):
    env = _fresh_env(tmp_path, "venv")
    src = _sources(tmp_path, "src")
    proc = _run(["bash", "-c", quick_start_commands()[0]], src, env, timeout=1200)
    assert "Day summary" in proc.stdout and "answered within 15 s" in proc.stdout

    for i, block in enumerate(readme_python_blocks()):
        script = src / f"readme_block_{i}.py"
        script.write_text(block)
        _run(["python", script.name], src, env)

    (src / "no_guard.py").write_text(NO_GUARD)
    for how in (["python", "no_guard.py"], ["python", "-"], ["python", "-c", NO_GUARD]):
        proc = _run(how, src, env, stdin=NO_GUARD if how[-1] == "-" else None)
        assert "service level" in proc.stdout
    assert _run(["python", "-m", "simcc", "--version"], src, env).stdout.startswith("simcc ")


@pytest.mark.slow
def test_installed_without_e_workers_never_import_the_source_folder(tmp_path):
    """`pip install .`, then a run on two worker processes started from the repository folder."""
    env = _fresh_env(tmp_path, "venv")
    src = _sources(tmp_path, "src")
    _run(["python", "-m", "pip", "install", "-q", "."], src, env, timeout=1200)
    proc = _run(["simcc", "run", "scenarios/guangzhou-10000.yaml", "-r", "8", "--workers", "2", "--format", "json"],
                src, env)
    assert '"executor": "processes"' in proc.stdout
