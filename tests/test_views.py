"""The persisted views: equal to a full replay, rebuildable, resumable; library test cases."""

from __future__ import annotations

import json
import uuid
import weakref

import pytest
from eventsourcing.tests.persistence import TrackingRecorderTestCase
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.values import When
from ledger.application import open_ledger
from ledger.storage import parse_target
from ledger.views_postgres import PostgresViews
from ledger.views_sqlite import SQLiteViews
from projections.book import Book
from projections.collection import paused
from projections.status import platform_status
from projections.views import Views
from tests.clitools import run, run_json
from tests.test_bitemporal import _day, record_script, scripts


class TestLibraryTrackingCases:
    """The library's own tracking-recorder test case, against our view recorders."""

    def test_sqlite(self, tmp_path):
        """SQLiteViews passes TrackingRecorderTestCase unmodified."""
        from eventsourcing.sqlite import SQLiteDatastore

        class Case(TrackingRecorderTestCase):
            def create_recorder(self):
                recorder = SQLiteViews(SQLiteDatastore(str(tmp_path / f"{uuid.uuid4()}.db")))
                recorder.create_table()
                return recorder

        _run_case(Case)

    @pytest.mark.postgres
    def test_postgres(self, pg_url):
        """PostgresViews passes TrackingRecorderTestCase unmodified."""
        from eventsourcing.postgres import PostgresDatastore

        target = parse_target(pg_url).settings

        class Case(TrackingRecorderTestCase):
            def create_recorder(self):
                datastore = PostgresDatastore(
                    dbname=target["POSTGRES_DBNAME"], host=target["POSTGRES_HOST"],
                    port=target["POSTGRES_PORT"], user=target["POSTGRES_USER"],
                    password=target["POSTGRES_PASSWORD"])
                recorder = PostgresViews(datastore, tracking_table_name=f"t{uuid.uuid4().hex}")
                recorder.create_table()
                return recorder

        _run_case(Case)


def _run_case(case: type) -> None:
    import unittest

    suite = unittest.defaultTestLoader.loadTestsFromTestCase(case)
    result = unittest.TextTestRunner(verbosity=0).run(suite)
    assert result.wasSuccessful(), result.errors + result.failures


@pytest.fixture
def ledger_2017(runner, db, example):
    assert run(runner, db, "import", str(example)).exit_code == 0
    return db


def test_projections_status_shows_no_lag_after_a_write(runner, ledger_2017):
    """After import the views are caught up: lag 0, a row per event, a status per platform."""
    result = run(runner, ledger_2017, "projections", "status", "--json")
    assert result.exit_code == 0, result.output
    lag = json.loads(result.stdout)
    assert lag["history"] == {"position": 33, "lag": 0, "rows": 33}
    assert lag["status"]["lag"] == 0 and lag["status"]["rows"] == 1


def test_views_deleted_and_rebuilt_give_identical_answers(runner, ledger_2017):
    """Rebuilding every view from zero gives the same status and history."""
    before = [run_json(runner, ledger_2017, "status", "telegram", "--as-of", day)
              for day in ("2017-07-20", "2017-08-20")]
    history = run_json(runner, ledger_2017, "history", "telegram")
    now = run_json(runner, ledger_2017, "status")
    assert run(runner, ledger_2017, "projections", "rebuild").exit_code == 0
    assert [run_json(runner, ledger_2017, "status", "telegram", "--as-of", day)
            for day in ("2017-07-20", "2017-08-20")] == before
    assert run_json(runner, ledger_2017, "history", "telegram") == history
    assert run_json(runner, ledger_2017, "status") == now


def test_an_interrupted_rebuild_resumes(ledger_2017):
    """A rebuild stopped after its first batch resumes from its position."""
    import projections.views as module

    with open_ledger(parse_target(ledger_2017)) as ledger:
        views = Views(ledger)
        views.store.drop("history")
        views.store.drop("status")
        old, module.BATCH = module.BATCH, 10
        unindexed, module.FILL_UNINDEXED = module.FILL_UNINDEXED, 30  # as for a large one
        calls = []

        def stop(n):
            calls.append(n)
            raise KeyboardInterrupt

        try:
            with pytest.raises(KeyboardInterrupt):
                views.catch_up(progress=stop)
            assert views.store.position("history") == 10
            # A fill from zero goes without the indexes; the catch-up that ends it builds them.
            assert _history_indexes(views) == set()
            assert views.catch_up() == 23
            assert _history_indexes(views) == {"platform", "subject"}
        finally:
            module.BATCH, module.FILL_UNINDEXED = old, unindexed
        assert views.store.counts() == {"history": 33, "status": 1}


def _history_indexes(views: Views) -> set[str]:
    from ledger.views import FACTS

    if views.ledger.target.postgres:
        query = "SELECT indexname FROM pg_indexes WHERE tablename = ?"
    else:
        query = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
    prefix = f"{FACTS}_"
    return {name[len(prefix):] for (name,) in views.store._read(query, (FACTS,))
            if name.startswith(prefix) and name != f"{prefix}pkey"}


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(script=scripts(), days=st.lists(st.integers(0, 70), min_size=1, max_size=3),
       cut=st.floats(0, 1))
def test_views_equal_a_full_replay(tmp_path_factory, script, days, cut):
    """For generated ledgers, status from the views equals status from a full replay, at
    random as-of and as-known-at times."""
    facts, steps = script
    path = str(tmp_path_factory.mktemp("views") / "ledger.db")
    with open_ledger(parse_target(path), create=True) as ledger:
        record_script(ledger, facts, steps)
        views = Views(ledger)
        views.catch_up()
        entries = list(ledger.entries())
        known = entries[min(len(entries) - 1, int(cut * len(entries)))].fact.recorded_at
        for day in days:
            as_of = When.parse(_day(day), end_of_day=True)
            for k in (None, known):
                replayed = platform_status(Book(entries, as_known_at=k), "p", as_of=as_of)
                viewed = platform_status(views.book(platform="p", as_known_at=k), "p",
                                         as_of=as_of)
                assert viewed == replayed
        assert views.current_status("p") == [platform_status(Book(entries), "p")]



def test_an_encrypted_ledgers_view_index_holds_no_plaintext(tmp_path, example):
    """With a cipher key, the views' index columns hold keyed hashes, not references, and
    status and history still answer through them."""
    import sqlite3
    from contextlib import closing

    from ledger import encryption
    from ledger.interchange import read_facts
    from projections.importing import import_facts

    path = tmp_path / "ledger.db"
    target = parse_target(str(path), cipher_key=encryption.new_key())
    with open_ledger(target, create=True) as ledger, example.open("rb") as lines:
        import_facts(ledger, read_facts(lines), operator="t")
        views = Views(ledger)
        assert views.current_status("telegram")[0]["state"] == "accessible"
        as_of = When.parse("2017-07-20", end_of_day=True)
        assert platform_status(views.book(platform="telegram"), "telegram",
                               as_of=as_of)["state"] == "partially-blocked"
        assert [kind for kind, _ in views.subject_keys("kominfo-2017-07-14")] == ["order"]
        assert len(list(views.entries(subject=("order", "kominfo-2017-07-14")))) > 1
        views.rebuild()
        assert views.current_status("telegram")[0]["state"] == "accessible"
    with closing(sqlite3.connect(path)) as conn:
        rows = conn.execute("SELECT kind, subject, platform FROM bl_view_history "
                            "UNION ALL SELECT platform, '', '' FROM bl_view_status"
                            ).fetchall()
        bodies = b"".join(row[0] for row in conn.execute("SELECT body FROM bl_view_status"))
    values = {value for row in rows for value in row}
    for secret in ("telegram", "order", "platform", "kominfo-2017-07-14", "telegram-id-2017"):
        assert secret not in values
    assert b"telegram" not in bodies


def test_a_subject_kind_without_a_platform_has_history_and_no_status(tmp_path):
    """An operator (a kind that concerns no platform) is indexed under platform "", has
    its history, and adds no status row."""
    import base64

    from domain.fact import Fact

    path = str(tmp_path / "ledger.db")
    added = Fact.from_json({
        "type": "operator-added", "subject": "alice", "occurred_at": "2020-01-01",
        "sources": ["https://example.org/staff"],
        "data": {"public_key": base64.b64encode(bytes(32)).decode()}})
    with open_ledger(parse_target(path), create=True) as ledger:
        ledger.record([added], operator="t")
        views = Views(ledger)
        views.catch_up()
        assert views.subject_keys("alice") == [("operator", "")]
        [entry] = views.entries(subject=("operator", "alice"))
        assert entry.fact.type == "operator-added"
        assert views.store.counts() == {"history": 1, "status": 0}
        from projections.history import history

        assert [row["type"] for row in history(views.book(subject=("operator", "alice")),
                                               "alice")] == ["operator-added"]


def test_history_rows_built_in_sql_equal_those_built_in_python(db, example):
    """Where the ledger is not encrypted, the history rows are built in SQL from the events
    table: the same rows, byte for byte, as decoding and locating each event in Python, for
    every subject kind (amendments under their target's subject and platform, an operator
    under platform "")."""
    import base64

    from domain.fact import Fact
    from ledger.interchange import read_facts
    from ledger.views import FACTS
    from projections.importing import import_facts

    with open_ledger(parse_target(db), create=True) as ledger, example.open("rb") as lines:
        import_facts(ledger, read_facts(lines), operator="t")
        facts = {entry.fact.type: entry.fact for entry in ledger.entries()}
        source = ["https://example.org/a"]
        ledger.record([Fact.from_json(obj) for obj in (
            {"type": "retraction", "subject": "telegram", "occurred_at": "2020-01-02",
             "sources": source, "data": {"target": str(facts["statement-issued"].id),
                                         "reason": "wrong"}},
            {"type": "dispute", "subject": "telegram-id-2017", "occurred_at": "2020-01-02",
             "sources": source, "data": {"target": str(facts["meeting-held"].id),
                                         "claim": "it was not held"}},
            # Last: once an operator is registered, every later event must be signed.
            {"type": "operator-added", "subject": "alice", "occurred_at": "2020-01-01",
             "sources": source, "data": {"public_key": base64.b64encode(bytes(32)).decode()}},
        )], operator="t")
        views = Views(ledger)

        def rows():
            return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
                    for row in views.store._read(f"SELECT * FROM {FACTS} ORDER BY position")]

        views.store.drop("history")
        assert views._copy_history(None) == 36
        in_sql = rows()
        views.store.drop("history")
        views._forget()
        assert views._decode_history(None) == 36
        assert rows() == in_sql
    located = {(row[1], row[2], row[3]) for row in in_sql}
    assert ("operator", "alice", "") in located
    assert {(kind, platform) for kind, subject, platform in located
            if subject == "kominfo-2017-07-14"} == {("order", "telegram")}
    assert {(kind, platform) for kind, subject, platform in located
            if subject == "telegram-id-2017"} == {("request", "telegram")}


def test_a_history_view_of_the_earlier_layout_is_rebuilt(runner, ledger_2017):
    """A history view that still copies each event's bytes (its ``body`` column, the layout
    before the bodies were read from the events table) is dropped when the ledger is next
    opened for writing, and rebuilt to the same answers."""
    from ledger.views import FACTS

    history = run_json(runner, ledger_2017, "history", "telegram")
    with open_ledger(parse_target(ledger_2017)) as ledger:
        store = Views(ledger).store
        with store.datastore.transaction(commit=True) as c:
            store._run(c, f"DROP TABLE {FACTS}")
            store._run(c, f"CREATE TABLE {FACTS} (position BIGINT PRIMARY KEY, event_id TEXT "
                          "NOT NULL, kind TEXT NOT NULL, subject TEXT NOT NULL, platform TEXT "
                          "NOT NULL, body BYTEA NOT NULL)")
        assert store._read(f"SELECT body FROM {FACTS}") == []
    with open_ledger(parse_target(ledger_2017), create=True) as ledger:
        assert ledger.view_store().position("history") == 0
        with pytest.raises(Exception, match="body"):
            ledger.view_store()._read(f"SELECT body FROM {FACTS}")
    assert run_json(runner, ledger_2017, "history", "telegram") == history
    lag = json.loads(run(runner, ledger_2017, "projections", "status", "--json").stdout)
    assert lag["history"] == {"position": 33, "lag": 0, "rows": 33}


def test_a_book_is_freed_without_the_cyclic_collector(ledger_2017):
    """A book, its folds asked for, holds no reference cycle: reference counting frees it.
    Imports and rebuilds pause the cyclic collector (projections.collection) and build a
    book per platform; a cyclic book was garbage for the collector to find, 5 us an event."""
    with open_ledger(parse_target(ledger_2017)) as ledger:
        entries = list(Views(ledger).entries())
    with paused():
        book = Book(entries)
        assert platform_status(book, "telegram")["orders"]
        assert book.related("telegram", "order")
        freed = weakref.ref(book)
        del book
        assert freed() is None


def test_status_rows_of_another_release_are_neither_read_nor_called_altered(runner,
                                                                           ledger_2017):
    """A release that changes the status's shape bumps STATUS_FORMAT: rows kept by the
    one before are read by nobody (reads fold afresh), verify does not call them altered,
    and the next catch-up writes every row anew (its tracking row names the format)."""
    import orjson

    from ledger import views as view_tables

    answer = run_json(runner, ledger_2017, "status", "telegram")
    with open_ledger(parse_target(ledger_2017), create=True) as ledger:
        store = Views(ledger).store
        old = []
        for key, body in store.status_rows():
            kept = orjson.loads(body)
            kept["format"] = view_tables.STATUS_FORMAT - 1
            kept["status"]["state"] = "blocked"  # what an old release might have said
            old.append((key, orjson.dumps(kept)))
        mark = "%s" if ledger.target.postgres else "?"
        with store.datastore.transaction(commit=True) as c:
            c.execute("DELETE FROM bl_view_status")
            c.executemany(f"INSERT INTO bl_view_status VALUES ({mark}, {mark})", old)
            c.execute(f"DELETE FROM {store._tracking_table} WHERE application_name = {mark}",
                      (view_tables.tracking_name("status"),))
        assert store.position("status") == 0
    assert run(runner, ledger_2017, "verify").exit_code == 0
    assert run_json(runner, ledger_2017, "status", "telegram") == answer
    with open_ledger(parse_target(ledger_2017)) as ledger:
        store = Views(ledger).store
        formats = {orjson.loads(body).get("format") for _, body in store.status_rows()}
        assert formats == {view_tables.STATUS_FORMAT} and store.position("status") > 0


#: The shape of a kept status, by STATUS_FORMAT. A change to what platform_status gives
#: (a field added, renamed or meaning something else) must bump ledger.views.STATUS_FORMAT
#: and add its shape here: rows kept by the release before are then folded afresh instead
#: of being read, and verify does not call them altered.
STATUS_SHAPES = {
    2: {"status": ["as_known_at", "as_of", "blocked_targets", "disputed", "divergence",
                   "divergent", "name", "normalizations", "observed", "orders", "penalties",
                   "platform", "state"],
        "order": ["authority", "blocked_targets", "disputed", "ref", "state"],
        "normalization": ["conditions", "disputed", "ref", "state"]},
    3: {"status": ["as_known_at", "as_of", "blocked_targets", "disputed", "divergence",
                   "divergent", "jurisdictions", "name", "normalizations", "observed",
                   "orders", "penalties", "platform", "state"],
        "order": ["authority", "blocked_targets", "disputed", "jurisdiction", "ref",
                  "regional", "state"],
        "normalization": ["conditions", "disputed", "ref", "state"]},
}
# 4: the same shape; a jurisdiction's answer keeps the latest observation of a target made
# there, and no request naming no order yet made (its meaning changed, not its shape).
STATUS_SHAPES[4] = STATUS_SHAPES[3]
# 5: the same shape; divergence and penalties' places mean something else (ledger.views).
STATUS_SHAPES[5] = STATUS_SHAPES[3]


def test_the_status_shape_is_the_one_its_format_names(ledger_2017):
    from ledger.views import STATUS_FORMAT

    with open_ledger(parse_target(ledger_2017)) as ledger:
        status = platform_status(Book(ledger.entries()), "telegram")
    shape = {"status": sorted(status), "order": sorted(status["orders"][0]),
             "normalization": sorted(status["normalizations"][0])}
    assert STATUS_FORMAT in STATUS_SHAPES, "add the new format's shape to STATUS_SHAPES"
    assert shape == STATUS_SHAPES[STATUS_FORMAT], (
        "the status changed shape: bump ledger.views.STATUS_FORMAT and record the shape")


def test_a_platform_whose_registration_is_retracted_has_no_status_row(runner, db, tmp_path):
    """H3 (issue 15): retracting a platform's only event, its registration (the README's
    remedy for a forged one), left the status view unable to catch up ("platform foo is not
    registered"): the retraction warned, and every later import and rebuild failed. A
    platform not registered now has no status row: its row is deleted, and verify agrees."""
    for ref in ("foo", "bar"):
        assert run(runner, db, "record", "platform-registered", ref, "--at", "2024-01-01",
                   "--source", "s", "--name", ref, "--target", f"{ref}.example").exit_code == 0
    with open_ledger(parse_target(db)) as ledger:
        assert [s["platform"] for s in Views(ledger).current_status()] == ["bar", "foo"]
    exported = [json.loads(line) for line in run(runner, db, "export").stdout.splitlines()]
    foo = next(obj["id"] for obj in exported if obj["subject"] == "foo")
    done = run(runner, db, "record", "retraction", "foo", "--at", "2024-02-01", "--source",
               "s", "--target", foo, "--reason", "forged")
    assert done.exit_code == 0 and "warning" not in done.stderr, done.stderr
    with open_ledger(parse_target(db)) as ledger:
        assert [s["platform"] for s in Views(ledger).current_status()] == ["bar"]
    (tmp_path / "a.csv").write_text("Updated: 2024-01-15 10:00:00 +0000\n;x.example.ru;;o;D-1;\n")
    assert run(runner, db, "import-registry", "--format", "rkn", "--authority", "Roskomnadzor",
               "--jurisdiction", "RU", str(tmp_path / "a.csv")).exit_code == 0
    assert run(runner, db, "projections", "rebuild", "status").exit_code == 0
    verified = run(runner, db, "verify")
    assert verified.exit_code == 0 and verified.stdout.startswith("ok"), verified.output
    with open_ledger(parse_target(db)) as ledger:
        assert [s["platform"] for s in Views(ledger).current_status()] == ["bar", "example.ru"]
