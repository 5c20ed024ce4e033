"""The chained recorders: the library's own recorder tests, then the chain's guarantees.

PostgreSQL tests need the server at ``BLOCKLEDGER_TEST_PG`` (default
postgresql://postgres@127.0.0.1:5432) and get a fresh database each; they skip only when no
server answers and ``CI`` is unset.
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import psycopg
import pytest
from eventsourcing.persistence import (
    ApplicationRecorder,
    InfrastructureFactory,
    IntegrityError,
    StoredEvent,
)
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore
from eventsourcing.tests.persistence import ApplicationRecorderTestCase
from eventsourcing.utils import Environment, get_topic

from ledger.canonical import event_hash
from ledger.chain import GENESIS, ChainRow, chain_next, first_break, link, raw_event_hash
from ledger.recorders import (
    ChainedSQLiteApplicationRecorder,
    ChainError,
)
from ledger.recorders_postgres import ChainedPostgresApplicationRecorder

PG_SERVER = os.environ.get("BLOCKLEDGER_TEST_PG", "postgresql://postgres@127.0.0.1:5432")


# --- helpers ---------------------------------------------------------------------------

def _admin() -> psycopg.Connection:
    return psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True, connect_timeout=5)


def create_pg_database() -> str:
    """A fresh database (its name); skips without a server unless CI is set."""
    try:
        with _admin() as conn:
            name = f"bl_rec_{uuid.uuid4().hex[:16]}"
            conn.execute(f'CREATE DATABASE "{name}"')
            return name
    except psycopg.OperationalError as e:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {PG_SERVER} and CI is set: {e}")
        pytest.skip(f"no PostgreSQL server at {PG_SERVER}")


def drop_pg_database(name: str) -> None:
    with _admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pg_settings(dbname: str) -> dict[str, Any]:
    parts = urlsplit(PG_SERVER)
    return {"dbname": dbname, "host": parts.hostname or "127.0.0.1", "port": parts.port or 5432,
            "user": unquote(parts.username or "postgres"),
            "password": unquote(parts.password or "")}


def pg_datastore(dbname: str, **kwargs: Any) -> PostgresDatastore:
    # Room for the library's concurrent tests (10 writers and 2 readers) and ours.
    kwargs = {"pool_size": 4, "max_overflow": 12, "connect_timeout": 30, **kwargs}
    return PostgresDatastore(**pg_settings(dbname), **kwargs)


def sqlite_datastore(path: str, **kwargs: Any) -> SQLiteDatastore:
    return SQLiteDatastore(db_name=path, pool_size=100, lock_timeout=30, **kwargs)


def event(originator_id: Any = None, version: int = 1, state: bytes = b"{}") -> StoredEvent:
    return StoredEvent(originator_id=originator_id or uuid.uuid4(), originator_version=version,
                       topic="tests:Event", state=state)


def export_of(**extra: Any) -> dict[str, Any]:
    # Now: the PostgreSQL store refuses a record time far from its server's clock.
    now = datetime.now(UTC).isoformat()
    return {"id": str(uuid.uuid4()), "type": "email-sent", "subject": "telegram",
            "data": {"summary": "x"}, "recorded_at": now, **extra}


def assert_chain_complete(recorder: ApplicationRecorder,
                          exports: dict[int, dict[str, Any]] | None = None) -> list[ChainRow]:
    """One link per stored event, seq 1..N, recomputing from genesis; hashes checked."""
    notifications = list(recorder.select_notifications(None, 10**9))
    rows = recorder.select_chain(0, 10**9)  # type: ignore[attr-defined]
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
    assert [r.position for r in rows] == [n.id for n in notifications]
    assert first_break(rows) is None
    exports = exports or {}
    for row, n in zip(rows, notifications, strict=True):
        if row.position in exports:
            export = exports[row.position]
            assert row.event_id == export["id"]
            assert row.event_hash.hex() == event_hash(dict(export, position=row.position))
        else:
            assert row.event_id is None
            assert row.event_hash == raw_event_hash(row.position, n)
    head = recorder.chain_head()  # type: ignore[attr-defined]
    assert head == ((rows[-1].seq, rows[-1].position, rows[-1].chain) if rows else None)
    return rows


# --- (a) the library's own recorder test cases, against the subclasses -------------------

class TestChainedSQLiteRecorder(ApplicationRecorderTestCase[ChainedSQLiteApplicationRecorder]):
    """The library's application recorder tests, on a temporary SQLite file.

    ``test_performance`` and ``test_concurrent_throughput`` make no timing assertions
    (they print rates), so all run. After each test, the chain must cover every event.
    """

    originator_id_type = "uuid"

    def setUp(self) -> None:
        super().setUp()
        self.tmp = tempfile.TemporaryDirectory()
        self.recorders: list[ChainedSQLiteApplicationRecorder] = []

    def tearDown(self) -> None:
        try:
            for recorder in self.recorders:
                assert_chain_complete(recorder)
        finally:
            for recorder in self.recorders:
                recorder.datastore.close()
            self.tmp.cleanup()
            super().tearDown()

    def create_recorder(self) -> ChainedSQLiteApplicationRecorder:
        datastore = sqlite_datastore(str(Path(self.tmp.name) / "events.db"),
                                     originator_id_type=self.originator_id_type)
        recorder = ChainedSQLiteApplicationRecorder(datastore)
        recorder.create_table()
        self.recorders.append(recorder)
        return recorder


class TestChainedSQLiteRecorderTextIDs(TestChainedSQLiteRecorder):
    originator_id_type = "text"

    def new_originator_id(self) -> str:
        return f"test-{uuid.uuid4()}"


class TestChainedPostgresRecorder(
        ApplicationRecorderTestCase[ChainedPostgresApplicationRecorder]):
    """The library's application recorder tests, on a fresh PostgreSQL database."""

    originator_id_type = "uuid"
    enable_db_functions = False

    def setUp(self) -> None:
        super().setUp()
        self.dbname = create_pg_database()
        self.datastore = pg_datastore(self.dbname, originator_id_type=self.originator_id_type,
                                      enable_db_functions=self.enable_db_functions)
        self.recorders: list[ChainedPostgresApplicationRecorder] = []

    def tearDown(self) -> None:
        try:
            for recorder in self.recorders:
                assert_chain_complete(recorder)
        finally:
            self.datastore.close()
            drop_pg_database(self.dbname)
            super().tearDown()

    def create_recorder(self) -> ChainedPostgresApplicationRecorder:
        recorder = ChainedPostgresApplicationRecorder(self.datastore)
        recorder.create_table()
        self.recorders.append(recorder)
        return recorder


class TestChainedPostgresRecorderTextIDs(TestChainedPostgresRecorder):
    originator_id_type = "text"

    def new_originator_id(self) -> str:
        return f"test-{uuid.uuid4()}"


class TestChainedPostgresRecorderWithDbFunctions(TestChainedPostgresRecorder):
    """POSTGRES_ENABLE_DB_FUNCTIONS must not bypass the chain."""

    enable_db_functions = True


# --- (b) the chain's own guarantees, on both stores ----------------------------------------

@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """("sqlite", file path) or ("postgres", database name), fresh for this test."""
    if request.param == "sqlite":
        yield "sqlite", str(tmp_path / "ledger.db")
        return
    name = create_pg_database()
    try:
        yield "postgres", name
    finally:
        drop_pg_database(name)


def open_recorder(store: tuple[str, str], *, chained: bool = True, **kwargs: Any) -> Any:
    kind, where = store
    if kind == "sqlite":
        cls = ChainedSQLiteApplicationRecorder if chained else SQLiteApplicationRecorder
        recorder = cls(sqlite_datastore(where, **kwargs))
    else:
        cls = ChainedPostgresApplicationRecorder if chained else PostgresApplicationRecorder
        recorder = cls(pg_datastore(where, **kwargs))
    recorder.create_table()
    return recorder


@pytest.fixture
def recorder(store: tuple[str, str]) -> Iterator[Any]:
    recorder = open_recorder(store)
    yield recorder
    recorder.datastore.close()


def counts(recorder: Any) -> tuple[int, int]:
    return (len(recorder.select_notifications(None, 10**9)),
            len(recorder.select_chain(0, 10**9)))


def test_inserts_with_and_without_exports_chain_from_genesis(recorder):
    assert recorder.chain_head() is None
    exports: dict[int, dict[str, Any]] = {}
    oid = uuid.uuid4()
    assert recorder.insert_events([event(oid, 1), event(oid, 2)]) == [1, 2]
    batch = [event(oid, 3), event(None, 1, b"\x00\xff")]
    given = [export_of(), export_of(sources=[{"url": "https://example.org"}])]
    ids = recorder.insert_events(batch, exports=given)
    exports.update(zip(ids, given, strict=True))
    assert recorder.insert_events([]) in ([], None)
    recorder.insert_events([event()], exports=None)
    last = export_of()
    exports[recorder.insert_events([event()], exports=[last])[0]] = last

    rows = assert_chain_complete(recorder, exports)
    assert len(rows) == 6
    value = GENESIS
    for row in rows:
        value = chain_next(value, row.event_hash)
    assert value == rows[-1].chain
    assert recorder.positions_of([last["id"], given[0]["id"], "missing"]) == {
        last["id"]: rows[-1].position, given[0]["id"]: rows[2].position}
    assert recorder.select_chain(4, 1) == [rows[4]]


def test_a_failed_insert_leaves_neither_events_nor_chain(recorder):
    oid = uuid.uuid4()
    first = export_of()
    [position] = recorder.insert_events([event(oid, 1)], exports=[first])
    before = counts(recorder)
    head = recorder.chain_head()

    # A duplicate originator version in the batch, and one clashing with a stored event.
    with pytest.raises(IntegrityError):
        recorder.insert_events([event(), event(oid, 2), event(oid, 2)])
    with pytest.raises(IntegrityError):
        recorder.insert_events([event(), event(oid, 1)])
    # An event id already in the chain: the chain insert fails after the events went in.
    with pytest.raises(IntegrityError):
        recorder.insert_events([event(), event()], exports=[export_of(), {"id": first["id"]}])
    # A failure in Python while hashing, after the event rows were inserted.
    with pytest.raises(TypeError):
        recorder.insert_events([event()], exports=[export_of(data={"bad": {1, 2}})])
    # Exports that do not match the events are refused before anything is written.
    with pytest.raises(ChainError):
        recorder.insert_events([event(), event()], exports=[export_of()])
    with pytest.raises(ChainError):
        recorder.insert_events([event()], exports=[{"type": "no id"}])

    assert counts(recorder) == before
    assert recorder.chain_head() == head
    recorder.insert_events([event(oid, 2)])
    assert len(assert_chain_complete(recorder, {position: first})) == 2


def test_concurrent_threads_keep_one_unbroken_chain(recorder):
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for _ in range(n):
                recorder.insert_events([event(), event()], exports=[export_of(), export_of()])
                recorder.insert_events([event()])
        except BaseException as e:  # reported by the assertion below
            errors.append(e)

    threads = [threading.Thread(target=write, args=(25,)) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    rows = recorder.select_chain(0, 10**6)
    assert len(rows) == 6 * 25 * 3
    assert [r.position for r in rows] == [n.id for n in
                                          recorder.select_notifications(None, 10**6)]
    assert first_break(rows) is None


def _write_from_process(store: tuple[str, str], inserts: int) -> None:
    recorder = open_recorder(store)
    try:
        for _ in range(inserts):
            recorder.insert_events([event()], exports=[export_of()])
    finally:
        recorder.datastore.close()


def test_concurrent_processes_keep_one_unbroken_chain(store):
    recorder = open_recorder(store)
    try:
        ctx = multiprocessing.get_context("spawn")
        processes = [ctx.Process(target=_write_from_process, args=(store, 50))
                     for _ in range(4)]
        for p in processes:
            p.start()
        for p in processes:
            p.join(timeout=300)
        assert [p.exitcode for p in processes] == [0, 0, 0, 0]
        rows = recorder.select_chain(0, 10**6)
        assert len(rows) == 200
        assert [r.seq for r in rows] == list(range(1, 201))
        assert [r.position for r in rows] == [n.id for n in
                                              recorder.select_notifications(None, 10**6)]
        assert first_break(rows) is None
    finally:
        recorder.datastore.close()


def test_backfill_starts_the_chain_of_an_older_ledger(store):
    plain = open_recorder(store, chained=False)
    plain.insert_events([event(), event(), event()])
    notifications = plain.select_notifications(None, 100)
    plain.datastore.close()

    recorder = open_recorder(store)
    try:
        rows = link(GENESIS, 0, [(n.id, None, raw_event_hash(n.id, n)) for n in notifications])
        with pytest.raises(ChainError):  # does not cover every stored event
            recorder.insert_chain_rows(rows[:2])
        with pytest.raises(ChainError):  # does not link from genesis
            recorder.insert_chain_rows([rows[0], rows[2]])
        assert recorder.chain_head() is None
        recorder.insert_chain_rows(rows)
        with pytest.raises((ChainError, IntegrityError)):  # only ever starts a chain
            recorder.insert_chain_rows(rows)
        recorder.insert_events([event()])
        assert len(assert_chain_complete(recorder)) == 4
    finally:
        recorder.datastore.close()


def test_the_factory_builds_the_chained_recorder(store):
    kind, where = store
    env = {"PERSISTENCE_MODULE": f"eventsourcing.{kind}", "CREATE_TABLE": "y"}
    if kind == "sqlite":
        cls: type = ChainedSQLiteApplicationRecorder
        env["SQLITE_DBNAME"] = where
    else:
        cls = ChainedPostgresApplicationRecorder
        settings = pg_settings(where)
        env.update({f"POSTGRES_{k.upper()}": str(v) for k, v in settings.items()},
                   POSTGRES_ENABLE_DB_FUNCTIONS="y")
    env = {f"BLOCKLEDGER_{k}": v for k, v in env.items()}
    env["BLOCKLEDGER_APPLICATION_RECORDER_TOPIC"] = get_topic(cls)
    factory = InfrastructureFactory.construct(Environment("blockledger", env))
    try:
        recorder = factory.application_recorder()
        assert type(recorder) is cls
        given = export_of()
        [position] = recorder.insert_events([event()], exports=[given])
        assert len(assert_chain_complete(recorder, {position: given})) == 1
        expected = "stored_events_chain" if kind == "sqlite" else "blockledger_events_chain"
        assert recorder.chain_table_name == expected
    finally:
        factory.close()
