"""Output formats: one registry, one writer per format, used by the command line and the output folders.

A format is a name, what it is for, and a writer that turns a result-like
object into text: ``csv`` calls the object's ``to_csv()``, ``json`` dumps its
``to_dict()`` as strict JSON (``null`` for NaN and infinity). ``table`` is
the people's format: the command line renders it (``simcc.cli.console``).
Every result type the commands print (Result, SweepResult, Comparison,
StaffingPlan, TrunkPlan, ShiftPlan, Erlang answers) has ``to_csv`` and
``to_dict``, so every command offers every format.

Adding a format: an entry in :data:`FORMATS` with its writer (and, for an
output folder, a line in :func:`write_result`); ``--format`` choices come
from this registry.
"""
from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import dataclass
from typing import Callable

from ..atomic import atomic_write
from ..jsonsafe import dumps


@dataclass(frozen=True)
class Format:
    name: str
    doc: str
    write: Callable | None      # obj -> text; None: rendered by the command line


FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("table", "tables for people, in the terminal", None),
    Format("csv", "comma-separated values: the main table, one row per interval (or point, or line)",
           lambda obj: obj.to_csv()),
    Format("json", "everything, as strict JSON (null for NaN and infinity)", lambda obj: dumps(obj.to_dict()) + "\n"),
)}


def csv_cell(x) -> str:
    """One CSV cell, the same way in every file: empty for None and NaN, ``true``/``false`` for booleans,
    whole numbers without a decimal point, other numbers to 6 decimals, infinity as ``inf``.

    Examples
    --------
    >>> [csv_cell(x) for x in (None, True, 3.0, 0.1234567, float("nan"), float("inf"), "a,b")]
    ['', 'true', '3', '0.123457', '', 'inf', 'a,b']
    """
    if x is None:
        return ""
    if isinstance(x, bool) or type(x).__name__ == "bool_":
        return "true" if x else "false"
    if isinstance(x, (int,)) or type(x).__name__.startswith("int"):
        return str(int(x))
    if isinstance(x, float) or type(x).__name__.startswith("float"):
        x = float(x)
        if math.isnan(x):
            return ""
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        return str(int(x)) if x.is_integer() else repr(round(x, 6))
    return str(x)


def csv_text(header, rows) -> str:
    """CSV text (``\\n`` line ends) with every cell through :func:`csv_cell`."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for row in rows:
        w.writerow([csv_cell(x) for x in row])
    return buf.getvalue()


def render(obj, fmt: str) -> str:
    """``obj`` written in a machine format (``csv`` or ``json``)."""
    f = FORMATS[fmt]
    if f.write is None:
        raise ValueError(f"format {fmt!r} is rendered by the command line")
    return f.write(obj)


RESULT_FILES = ("summary.csv", "intervals.csv", "result.json", "meta.json")


def write_meta_only(meta: dict, out_dir: str | os.PathLike) -> list[str]:
    """A run that ended before any replication finished: only ``meta.json`` (its status and the
    missing replications); result files of an earlier run are removed so none passes for this one's."""
    out_dir = os.fspath(out_dir)
    for name in RESULT_FILES:
        path = os.path.join(out_dir, name)
        if os.path.exists(path):
            os.unlink(path)
    atomic_write(os.path.join(out_dir, "meta.json"), dumps(meta))
    return [os.path.join(out_dir, "meta.json")]


def write_result(result, out_dir: str | os.PathLike) -> list[str]:
    """Write a result's files into ``out_dir``; ``meta.json`` goes last as the commit marker."""
    out_dir = os.fspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    files = {
        "summary.csv": result.summary_csv(),
        "intervals.csv": result.intervals_csv(),
        "result.json": result.to_json(),
        "meta.json": dumps(result.to_dict()["meta"]),
    }
    written = []
    for name, text in files.items():
        atomic_write(os.path.join(out_dir, name), text)
        written.append(os.path.join(out_dir, name))
    return written
