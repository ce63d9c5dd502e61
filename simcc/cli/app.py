"""The ``simcc`` application object, exit codes and what every command shares.

Exit codes: 0 done, 1 a run failed (a worker kept dying, workers could not
start), 2 bad scenario or arguments, 3 an SLA line failed (only with
``--check-sla``), 130 interrupted. User errors never print a traceback
(``--debug`` does).
"""
from __future__ import annotations

import contextlib
import enum
import sys
from pathlib import Path
from typing import Optional

import typer

from ..errors import RecordsError, ScenarioError, SizeError
from ..model.scenario import load
from ..run.export import FORMATS, render
from ..run.jobs import ReplicationFailed, WorkerLost
from ..run.pool import WorkerStartError
from .console import err, error, out, print_table, warning

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_SLA_FAILED = 3
EXIT_INTERRUPTED = 130

#: ``--format`` choices, from the output-format registry (simcc.run.export).
Format = enum.Enum("Format", {name: name for name in FORMATS}, type=str)
Engine = enum.Enum("Engine", {"kernel": "kernel", "reference": "reference"}, type=str)
FORMAT_HELP = "What to print: " + "; ".join(f"{f.name}: {f.doc}" for f in FORMATS.values()) + "."
DEBUG_HELP = "Show tracebacks."


def _version_callback(value: bool):
    if value:
        from .. import __version__
        out.print(f"simcc {__version__}", highlight=False)
        raise typer.Exit()


app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False, rich_markup_mode=None,
                  help="simcc: simulate call centers (trunks, IVR, skills, agents) and check SLAs.")


@app.callback()
def _root(version: Optional[bool] = typer.Option(None, "--version", callback=_version_callback, is_eager=True,
                                                 help="Print the version and exit.")):
    """simcc: simulate call centers (trunks, IVR, skills, agents) and check SLAs."""


def fail(message, code: int = EXIT_USAGE):
    """Print ``error: message`` and exit with ``code`` (2: bad input)."""
    error(message)
    raise typer.Exit(code)


def print_problems(exc: ScenarioError | RecordsError) -> None:
    print_table(["line", "field", "problem", "hint"],
                [["" if p.line is None else str(p.line), p.path or "-", p.message, p.hint or ""] for p in exc.problems],
                title=f"{exc.total:,} problem{'s' if exc.total != 1 else ''} in {exc.source or 'scenario'}",
                left=("line", "field", "problem", "hint"), console=err)


def load_scenario(path: Path, debug: bool, warn: bool = True):
    """The validated scenario, or exit 2 with every problem listed (no traceback)."""
    try:
        scenario = load(path)
    except ScenarioError as exc:
        if debug:
            raise
        print_problems(exc)
        raise typer.Exit(EXIT_USAGE) from None
    if warn:
        for w in scenario.warnings():
            warning(w)
    return scenario


@contextlib.contextmanager
def user_errors(debug: bool):
    """Turn the errors a user can cause into a clear message and exit code 2 (130 for Ctrl-C)."""
    try:
        yield
    except (ScenarioError, RecordsError) as exc:
        if debug:
            raise
        print_problems(exc)
        raise typer.Exit(EXIT_USAGE) from None
    except (ValueError, SizeError, OSError) as exc:
        if debug:
            raise
        fail(str(exc))
    except (WorkerLost, ReplicationFailed, WorkerStartError) as exc:
        if debug:
            raise
        fail(str(exc), EXIT_FAILED)
    except KeyboardInterrupt:
        error("interrupted")
        raise typer.Exit(EXIT_INTERRUPTED) from None


def emit(obj, fmt, table) -> None:
    """Print ``obj`` in ``fmt``: ``table()`` draws it for people; csv and json come from the format registry."""
    name = fmt.value if isinstance(fmt, enum.Enum) else str(fmt)
    if name == "table":
        table()
    else:
        sys.stdout.write(render(obj, name))
