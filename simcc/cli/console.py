"""Everything the command line prints goes through here.

Two rules, kept in one place:

- **User text is printed verbatim.** Scenario names, keys, values and
  messages that quote them are never read as rich markup (``billing[vip]``
  stays ``billing[vip]``, ``[/]`` cannot crash a command) and control
  characters are shown, not sent (a scenario file cannot repaint the
  terminal): an escape character prints as ``\\x1b``.
- **Tables never lose a digit.** A table that does not fit the width is
  split into several tables of fewer columns (the first column repeated in
  each), never cut to ``1,6…``. Piped output is wide (machines should read
  ``--format csv`` or ``json`` anyway) and gets the same guarantee.
"""
from __future__ import annotations

import unicodedata
from typing import Iterable, Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

#: Width of tables when the output is not a terminal (a file, a pipe, a test runner).
PIPE_WIDTH = 200

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)
if not out.is_terminal:
    out = Console(width=PIPE_WIDTH, highlight=False)
if not err.is_terminal:
    err = Console(stderr=True, width=PIPE_WIDTH, highlight=False)

_KEEP = {"\n", "\t"}


def visible(text) -> str:
    """``text`` with control and invisible formatting characters written as escapes.

    Examples
    --------
    >>> visible("billing[vip]"), visible("red\\x1b[31m"), visible("a\\u202eb")
    ('billing[vip]', 'red\\\\x1b[31m', 'a\\\\u202eb')
    """
    text = str(text)
    if text.isprintable() or all(ch.isprintable() or ch in _KEEP for ch in text):
        return text
    out_chars = []
    for ch in text:
        if ch in _KEEP or (ch.isprintable() and unicodedata.category(ch) != "Cf"):
            out_chars.append(ch)
        else:
            out_chars.append(ch.encode("unicode_escape").decode("ascii"))
    return "".join(out_chars)


def plain(text) -> Text:
    """A rich Text that shows ``text`` exactly as written (no markup, controls made visible)."""
    return Text(visible(text))


def say(message, console: Console | None = None, style: str | None = None) -> None:
    """Print a message that may contain user text (wrapped at the console width)."""
    (console or out).print(Text(visible(message), style=style or ""))


def error(message) -> None:
    """``error: message`` on stderr."""
    err.print(Text.assemble(("error: ", "bold red"), visible(message)), soft_wrap=True)


def warning(message) -> None:
    """``warning: message`` on stderr."""
    err.print(Text.assemble(("warning: ", "yellow"), visible(message)), soft_wrap=True)


def note(message) -> None:
    """A plain remark on stderr (files written, progress summaries)."""
    err.print(Text(visible(message)), soft_wrap=True)


# --------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------
class Cell(Text):
    """A styled cell (a verdict such as PASS in green); its text is still shown verbatim."""

    def __init__(self, text, style: str = ""):
        super().__init__(visible(text), style=style)


def _width(cell) -> int:
    text = cell.plain if isinstance(cell, Text) else str(cell)
    return max((Text(line).cell_len for line in text.split("\n")), default=0)


def _header_width(header: str) -> int:
    return max((Text(word).cell_len for word in str(header).split()), default=1)


def print_table(columns: Sequence[str], rows: Iterable[Sequence], *, title: str | None = None,
                left: Sequence[str] = (), console: Console | None = None, caption: str | None = None) -> None:
    """Print a table that never cuts a value: split by columns when it is wider than the console.

    ``columns`` are the headers (they may wrap at spaces); ``rows`` hold
    strings or :class:`Cell` values. Columns named in ``left`` are left
    aligned, the others right aligned (numbers).
    """
    console = console or out
    rows = [[c if isinstance(c, Text) else plain(c) for c in row] for row in rows]
    n = len(columns)
    need = [max([_header_width(columns[j])] + [_width(r[j]) for r in rows]) for j in range(n)]
    limit = max(console.width, 40)

    def cost(cols):                  # box borders and one space of padding either side
        return sum(need[j] + 3 for j in cols) + 1

    groups: list[list[int]] = []
    current = [0]
    for j in range(1, n):
        if cost(current + [j]) > limit and len(current) > 1:
            groups.append(current)
            current = [0, j]
        else:
            current.append(j)
    groups.append(current)
    for i, cols in enumerate(groups):
        part = title if len(groups) == 1 or title is None else f"{title} ({i + 1}/{len(groups)})"
        t = Table(title=plain(part) if part else None, title_justify="left",
                  caption=plain(caption) if caption and i == len(groups) - 1 else None, caption_justify="left")
        for j in cols:
            t.add_column(plain(columns[j]), justify="left" if columns[j] in left or j == 0 else "right",
                         min_width=need[j], overflow="fold")
        for r in rows:
            t.add_row(*[r[j] for j in cols])
        console.print(t)
