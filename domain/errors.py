"""The errors an operator may legitimately see, in the domain's words.

The command line turns them into one line on stderr and an exit code, in one place:
``BadInput`` exits 2 (the input itself is wrong), ``Refused`` exits 1 (the input is
well formed but a rule of the ledger does not allow it).
"""

from __future__ import annotations


class LedgerError(Exception):
    """Anything an operator may legitimately see."""

    exit_code = 1


class BadInput(LedgerError):
    """Malformed input: a bad field, date, reference or JSON line."""

    exit_code = 2

    def __init__(self, message: str, *, field: str | None = None, line: int | None = None):
        self.message = message
        self.field = field
        self.line = line
        super().__init__(self._text())

    def _text(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.field:
            where.append(f"field {self.field!r}")
        return f"{', '.join(where)}: {self.message}" if where else self.message

    def at_line(self, line: int) -> BadInput:
        """The same error, located on a line of an input file."""
        return BadInput(self.message, field=self.field, line=line)


class Refused(LedgerError):
    """A rule of the ledger refuses the event; nothing is written."""

    exit_code = 1


class SubjectNotFound(Refused):
    """An event about a subject that does not exist (yet)."""


class SubjectExists(Refused):
    """A creating event for a reference that exists already."""


class RuleBroken(Refused):
    """The event breaks a rule of its subject at its valid time."""
