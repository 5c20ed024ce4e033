"""The errors an operator may legitimately see, in the domain's words.

The command line turns them into one line on stderr and an exit code, in one place:
``BadInput`` exits 2 (the input itself is wrong), ``Refused`` exits 1 (the input is
well formed but a rule of the ledger does not allow it), ``IntegrityFailure`` exits 3
(what is stored, or a report, does not verify), ``StoreUnreachable`` exits 4.
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


class IntegrityFailure(LedgerError):
    """What the ledger holds (or a report carries) does not verify: an altered, deleted,
    inserted or damaged event, a view that disagrees with the log, a bad signature.
    Exits 3: distinct from a refused rule (1) and bad input (2)."""

    exit_code = 3


class StoreUnreachable(LedgerError):
    """The store cannot be reached or opened (no server, a locked or unreadable file).
    Exits 4."""

    exit_code = 4
