"""The ``simcc`` command line (nothing imports this package; it imports every layer below).

``app`` (the typer application, exit codes, shared helpers), ``console``
(all printing: user text verbatim, tables that never lose digits), ``run``
(run, validate, schema, erlang, compare), ``scale`` (progress, interrupts,
sweep), ``plan`` (staff, trunks, shifts, report), ``calibrate`` (fit, backtest).
"""
from __future__ import annotations

import sys

from . import calibrate, plan, roster, run, scale  # noqa: F401  (the commands register themselves on ``app``)
from .app import EXIT_INTERRUPTED, app
from .console import error

__all__ = ["app", "main"]


def main() -> None:
    """Console entry point (``simcc`` and ``python -m simcc``)."""
    try:
        app()
    except KeyboardInterrupt:
        error("interrupted")
        sys.exit(EXIT_INTERRUPTED)
