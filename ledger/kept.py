"""A SQLite ledger's kept views, read on a plain connection without the eventsourcing
application: what lets ``blockledger status`` answer in about the time its libraries take
to import (issue 16).

A read command first catches the views up (``projections.views``), and that needs the
application (its recorder, the mapper, the aggregates' modules: about half of the start-up
of ``status``). Where the views already stand at the ledger's last event, catching up does
nothing, and the answer is read from the views alone. ``open_kept`` gives such a ledger, as
far as ``projections.views.Views`` reads it, only where that answer is certainly the one
the full path gives; otherwise None, and the caller takes the full path, which says what
is wrong if anything is. None for:

- PostgreSQL, a cipher key (``BLOCKLEDGER_CIPHER_KEY``), a ``file:`` or in-memory name;
- a file this process may not write, or whose directory it may not write: there the full
  path cannot catch up (a read-only connection) and replays the log instead of reading
  the views, so it does not read the kept status at all;
- a ledger whose first events are not plaintext (an encrypted ledger read without its key:
  the full path refuses it, ``ledger.encryption.check``), or a file that is no ledger;
- views behind the ledger, or past it, or missing (the full path catches up, or refuses).

Everything is read in one snapshot (one read transaction), so a writer committing
meanwhile changes nothing of what is read; the connection refuses any write
(``PRAGMA query_only``). What the views hold is then checked as the full path checks it,
by the same code (``Views.current_status``: a damaged or altered kept row is an
integrity failure there too).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

from domain.errors import LedgerError
from ledger import encryption
from ledger.storage import Target
from ledger.views import _Views

#: The SQLite ledger's tables, as the library names them (``ledger.recorders``).
EVENTS = "stored_events"
CHAIN = "stored_events_chain"
TRACKING = "tracking"


class _Notification(NamedTuple):
    id: int
    state: Any  # bytes, unless altered: then what the full path meets too


class _Snapshot:
    """The ``datastore`` the views' statements run on: one connection, inside the read
    transaction ``open_kept`` began."""

    def __init__(self, connection: sqlite3.Connection):
        self.connection = connection

    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[sqlite3.Cursor]:
        if commit:
            raise sqlite3.OperationalError("the kept views are open for reading only")
        cursor = self.connection.cursor()
        try:
            yield cursor
        finally:
            cursor.close()


class KeptViews(_Views):
    """The views' statements (``ledger.views``) on a read-only snapshot."""

    _tracking_table = TRACKING
    _notification_id = "rowid"
    events_table = EVENTS
    chain_table = CHAIN

    def __init__(self, connection: sqlite3.Connection):
        self.datastore = _Snapshot(connection)

    def max_tracking_id(self, name: str) -> int | None:
        rows = self._read(f"SELECT MAX(notification_id) FROM {TRACKING} "
                          "WHERE application_name = ?", (name,))
        return rows[0][0] if rows else None


class _Recorder:
    """What ``Views`` and ``ledger.encryption.check`` ask of the ledger's recorder."""

    def __init__(self, connection: sqlite3.Connection):
        self.connection = connection

    def max_notification_id(self) -> int | None:
        return self.connection.execute(f"SELECT MAX(rowid) FROM {EVENTS}").fetchone()[0]

    def select_notifications(self, start: int, limit: int, *,
                             inclusive_of_start: bool = True) -> list[_Notification]:
        where = "rowid >= ?" if inclusive_of_start else "rowid > ?"
        return [_Notification(row[0], row[1]) for row in self.connection.execute(
            f"SELECT rowid, state FROM {EVENTS} WHERE {where} ORDER BY rowid LIMIT ?",
            (start, limit))]


class _Plain:
    """The mapper of a plaintext ledger, as far as the views read it: stored states are the
    events' canonical JSON as they are."""

    cipher = None
    compressor = None

    @staticmethod
    def decode_state(state: bytes) -> bytes:
        return state


class KeptLedger:
    """A plaintext SQLite ledger open for reading its views, in one snapshot."""

    mapper = _Plain()

    def __init__(self, connection: sqlite3.Connection):
        self.connection = connection
        self.recorder = _Recorder(connection)
        self._views = KeptViews(connection)

    def view_store(self) -> KeptViews:
        return self._views

    def current(self) -> bool:
        """Whether the views stand at the ledger's last event, and the ledger reads as
        plaintext without a key (as ``ledger.encryption.check`` decides)."""
        try:
            encryption.check(self)
        except LedgerError:
            return False
        head = self.recorder.max_notification_id() or 0
        views = self._views
        return (views.exists() and views.position("history") == head
                and views.position("status") == head)

    def close(self) -> None:
        self.connection.close()


def open_kept(target: Target) -> KeptLedger | None:
    """The ledger at ``target`` open for reading its kept views, where those are certainly
    what the full path would read (see the module); None otherwise. The caller closes it."""
    if target.postgres or target.encrypted:
        return None
    name = target.settings["SQLITE_DBNAME"]
    if name.startswith("file:") or ":memory:" in name or "mode=memory" in name:
        return None
    path = Path(name)
    if not (path.is_file() and os.access(path, os.W_OK)
            and os.access(path.absolute().parent, os.W_OK | os.X_OK)):
        return None
    try:
        # Not mode=ro: a read-only connection leaves the -wal and -shm files behind it;
        # this one cleans up as the library's does, and refuses writes by itself.
        connection = sqlite3.connect(path.absolute().as_uri(), uri=True, isolation_level=None,
                                     timeout=float(target.settings["SQLITE_LOCK_TIMEOUT"]))
    except (sqlite3.Error, ValueError):
        return None
    ledger = KeptLedger(connection)
    try:
        connection.execute("PRAGMA query_only = ON")
        connection.execute("BEGIN")  # one snapshot, from the first read on
        if ledger.current():
            return ledger
    except (sqlite3.Error, ValueError, TypeError):
        pass
    ledger.close()
    return None
