"""What ``Ledger.record`` checked a write against must still be so when it is stored.

A ``record`` call checks its facts against the ledger as it reads it, then stores them: two
writers can each check before the other stores. The store's own guard (one version of a
subject once) catches two writes to the same subject, not a write skew between subjects:
one writer retracts an order, or narrows a registration, while the other records a fine,
a request or an order that names it. Each check passes against a ledger without the
other's write, and both are stored, leaving a fact against the rules between subjects
(``domain.references``) that ``verify``, which proves what was recorded, does not see.

So each write carries a ``Guard``: the log's head when its check began, and the subjects the
check read. In the transaction that stores it, once the store's write lock is held (SQLite's
database lock, the events table's lock on PostgreSQL, both taken by the insert before the
chain is read), the events stored after that head and before the write are read; the write
is refused as ``HeadMoved`` (an ``IntegrityError``: the transaction rolls back, and
``record`` checks again against the fresh state) if any of them

- is of a subject the check read (its facts may have changed what this write is checked
  against: an order, the platform an order names, the ledger's default); or
- may name something, where the write changes what other subjects' facts are checked
  against (``Guard.changes``: the check of the other side, ``domain.dependents``, looked
  for what names the changed subjects only up to its head): a fine, a request, an order,
  an observation, or an amendment (which may make an earlier fact name another). An email
  or a measurement elsewhere does not: refusing every event in between starved such a
  write (a review, 2026-12-07: a default jurisdiction corrected while another operator
  recorded an email every half second gave up after 30 tries).

Writes that read no other subject and change nothing others read still take a ``Guard`` of
their own subjects: it costs one indexed query in their transaction, nothing when nothing
came between. (An import holds the write lock from its first check to its commit, so it
needs none: ``ledger.bulk``.)
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from attrs import frozen
from eventsourcing.persistence import IntegrityError

from domain.amendments import CHANGING
from domain.references import NAMING_TYPES

#: More events than this stored between the check and the write: refused without reading
#: which subjects they are of (``record`` checks again).
_READ_AT_MOST = 1000


class HeadMoved(IntegrityError):
    """Events stored after the check began bear on what the write was checked against."""


#: Events that may name another subject, or make an earlier fact name another: what a
#: write that changes what others read must not miss (``Guard.changes``).
_NAMING = NAMING_TYPES | CHANGING


@frozen
class Guard:
    """The log's head when the check began (0: empty), the subjects (aggregate ids) the
    check read, and whether the write changes what other subjects' facts are checked
    against (then an event that may name something refuses it too)."""

    head: int
    read: frozenset[UUID]
    changes: bool = False

    def check(self, since: Iterable[tuple[object, str | None]], count: int) -> None:
        """``HeadMoved`` unless the events stored after ``head`` (``since``: each one's
        originator id, as the store gives it, and type; ``count`` how many were read, at
        most ``_READ_AT_MOST`` + 1) leave what the check read as it was."""
        if not count:
            return
        if count > _READ_AT_MOST:
            raise HeadMoved(f"{count} events stored since position {self.head}")
        for originator, kind in since:
            key = originator if isinstance(originator, UUID) else UUID(str(originator))
            if key in self.read:
                raise HeadMoved(f"subject {key} written since position {self.head}")
            if self.changes and (kind is None or kind in _NAMING):
                raise HeadMoved(f"a {kind} stored since position {self.head}, which may "
                                "name what this write changes")


def since_statement(table: str, id_column: str, param: str) -> str:
    """The query of the originator ids and states stored after a guard's head and before a
    write's first position (two parameters), at most ``_READ_AT_MOST`` + 1 of them."""
    return (f"SELECT originator_id, state FROM {table} WHERE {id_column} > {param} "
            f"AND {id_column} < {param} LIMIT {_READ_AT_MOST + 1}")
