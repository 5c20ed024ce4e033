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
- comes at all, where the write changes what other subjects' facts are checked against
  (``Guard.read`` None: the check of the other side, ``domain.dependents``, looked for
  what names the changed subjects only up to its head).

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

#: More events than this stored between the check and the write: refused without reading
#: which subjects they are of (``record`` checks again).
_READ_AT_MOST = 1000


class HeadMoved(IntegrityError):
    """Events stored after the check began bear on what the write was checked against."""


@frozen
class Guard:
    """The log's head when the check began (0: empty), and the subjects (aggregate ids)
    the check read; ``read`` None: any event stored since refuses the write."""

    head: int
    read: frozenset[UUID] | None

    def check(self, since: Iterable[object], count: int) -> None:
        """``HeadMoved`` unless the events stored after ``head`` (``since``: their
        originator ids, as the store gives them; ``count`` how many were read, at most
        ``_READ_AT_MOST`` + 1) leave what the check read as it was."""
        if not count:
            return
        if self.read is None or count > _READ_AT_MOST:
            raise HeadMoved(f"{count} event(s) stored since position {self.head}")
        for originator in since:
            key = originator if isinstance(originator, UUID) else UUID(str(originator))
            if key in self.read:
                raise HeadMoved(f"subject {key} written since position {self.head}")


def since_statement(table: str, id_column: str, param: str) -> str:
    """The query of the originator ids stored after a guard's head and before a write's
    first position (two parameters), at most ``_READ_AT_MOST`` + 1 of them."""
    return (f"SELECT originator_id FROM {table} WHERE {id_column} > {param} "
            f"AND {id_column} < {param} LIMIT {_READ_AT_MOST + 1}")
