"""Copy a ledger to an empty store, keeping everything that makes it verifiable.

Export then import makes a new ledger: new positions, recording times and operators, so new
hashes, and no signature or checkpoint survives. ``copy_ledger`` instead moves the stored
rows themselves, with SQL against the recorders' own tables: every event at its position
(SQLite rowid, PostgreSQL ``notification_id``) with its ``originator_id``,
``originator_version`` and ``topic``, its chain link (seq, position, event id, hash,
chain value), its signature and every kept checkpoint. The event hash covers the plaintext
canonical export, not the stored bytes, so the copy may be encrypted, re-keyed or
decrypted on the way (``state`` becomes ``cipher.encrypt(canonical bytes)`` under the
target's cipher) and its hashes, chain, Merkle leaves and signatures stay those of the
source: ``verify`` passes on the copy and ``verify --against`` every checkpoint of the
source.

Refused, writing nothing: a target that is the source, a target that holds anything
(events, links, signatures or checkpoints: ``BadInput``), and a source that does not
verify (``IntegrityFailure``: a copy must not launder a tampered ledger). Rows are checked
again as they are copied (each hash recomputed from the plaintext, each link from the one
before), so a source changed after its verification stops the copy too.

All or nothing. On PostgreSQL the copy is one transaction that holds the events table's
exclusive lock (the one every writer takes) and checks again, under it, that the target is
empty. A SQLite file that does not exist yet is built beside it under a temporary name and
linked into place only when complete, so a failed copy leaves no file; an existing (empty)
SQLite ledger is filled in one transaction. The views (read models) are not copied: they
are caught up on the copy at the end, from its events (a failure there is only a warning:
the next command catches them up).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import uuid
from base64 import b64decode
from collections.abc import Callable, Iterator, Sequence
from hashlib import sha256
from pathlib import Path
from typing import Any
from uuid import UUID

from attrs import frozen

from domain.errors import BadInput, IntegrityFailure, LedgerError
from ledger.application import Ledger, open_ledger
from ledger.canonical import hash_stored
from ledger.chain import GENESIS
from ledger.storage import Target, parse_target
from ledger.verify import verify

#: Chain links (with their events and signatures) read and written at a time.
BATCH = 2000


@frozen
class Copied:
    """What a copy wrote."""

    events: int
    signatures: int
    checkpoints: int
    #: Why the copy's views were not caught up (they will be by the next command), if so.
    views_warning: str | None = None


@frozen
class _Row:
    """One event as copied: its link, its stored row and its signature (if signed)."""

    seq: int
    position: int
    event_id: str | None
    event_hash: bytes
    chain: bytes
    originator_id: Any
    originator_version: int
    topic: str
    state: bytes
    key_id: str | None
    signature: bytes | None


def copy_ledger(source: Ledger, target: Target, *,
                progress: Callable[[int], None] | None = None,
                catch_up_views: bool = True) -> Copied:
    """Copy ``source`` (open, its key checked) to the empty store ``target``, encrypted
    with ``target.cipher_key`` (none: plaintext). See the module's docstring."""
    if same_store(source.target, target):
        raise BadInput(f"the copy's target {target} is the source ledger itself", field="to")
    with _target_errors(target):
        _refuse_unless_empty(source, target)
    head = source.recorder.chain_head()
    verdict = verify(source)
    if not verdict.ok:
        where = (f" at position {verdict.first_bad_position}"
                 if verdict.first_bad_position is not None else "")
        raise IntegrityFailure(f"the source ledger does not verify{where}: {verdict.reason}; "
                               "nothing copied (a copy would hide the damage)")
    last_seq = head[0] if head else 0
    with _target_errors(target):
        if target.postgres or target.path.exists():  # type: ignore[union-attr]
            return _copy_into(source, target, last_seq, progress, catch_up_views)
        return _copy_to_new_file(source, target, last_seq, progress, catch_up_views)


def same_store(a: Target, b: Target) -> bool:
    """Whether two targets name the same store, as far as their text and files tell
    (``_refuse_unless_empty`` also asks two PostgreSQL servers who they are)."""
    if a.postgres != b.postgres:
        return False
    if not a.postgres:
        pa, pb = a.path, b.path
        assert pa is not None and pb is not None
        with contextlib.suppress(OSError):
            if pa.exists() and pb.exists():
                return os.path.samefile(pa, pb)
        return pa.resolve() == pb.resolve()
    keys = ("POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_DBNAME")
    return all(a.settings[k] == b.settings[k] for k in keys)


# --- the target: checked empty, then written ----------------------------------------------


def _refuse_unless_empty(source: Ledger, target: Target) -> None:
    """Refuse a target that holds anything, before the source is verified (a quick look
    that creates nothing; the write transaction looks again under its lock)."""
    if not target.postgres and not target.path.exists():  # type: ignore[union-attr]
        return
    ledger = Ledger(target, create=False)
    try:
        if target.postgres and source.target.postgres:
            from ledger.copying_postgres import _server_identity

            same = _server_identity(source) == _server_identity(ledger)
        else:
            same = False
        if same:
            raise BadInput(f"the copy's target {target} is the source ledger itself",
                           field="to")
        _writer(ledger).check_empty()
    finally:
        ledger.close()


class _NotEmpty(BadInput):
    def __init__(self, target: Target, what: str):
        super().__init__(f"the copy's target {target} is not empty (it holds {what}): copy "
                         "only into a new database or file", field="to")


def _copy_into(source: Ledger, target: Target, last_seq: int,
               progress: Callable[[int], None] | None, catch_up_views: bool) -> Copied:
    with open_ledger(target, create=True, command="copy") as ledger:
        copied = _write(source, ledger, last_seq, progress)
        warning = _catch_up(ledger) if catch_up_views else None
    return Copied(copied.events, copied.signatures, copied.checkpoints, warning)


def _copy_to_new_file(source: Ledger, target: Target, last_seq: int,
                      progress: Callable[[int], None] | None, catch_up_views: bool) -> Copied:
    final = target.path
    assert final is not None
    temporary = final.with_name(f".{final.name}.copying-{uuid.uuid4().hex[:12]}")
    staged = parse_target(str(temporary), cipher_key=target.cipher_key or "")
    try:
        copied = _copy_into(source, staged, last_seq, progress, catch_up_views)
        _settle(temporary)
        try:
            os.link(temporary, final)  # never over a file that appeared meanwhile
        except FileExistsError:
            raise BadInput(f"the copy's target {target} appeared while copying: nothing "
                           "copied there", field="to") from None
        except OSError:  # no hard links here: the check and the move are not one step
            if final.exists():
                raise BadInput(f"the copy's target {target} appeared while copying: "
                               "nothing copied there", field="to") from None
            os.replace(temporary, final)
    finally:
        for leftover in (temporary, Path(f"{temporary}-wal"), Path(f"{temporary}-shm")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
    return copied


def _settle(path: Path) -> None:
    """Fold the write-ahead log into the file, so that the file alone is the ledger."""
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as conn:
        busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
    if busy:
        raise LedgerError(f"could not complete the copy at {path}: its log is still in use")


def _catch_up(ledger: Ledger) -> str | None:
    from projections.views import Views  # projections build on ledger: imported late

    try:
        # Rebuilt from zero, not caught up: a target's view tables may hold rows already
        # (an empty ledger has none, but a prepared file could), and the copy answers
        # only from views built from its own events.
        Views(ledger).rebuild()
    except Exception as error:  # the copy is committed: its views can wait
        return str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
    return None


def _write(source: Ledger, target: Ledger, last_seq: int,
           progress: Callable[[int], None] | None) -> Copied:
    reader, writer = _reader(source), _writer(target)
    recode = _recoder(source, target)
    events = signatures = 0
    with writer.transaction():
        writer.check_empty()
        prev, seq, last = GENESIS, 0, 0
        while seq < last_seq:
            rows = reader.rows(seq, min(BATCH, last_seq - seq))
            if not rows:
                break
            out = []
            for row in rows:
                prev, plain = _checked(row, prev, seq, last, source)
                seq, last = row.seq, row.position
                out.append(row if recode is None else _recoded(row, recode(plain)))
            writer.insert(out)
            events += len(out)
            signatures += sum(row.signature is not None for row in out)
            if progress is not None:
                progress(events - 1)
        if seq != last_seq:
            raise IntegrityFailure(f"the source's chain ends at link {seq}, not at its head "
                                   f"{last_seq}: it changed during the copy; nothing copied")
        checkpoints = [c for c in reader.checkpoints() if c[1] <= events]
        writer.insert_checkpoints(checkpoints)
        writer.finish()
    return Copied(events, signatures, len(checkpoints))


def _checked(row: _Row, prev: bytes, seq: int, last: int,
             source: Ledger) -> tuple[bytes, bytes]:
    """The row's chain value and its event's canonical bytes, if the row holds (as
    ``verify`` checked a moment ago)."""
    if row.seq != seq + 1 or row.position <= last:
        raise IntegrityFailure(f"the source changed during the copy (chain link {seq + 1} "
                               f"is missing or out of order); nothing copied")
    plain = source.mapper.decode_state(row.state)
    if hash_stored(plain, row.position) != row.event_hash:
        raise IntegrityFailure(f"the source changed during the copy: the event at position "
                               f"{row.position} does not match its hash; nothing copied")
    link = sha256(prev + row.event_hash).digest()
    if link != row.chain:
        raise IntegrityFailure(f"the source changed during the copy: the chain breaks at "
                               f"position {row.position}; nothing copied")
    return link, plain


def _recoder(source: Ledger, target: Ledger) -> Callable[[bytes], bytes] | None:
    """How a stored state becomes the target's (from the canonical bytes), or None when the
    bytes stay as they are (both plaintext, or both under the same key)."""
    if _key_bytes(source.target.cipher_key) == _key_bytes(target.target.cipher_key):
        return None
    cipher = target.mapper.cipher
    return (lambda plain: plain) if cipher is None else cipher.encrypt


def _key_bytes(key: str | None) -> bytes | None:
    return None if key is None else b64decode(key)


def _recoded(row: _Row, state: bytes) -> _Row:
    return _Row(row.seq, row.position, row.event_id, row.event_hash, row.chain,
                row.originator_id, row.originator_version, row.topic, state, row.key_id,
                row.signature)


@contextlib.contextmanager
def _target_errors(target: Target) -> Iterator[None]:
    """A store error on the target in one line naming it (not the source)."""
    try:
        yield
    except LedgerError:
        raise
    except Exception as error:
        module = type(error).__module__
        if not (module.startswith(("eventsourcing", "psycopg", "sqlite3"))
                or isinstance(error, OSError)):
            raise
        first = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        raise LedgerError(f"cannot copy to {target}: {first}") from error


# --- reading the source ----------------------------------------------------------------------


def _reader(ledger: Ledger) -> Any:
    if ledger.target.postgres:
        from ledger.copying_postgres import _PostgresReader

        return _PostgresReader(ledger.recorder)
    return _SQLiteReader(ledger.recorder)


class _SQLiteReader:
    def __init__(self, recorder: Any):
        self.recorder = recorder
        self.events = recorder.events_table_name
        self.chain = recorder.chain_table_name
        self.signatures = f"{self.events}_signatures"
        self.checkpoint_table = recorder.checkpoints_table_name

    def _has(self, c: Any, table: str) -> bool:
        c.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,))
        return c.fetchone() is not None

    def rows(self, after_seq: int, limit: int) -> list[_Row]:
        with self.recorder.datastore.transaction(commit=False) as c:
            signed = self._has(c, self.signatures)
            c.execute(
                "SELECT c.seq, c.position, c.event_id, c.event_hash, c.chain, "
                "e.originator_id, e.originator_version, e.topic, e.state, "
                + ("s.key_id, s.signature " if signed else "NULL, NULL ")
                + f"FROM {self.chain} c JOIN {self.events} e ON e.rowid = c.position "
                + (f"LEFT JOIN {self.signatures} s ON s.position = c.position "
                   if signed else "")
                + "WHERE c.seq > ? ORDER BY c.seq LIMIT ?", (after_seq, limit))
            return [_row(tuple(r)) for r in c.fetchall()]

    def checkpoints(self) -> list[tuple[int, int, str]]:
        with self.recorder.datastore.transaction(commit=False) as c:
            if not self._has(c, self.checkpoint_table):
                return []
            c.execute(f"SELECT seq, tree_size, note FROM {self.checkpoint_table} ORDER BY seq")
            return [tuple(r) for r in c.fetchall()]


def _row(values: Sequence[Any]) -> _Row:
    (seq, position, event_id, event_hash, chain, originator_id, version, topic, state,
     key_id, signature) = values
    return _Row(seq, position, event_id, bytes(event_hash), bytes(chain), originator_id,
                version, topic, bytes(state), key_id,
                None if signature is None else bytes(signature))


# --- writing the target ----------------------------------------------------------------------


def _writer(ledger: Ledger) -> Any:
    if ledger.target.postgres:
        from ledger.copying_postgres import _PostgresWriter

        return _PostgresWriter(ledger)
    return _SQLiteWriter(ledger)


class _Writer:
    """What both stores' writers share: the emptiness check, inside the writer's own
    transaction when one is open (under its lock), else on a connection of its own."""

    cursor: Any = None

    def _reading(self) -> contextlib.AbstractContextManager[Any]:
        raise NotImplementedError

    def _check_empty(self, cursor: Any) -> None:
        raise NotImplementedError

    def check_empty(self) -> None:
        if self.cursor is not None:
            self._check_empty(self.cursor)
            return
        with self._reading() as cursor:
            self._check_empty(cursor)


class _SQLiteWriter(_Writer):
    """Writes into one transaction of the target's datastore (``transaction()``)."""

    def __init__(self, ledger: Ledger):
        recorder = ledger.recorder
        self.target = ledger.target
        self.datastore = recorder.datastore
        self.events = recorder.events_table_name
        self.chain = recorder.chain_table_name
        self.signatures = f"{self.events}_signatures"
        self.checkpoint_table = recorder.checkpoints_table_name
        self.cursor: Any = None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        with self.datastore.transaction(commit=True) as c:
            # A write first, so that this transaction holds the write lock from here on
            # and no other writer slips an event in after the emptiness check.
            c.execute(f"DELETE FROM {self.chain} WHERE 0")
            self.cursor = c
            try:
                yield
            finally:
                self.cursor = None

    @contextlib.contextmanager
    def _reading(self) -> Iterator[Any]:
        with self.datastore.transaction(commit=False) as c:
            yield c

    def _check_empty(self, c: Any) -> None:
        for table, what in ((self.events, "events"), (self.chain, "chain links"),
                            (self.signatures, "signatures"),
                            (self.checkpoint_table, "checkpoints")):
            c.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                      (table,))
            if c.fetchone() is None:
                continue
            c.execute(f"SELECT 1 FROM {table} LIMIT 1")
            if c.fetchone() is not None:
                raise _NotEmpty(self.target, what)

    def insert(self, rows: Sequence[_Row]) -> None:
        c = self.cursor
        c.executemany(f"INSERT INTO {self.events} (rowid, originator_id, originator_version, "
                      "topic, state) VALUES (?, ?, ?, ?, ?)",
                      [(r.position, _text_id(r.originator_id), r.originator_version, r.topic,
                        r.state) for r in rows])
        c.executemany(f"INSERT INTO {self.chain} (seq, position, event_id, event_hash, chain) "
                      "VALUES (?, ?, ?, ?, ?)",
                      [(r.seq, r.position, r.event_id, r.event_hash, r.chain) for r in rows])
        c.executemany(f"INSERT INTO {self.signatures} (position, key_id, signature) "
                      "VALUES (?, ?, ?)", [(r.position, r.key_id, r.signature)
                                           for r in rows if r.signature is not None])

    def insert_checkpoints(self, rows: Sequence[tuple[int, int, str]]) -> None:
        self.cursor.executemany(f"INSERT INTO {self.checkpoint_table} (seq, tree_size, note) "
                                "VALUES (?, ?, ?)", rows)

    def finish(self) -> None:
        """Nothing to do: SQLite's next rowid is the largest plus one."""


def _uuid(originator_id: Any) -> UUID:
    return originator_id if isinstance(originator_id, UUID) else UUID(originator_id)


def _text_id(originator_id: Any) -> str:
    # The SQLite recorder stores a UUID as its 32 hex digits; a SQLite source's text as is.
    return originator_id.hex if isinstance(originator_id, UUID) else originator_id
