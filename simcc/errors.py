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

    def __init__(self, problems: list[Problem], source: str | None = None):
        self.problems = list(problems)
        self.source = source
        super().__init__(self._render())

    def _render(self) -> str:
        n = len(self.problems)
        head = f"invalid scenario{f' {self.source}' if self.source else ''}: {n} problem{'s' if n != 1 else ''}"
        return "\n".join([head] + [f"  {p}" for p in self.problems])


class SizeError(ValueError):
    """A run would exceed the size guard (events or memory)."""


class FolderBusy(OSError):
    """Another run holds the output folder (``--out``); one run owns a folder at a time."""


class NotARunFolder(ValueError):
    """The output folder holds a ``meta.json`` that simcc did not write; it is left untouched."""
