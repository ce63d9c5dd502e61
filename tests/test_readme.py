"""The README's two quick-start commands: CI runs the second unchanged; the first works in a fresh venv."""
import os
import re
import subprocess
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def quick_start_commands():
    text = (ROOT / "README.md").read_text()
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return [line.strip() for line in block.strip().splitlines() if line.strip()]


def test_exactly_two_commands_and_ci_runs_the_second():
    cmds = quick_start_commands()
    assert len(cmds) == 2
    assert "simcc run scenarios/" in cmds[0]
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert cmds[1] in [line.strip() for line in ci]


@pytest.mark.slow
def test_first_command_in_a_fresh_venv(tmp_path):
    """Install from a copy of the sources into a new virtual environment and run the shipped scenario."""
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    src = tmp_path / "src"
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(ROOT), str(src)], check=True)
    for name in ("simcc", "scenarios", "README.md", "pyproject.toml", "setup.py"):   # include uncommitted edits
        subprocess.run(["cp", "-r", str(ROOT / name), str(src)], check=True)
    for pattern in ("simcc/*.so", "simcc/_core.c", "simcc/_core.html"):   # build from the .pyx, as a new user would
        for junk in src.glob(pattern):
            junk.unlink()
    env = dict(os.environ, PATH=f"{env_dir / 'bin'}{os.pathsep}{os.environ['PATH']}", VIRTUAL_ENV=str(env_dir))
    env.pop("PYTHONPATH", None)
    cmd = quick_start_commands()[0]
    proc = subprocess.run(["bash", "-c", cmd], cwd=src, env=env, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Day summary" in proc.stdout and "answered within 15 s" in proc.stdout
    assert "Traceback" not in proc.stderr
