"""Errors that simcc reports to its users (bad scenario files, bad arguments)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario: where it is and why it is wrong."""

    path: str
    message: str
    line: int | None = None
    hint: str | None = None

    def __str__(self) -> str:
        where = self.path or "<scenario>"
        if self.line is not None:
            where = f"{where} (line {self.line})"
        text = f"{where}: {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text


class ScenarioError(ValueError):
    """A scenario is invalid; ``problems`` lists every problem found, not only the first.

    Examples
    --------
    >>> err = ScenarioError([Problem("trunks", "must be >= 0", 3)])
    >>> print(err)
    invalid scenario: 1 problem
      trunks (line 3): must be >= 0
    """

    #: At most this many problems are kept per field (list positions folded: ``calls.3`` is ``calls``) ...
    MAX_PER_FIELD = 5
    #: ... and this many in all; the rest are counted in one closing line per field.
    MAX_SHOWN = 50
    #: Messages (which may quote the user's values) are cut to this many characters.
    MAX_MESSAGE = 300

    def __init__(self, problems: list[Problem], source: str | None = None):
        problems = list(problems)
        self.total = len(problems)
        self.problems = _capped(problems, self.MAX_PER_FIELD, self.MAX_SHOWN, self.MAX_MESSAGE)
        self.source = source
        super().__init__(self._render())

    def _render(self) -> str:
        n = self.total
        head = f"invalid scenario{f' {self.source}' if self.source else ''}: {n:,} problem{'s' if n != 1 else ''}"
        return "\n".join([head] + [f"  {p}" for p in self.problems])


def _cut(text: str | None, limit: int) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit:,} more characters)"


def _field(path: str) -> str:
    return ".".join(part for part in path.split(".") if not part.isdigit())


def _capped(problems: list[Problem], per_field: int, shown: int, limit: int) -> list[Problem]:
    """At most ``per_field`` problems per field and ``shown`` in all, values cut to ``limit`` characters;
    one closing problem per field says how many more there were."""
    kept: list[Problem] = []
    hidden: dict[str, list] = {}
    counts: dict[str, int] = {}
    for p in problems:
        field = _field(p.path)
        counts[field] = counts.get(field, 0) + 1
        if counts[field] <= per_field and len(kept) < shown:
            kept.append(Problem(_cut(p.path, 200) or "", _cut(p.message, limit) or "", p.line, _cut(p.hint, limit)))
        else:
            hidden.setdefault(field, [p.path, p.line, 0])[2] += 1
    for path, line, n in hidden.values():
        parts = path.split(".")
        while parts and parts[-1].isdigit():
            parts.pop()
        kept.append(Problem(_cut(".".join(parts), 200) or "", f"... and {n:,} more problem{'s' if n != 1 else ''} here "
                                                  f"(not shown)", line))
    return kept


class SizeError(ValueError):
    """A run would exceed the size guard (events or memory)."""


class FolderBusy(OSError):
    """Another run holds the output folder (``--out``); one run owns a folder at a time."""


class NotARunFolder(ValueError):
    """The output folder holds a ``meta.json`` that simcc did not write; it is left untouched."""


class RecordsError(ValueError):
    """Call records that cannot be read as they are; ``problems`` lists each bad cell (file line and column).

    Examples
    --------
    >>> err = RecordsError([Problem("arrival", "'soon' is not a timestamp", 7)], source="calls.csv")
    >>> print(err)
    unreadable call records calls.csv: 1 problem
      arrival (line 7): 'soon' is not a timestamp
    """

    MAX_PER_FIELD = 5
    MAX_SHOWN = 50
    MAX_MESSAGE = 300

    def __init__(self, problems: list[Problem], source: str | None = None, counts: dict[str, int] | None = None):
        problems = list(problems)
        self.total = len(problems)
        #: Problems per column, all of them (the shown list is capped).
        self.counts = counts if counts is not None else _count_by_field(problems)
        self.problems = _capped(problems, self.MAX_PER_FIELD, self.MAX_SHOWN, self.MAX_MESSAGE)
        self.source = source
        super().__init__(self._render())

    def _render(self) -> str:
        n = self.total
        where = f" {self.source}" if self.source else ""
        head = f"unreadable call records{where}: {n:,} problem{'s' if n != 1 else ''}"
        return "\n".join([head] + [f"  {p}" for p in self.problems])


def _count_by_field(problems: list[Problem]) -> dict[str, int]:
    out: dict[str, int] = {}
    for p in problems:
        out[p.path] = out.get(p.path, 0) + 1
    return out
