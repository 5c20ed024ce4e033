"""Bulk import: streamed in batches, all or nothing across batches, resumable with
--batch-commit, memory flat in the size of the file, and the same rules as recording one
event at a time."""

from __future__ import annotations

import sqlite3
import sys
import tracemalloc
from contextlib import closing
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.errors import LedgerError
from domain.fact import Fact
from ledger.application import open_ledger
from ledger.bulk import BULK_CACHE_KIB, Bulk, one_transaction
from ledger.interchange import read_facts
from ledger.storage import parse_target
from projections.importing import import_facts
from projections.views import Views
from tests.clitools import count, run, run_json
from tests.test_bitemporal import _step_fact, scripts
from tests.test_import_scaling import _creation, _step

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from synthetic import events as synthetic_events
from synthetic import long_histories, spread


def _write(path: Path, objects: list[dict]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(o) + b"\n" for o in objects))
    return path


def _refused_at(objects: list[dict], index: int) -> list[dict]:
    """The lines with line ``index + 1`` made a refusal: an unblock of an order never made."""
    bad = dict(objects[index], type="unblocked", subject="no-such-order", data={})
    return [*objects[:index], bad, *objects[index + 1:]]


class TestAllOrNothing:
    """The default mode: one transaction across every batch."""

    def test_a_refusal_in_a_late_batch_writes_nothing(self, runner, db, tmp_path):
        """Batches of 10: a refused line 95 fails the import with exit 1, naming the line,
        and nothing of the nine batches before it is in the ledger."""
        path = _write(tmp_path / "in.jsonl", _refused_at(list(synthetic_events(120)), 94))
        result = run(runner, db, "import", str(path), "--batch-size", "10")
        assert result.exit_code == 1
        assert result.stderr.startswith("error: line 95: refused:")
        assert result.stderr.count("\n") == 1
        assert count(db) == 0

    def test_a_bad_line_in_a_late_batch_writes_nothing(self, runner, db, tmp_path):
        """A malformed line 57 fails with exit 2 naming the line and field; nothing written."""
        objects = list(synthetic_events(80))
        objects[56] = dict(objects[56], occurred_at="yesterday")
        result = run(runner, db, "import", str(_write(tmp_path / "in.jsonl", objects)),
                     "--batch-size", "10")
        assert result.exit_code == 2
        assert result.stderr.startswith("error: line 57, field 'occurred_at':")
        assert count(db) == 0

    def test_a_whole_import_in_batches_equals_one_batch(self, runner, tmp_path):
        """Batches of 7 give the same status and history as one batch."""
        path = _write(tmp_path / "in.jsonl", list(synthetic_events(200)))
        small, whole = str(tmp_path / "small.db"), str(tmp_path / "whole.db")
        assert run(runner, small, "import", str(path), "--batch-size", "7").exit_code == 0
        assert run(runner, whole, "import", str(path)).exit_code == 0
        for db in (small, whole):
            lag = run_json(runner, db, "projections", "status")
            assert lag["history"]["lag"] == lag["status"]["lag"] == 0
        assert run_json(runner, small, "status") == run_json(runner, whole, "status")
        strip = [{k: v for k, v in e.items() if k != "recorded_at"}
                 for e in run_json(runner, small, "history")["events"]]
        assert strip == [{k: v for k, v in e.items() if k != "recorded_at"}
                         for e in run_json(runner, whole, "history")["events"]]


class TestBatchCommit:
    """--batch-commit: each batch commits; a re-run resumes."""

    def test_a_refusal_keeps_earlier_batches_and_a_rerun_resumes(self, runner, db, tmp_path):
        """A refused line 45 keeps the four batches of 10 before it; once the line is
        fixed, re-running imports the rest and skips what landed."""
        objects = list(synthetic_events(90))
        path = _write(tmp_path / "in.jsonl", _refused_at(objects, 44))
        result = run(runner, db, "import", str(path), "--batch-commit", "--batch-size", "10")
        assert result.exit_code == 1 and "line 45" in result.stderr
        assert count(db) == 40
        _write(path, objects)
        result = run(runner, db, "import", str(path), "--batch-commit", "--batch-size", "10")
        assert result.exit_code == 0, result.output
        assert "imported 50 events (40 already in the ledger, skipped)" in result.stdout
        assert count(db) == 90


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(script=scripts())
def test_bulk_checks_exactly_as_recording_one_at_a_time(tmp_path_factory, script):
    """For generated scripts, every step the bulk path accepts or refuses (with the same
    message) is accepted or refused by ``Ledger.record``, and the stored events are the same
    (originator, version, topic, and state but for the recording time)."""
    facts, steps = script
    root = tmp_path_factory.mktemp("bulk")
    one, bulk = parse_target(str(root / "one.db")), parse_target(str(root / "bulk.db"))
    with open_ledger(one, create=True) as a, open_ledger(bulk, create=True) as b:
        a.record(facts, operator="t")
        import_facts(b, enumerate(facts, start=1), operator="t")
        recorded = list(facts)
        for step in steps:
            fact = _step_fact(step, recorded)
            outcomes = []
            for write in (lambda f: a.record([f], operator="t"),
                          lambda f: import_facts(b, [(1, f)], operator="t")):
                try:
                    write(fact)
                    outcomes.append("ok")
                except LedgerError as error:
                    outcomes.append(str(error).removeprefix("line 1: "))
            assert outcomes[0] == outcomes[1]
            if outcomes[0] == "ok":
                recorded.append(fact)
        assert _stored(a) == _stored(b)
        assert Views(b).lag()["status"]["lag"] == 0


def _stored(ledger) -> list[tuple]:
    out = []
    for n in ledger.recorder.select_notifications(0, 10_000, inclusive_of_start=False):
        state = orjson.loads(n.state)
        del state["recorded_at"]
        out.append((n.originator_id, n.originator_version, n.topic, state))
    return out


def test_memory_is_flat_in_the_size_of_the_file(tmp_path):
    """The peak of Python allocations while importing 20,000 lines is not much more than
    while importing 2,000 (batches of 500, 200 subjects kept): nothing is held per line."""
    peaks = {}
    for n in (2_000, 20_000):
        path = _write(tmp_path / f"{n}.jsonl", list(synthetic_events(n)))
        with open_ledger(parse_target(str(tmp_path / f"{n}.db")), create=True) as ledger, \
                path.open("rb") as lines:
            tracemalloc.start()
            import_facts(ledger, read_facts(lines), operator="t", batch_size=500,
                         remembered=200)
            peaks[n] = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            assert ledger.count() == n
    # Per line, the peak grows by what the bounded caches take in as they fill (about
    # 110 bytes, ``aggregate_id``'s above all), far from the kilobyte of a fact held. (A
    # ratio of the two peaks stopped telling the two apart once a batch's stored states
    # were their own size rather than orjson's 4 KiB buffers: the fixed part fell by 2 MB.)
    assert peaks[20_000] - peaks[2_000] < 250 * 18_000, peaks


def test_subjects_forgotten_within_a_batch_are_read_back_with_its_unwritten_facts(tmp_path):
    """One batch of 1,000 lines over 50 platforms and their orders, all 100 subjects made
    first, then their facts round robin, while 10 subjects are remembered: a subject made
    in the batch and forgotten before the batch is written is read back from the store and
    the batch's own facts (it was refused as never made)."""
    path = _write(tmp_path / "in.jsonl", list(spread(1_000, 50)))
    with open_ledger(parse_target(str(tmp_path / "l.db")), create=True) as ledger, \
            path.open("rb") as lines:
        done = import_facts(ledger, read_facts(lines), operator="t", batch_size=1_000,
                            remembered=10)
        assert done.recorded == ledger.count() == 1_000


def test_checking_memory_is_flat_in_the_length_of_histories(tmp_path):
    """The peak of Python allocations while ``Bulk`` checks and writes 8,000 lines of 40
    subjects, in random valid-time order, is not much more than for 2,000 of them (batches
    of 500): the subjects kept let go of their facts once written (``Timeline.compact``).
    (The views' part of an import, which folds each changed platform's whole history
    again for its status, is not measured here: its peak grows with those histories.)"""
    peaks = {}
    for n in (2_000, 8_000):
        facts = list(read_facts(iter(orjson.dumps(o) + b"\n" for o in long_histories(
            n, 40, shuffled=True))))
        with open_ledger(parse_target(str(tmp_path / f"{n}.db")), create=True) as ledger:
            bulk = Bulk(ledger, "t")
            tracemalloc.start()
            for i in range(0, n, 500):
                bulk.record([fact for _, fact in facts[i:i + 500]])
            peaks[n] = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            assert ledger.count() == len(facts)
    # Per line, the peak may grow by what the bounded caches take in as they fill (tens of
    # bytes), far from the kilobyte of a fact held. (The ratio of the peaks, 1.15, failed at
    # 1.17 once a batch's stored states were their own size, not orjson's 4 KiB buffers:
    # the fixed part of the peak fell, not the growth.)
    assert peaks[8_000] - peaks[2_000] < 250 * 6_000, peaks


def test_a_sqlite_import_writes_with_a_larger_page_cache_and_gives_it_back(tmp_path):
    """Inside the import's transaction its connection has BULK_CACHE_KIB of page cache
    (the default 2 MiB slowed a million-event import by a tenth); after it, that
    connection, back in the library's pool, has the size it had."""
    path = _write(tmp_path / "in.jsonl", list(synthetic_events(600)))
    inside: list[int] = []

    def cache_size(datastore) -> int:
        with datastore.get_connection(commit=False) as conn:
            return conn._sqlite_conn.execute("PRAGMA cache_size").fetchone()[0]

    with open_ledger(parse_target(str(tmp_path / "l.db")), create=True) as ledger, \
            path.open("rb") as lines:
        before = cache_size(ledger.recorder.datastore)
        import_facts(ledger, read_facts(lines), operator="t", batch_size=200,
                     progress=lambda _: inside.append(cache_size(ledger.recorder.datastore)))
        after = cache_size(ledger.recorder.datastore)
    assert inside == [-BULK_CACHE_KIB] * 3
    assert before == after != -BULK_CACHE_KIB


class TestViewTables:
    """The views' tables come with the ledger, and reads cope without them."""

    def test_opening_for_writing_creates_the_view_tables(self, tmp_path):
        """Before anything is committed, a ledger opened for writing has its view tables."""
        path = tmp_path / "ledger.db"
        with open_ledger(parse_target(str(path)), create=True):
            pass
        with closing(sqlite3.connect(path)) as conn:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        assert {"bl_view_history", "bl_view_status"} <= tables

    def test_a_ledger_without_view_tables_reads(self, runner, tmp_path, example):
        """Events committed but the view tables gone (a kill before an older version made
        them): 'projections status' shows empty views behind, reads answer, and the first
        read that catches up creates them."""
        db = str(tmp_path / "ledger.db")
        assert run(runner, db, "import", str(example)).exit_code == 0
        with closing(sqlite3.connect(db)) as conn, conn:
            conn.execute("DROP TABLE bl_view_history")
            conn.execute("DROP TABLE bl_view_status")
            conn.execute("DELETE FROM tracking WHERE application_name LIKE 'blockledger-view-%'")
        lag = run_json(runner, db, "projections", "status")
        assert lag["history"] == {"position": 0, "lag": 33, "rows": 0}
        assert run_json(runner, db, "status", "telegram")["state"] == "accessible"
        lag = run_json(runner, db, "projections", "status")
        assert lag["history"] == {"position": 33, "lag": 0, "rows": 33}


@pytest.mark.postgres
def test_a_default_batch_of_20000_events_imports_on_postgresql(pg_url, tmp_path):
    """One batch of the default size goes into PostgreSQL in one INSERT: in psycopg's
    pipeline mode that statement never completed (the server waited for the rest of it,
    the client for its results). Run in a thread so that a hang fails the test."""
    import threading

    path = _write(tmp_path / "in.jsonl", list(synthetic_events(20_000)))
    done: list[int] = []

    def work() -> None:
        with open_ledger(parse_target(pg_url), create=True) as ledger, path.open("rb") as lines:
            done.append(import_facts(ledger, read_facts(lines), operator="t").recorded)

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    worker.join(timeout=240)
    assert done == [20_000], "the import did not finish within 4 minutes"


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_bulk_checks_as_recording_in_any_valid_time_order_across_batches(tmp_path_factory,
                                                                        data):
    """A platform, an order and a request, then facts of each at random days in random
    order (back-dated ones among them, now and then a correction or retraction), each in
    its own batch of one ``Bulk`` that remembers one subject: subjects are forgotten and
    read back, and let go of their facts between batches (``Timeline.compact``), and still
    every fact is accepted or refused (with the same message) as ``Ledger.record`` does:
    as ``import`` writes a batch, in a transaction, added to the views, the rules from the
    other side checked at its end (``Bulk.check_write``), and the ``Bulk`` dropped after a
    refusal there (its subjects hold what was rolled back)."""
    draw = data.draw
    span = draw(st.sampled_from([8, 40]))
    creations = [_creation(kind, draw(st.integers(0, 3)))
                 for kind in ("platform", "order", "request")]
    root = tmp_path_factory.mktemp("bulk")
    one, bulk = parse_target(str(root / "one.db")), parse_target(str(root / "bulk.db"))
    with open_ledger(one, create=True) as a, open_ledger(bulk, create=True) as b:
        a.record(creations, operator="t")
        keeper = Bulk(b, "t", remembered=1)
        views = Views(b)
        keeper.record(creations)
        views.catch_up()

        def bulk_write(fact: Fact) -> None:
            try:
                with one_transaction(b, views.store):
                    keeper.start_write()
                    views.take(keeper.record([fact])[0])
                    keeper.check_write()
            except LedgerError:
                keeper.forget()
                raise
        accepted: dict[str, list[Fact]] = {f.kind.subject: [f] for f in creations}
        for _ in range(draw(st.integers(1, 30))):
            kind = draw(st.sampled_from(sorted(accepted)))
            fact = _step(kind, draw, accepted[kind], span)
            outcomes = []
            for write in (lambda f: a.record([f], operator="t"),
                          bulk_write):
                try:
                    write(fact)
                    outcomes.append("ok")
                except LedgerError as error:
                    outcomes.append(str(error))
            assert outcomes[0] == outcomes[1], fact.type
            if outcomes[0] == "ok":
                accepted[kind].append(fact)
        assert _stored(a) == _stored(b)
