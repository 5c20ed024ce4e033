"""The tamper matrix of issue "Trust that holds": an attacker with a copy of the database
edits what is outside the hash (views, tracking positions, unhashed columns, kept
checkpoints, record times), on each store, plaintext and encrypted. Every edit that would
change an answer fails ``verify`` (exit 3, naming the part); reads that meet it stop in
one line (exit 3) where a cheap check can see it, never a traceback or a false answer
that a check could have caught.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta

import pytest

from ledger.canonical import hash_stored
from ledger.chain import GENESIS, chain_next
from ledger.encryption import KEY_VARIABLE, new_key
from tests.clitools import key_pair, one_line_error, run, run_json
from tests.test_integrity import Store

KEY = new_key()


@pytest.fixture(params=["plain", "encrypted"])
def ledger(request, runner, monkeypatch, db, example) -> str:
    if request.param == "encrypted":
        monkeypatch.setenv(KEY_VARIABLE, KEY)
    assert run(runner, db, "import", str(example)).exit_code == 0
    return db


@pytest.fixture
def plain(runner, db, example) -> str:
    assert run(runner, db, "import", str(example)).exit_code == 0
    return db


def failed(runner, db, part: str) -> dict:
    """verify fails with exit 3, naming ``part`` in its first problem."""
    result = run(runner, db, "verify", "--json")
    out = json.loads(result.stdout)
    assert result.exit_code == 3 and out["ok"] is False, out
    assert out["reason"] and part in out["reason"], out
    one_line_error(run(runner, db, "verify"), 3)
    return out


def views_store(db: str) -> Store:
    store = Store(db)
    store.tracking = "tracking"
    if store.pg:
        [(store.tracking,)] = store.sql(
            "SELECT table_name FROM information_schema.tables WHERE "
            "strpos(table_name, 'tracking') > 0 AND table_schema = current_schema()")
    return store


def position_of(runner, db, type_: str) -> int:
    events = [json.loads(line) for line in run(runner, db, "export").stdout.splitlines()]
    return next(e["position"] for e in events if e["type"] == type_)


# --- views ---------------------------------------------------------------------------------


def test_a_deleted_history_row_fails_verify(runner, ledger):
    lift = position_of(runner, ledger, "unblocked")
    views_store(ledger).sql("DELETE FROM bl_view_history WHERE position = ?", (lift,))
    out = failed(runner, ledger, "views")
    assert out["first_bad_position"] == lift and "deleted" in out["reason"]


def test_an_altered_history_row_fails_verify(runner, ledger):
    lift = position_of(runner, ledger, "unblocked")
    views_store(ledger).sql("UPDATE bl_view_history SET platform = 'other' WHERE position = ?",
                            (lift,))
    assert failed(runner, ledger, "views")["first_bad_position"] == lift


def test_an_edited_status_row_fails_verify_and_reads(runner, ledger, monkeypatch):
    store = views_store(ledger)
    [(key, body)] = [row for row in store.sql("SELECT platform, body FROM bl_view_status")
                     if b"accessible" in bytes(row[1]) or len(store.sql(
                         "SELECT platform FROM bl_view_status")) == 1]
    body = bytes(body)
    if b'"state":"accessible"' in body:  # plaintext: a lie that still parses
        store.sql("UPDATE bl_view_status SET body = ? WHERE platform = ?",
                  (body.replace(b'"state":"accessible"', b'"state":"blocked"'), key))
        failed(runner, ledger, "status row of platform telegram differs")
    else:  # encrypted, edited without the key: no read answers from it
        flipped = bytearray(body)
        flipped[-1] ^= 1
        store.sql("UPDATE bl_view_status SET body = ? WHERE platform = ?",
                  (bytes(flipped), key))
        line = one_line_error(run(runner, ledger, "status", "telegram"), 3)
        assert "status view" in line and "verify" in line
        failed(runner, ledger, "views")
    assert run(runner, ledger, "projections", "rebuild").exit_code == 0
    assert run_json(runner, ledger, "status", "telegram")["state"] == "accessible"
    assert run(runner, ledger, "verify").exit_code == 0


def test_a_status_row_swapped_to_another_platform_is_refused_by_reads(runner, ledger):
    assert run(runner, ledger, "record", "platform-registered", "other", "--at", "2017-01-01",
               "--source", "x", "--name", "Other", "--target", "other.example").exit_code == 0
    store = views_store(ledger)
    rows = dict((k, bytes(b)) for k, b in store.sql("SELECT platform, body FROM bl_view_status"))
    keys = sorted(rows)
    store.sql("UPDATE bl_view_status SET body = ? WHERE platform = ?", (rows[keys[1]], keys[0]))
    store.sql("UPDATE bl_view_status SET body = ? WHERE platform = ?", (rows[keys[0]], keys[1]))
    one_line_error(run(runner, ledger, "status", "telegram"), 3)
    failed(runner, ledger, "views")


@pytest.mark.parametrize("view", ["history", "status"])
def test_a_moved_tracking_position_fails_verify(runner, ledger, view):
    store = views_store(ledger)
    from ledger.views import tracking_name

    store.sql(f"UPDATE {store.tracking} SET notification_id = notification_id + 1000 "
              "WHERE application_name = ?", (tracking_name(view),))
    failed(runner, ledger, "views")
    if view == "status":
        one_line_error(run(runner, ledger, "status", "telegram"), 3)


# --- unhashed columns ------------------------------------------------------------------------


def test_an_edited_topic_runs_no_code_and_fails(runner, ledger, capfd):
    store = Store(ledger)
    store.sql(f"UPDATE {store.events} SET topic = 'this:Zen' WHERE {store.pos} = 3")
    # The views answer from the events' hashed bytes, which name their type: unchanged.
    assert run(runner, ledger, "projections", "rebuild").exit_code == 0
    assert run_json(runner, ledger, "status", "telegram")["state"] == "accessible"
    # Whatever reads the log itself stops at the event, resolving nothing.
    for command in (["report", "provenance", "telegram"], ["export"]):
        line = one_line_error(run(runner, ledger, *command), 3)
        assert "topic" in line and "position 3" in line
    assert "Beautiful is better than ugly" not in capfd.readouterr().out
    assert failed(runner, ledger, "events")["first_bad_position"] == 3


def test_an_edited_originator_id_cannot_bring_a_lifted_order_back(runner, ledger):
    store = Store(ledger)
    lift = position_of(runner, ledger, "unblocked")
    store.sql(f"UPDATE {store.events} SET originator_id = ? WHERE {store.pos} = ?",
              (uuid.uuid4() if store.pg else uuid.uuid4().hex, lift))
    assert failed(runner, ledger, "events")["first_bad_position"] == lift
    # A write on the order meets it: one line, exit 3.
    line = one_line_error(run(runner, ledger, "record", "access-observed",
                              "kominfo-2017-07-14", "--at", "2017-08-20", "--source", "x",
                              "--target", "t.me", "--accessible"), 3)
    assert "altered" in line


def test_an_edited_originator_version_fails(runner, ledger):
    store = Store(ledger)
    lift = position_of(runner, ledger, "unblocked")
    store.sql(f"UPDATE {store.events} SET originator_version = originator_version + 50 "
              f"WHERE {store.pos} = ?", (lift,))
    assert failed(runner, ledger, "events")["first_bad_position"] == lift


# --- damage ----------------------------------------------------------------------------------


def test_a_damaged_event_is_named_by_every_read(runner, plain):
    store = Store(plain)
    position = position_of(runner, plain, "unblocked")
    state = store.state(position)
    store.set_state(position, state.replace(b'"data":', b'"dada":'))
    for command in (["report", "provenance", "telegram"], ["export"],
                    ["status", "telegram", "--as-of", "2017-08-20"], ["history"]):
        result = run(runner, plain, *command)
        line = one_line_error(result, 3)
        assert f"position {position}" in line, (command, line)
    assert failed(runner, plain, "")["first_bad_position"] == position


# --- record time ---------------------------------------------------------------------------------


def _rechain(store: Store) -> None:
    store.rechain()


def test_a_forged_record_time_fails_verify(runner, plain):
    store = Store(plain)
    state = store.state(20)
    at = state.index(b'"recorded_at":"') + len(b'"recorded_at":"')
    forged = state[:at] + b"2017-07-01T00:00:00+00:00" + state[state.index(b'"', at):]
    store.set_state(20, forged)
    _rechain(store)
    out = failed(runner, plain, "record-time")
    assert out["first_bad_position"] == 20


def _set_recorded_at(store: Store, position: int, text: bytes) -> None:
    state = store.state(position)
    at = state.index(b'"recorded_at":"') + len(b'"recorded_at":"')
    store.set_state(position, state[:at] + text + state[state.index(b'"', at):])


def test_a_kept_checkpoint_bounds_the_record_times_after_it(runner, plain, tmp_path):
    store = Store(plain)
    # A ledger whose events were recorded in 2020 (a consistent rewrite, before anyone
    # checkpointed it), then checkpointed now.
    [(last,)] = store.sql(f"SELECT MAX({store.pos}) FROM {store.events}")
    for position in range(1, last + 1):
        _set_recorded_at(store, position, b"2020-01-01T00:00:%02d+00:00" % (position % 60))
    _rechain(store)
    assert run(runner, plain, "projections", "rebuild").exit_code == 0
    assert run(runner, plain, "checkpoint", "-o", str(tmp_path / "cp")).exit_code == 0
    assert run(runner, plain, "record", "statement-issued", "telegram", "--at", "2017-08-11",
               "--source", "x", "--by", "K", "--summary", "s").exit_code == 0
    assert run(runner, plain, "verify").exit_code == 0
    # Recorded after the checkpoint, but claiming 2020 (after its predecessor: monotonic),
    # so only the kept checkpoint's time shows the lie.
    _set_recorded_at(store, last + 1, b"2020-01-02T00:00:00+00:00")
    _rechain(store)
    out = failed(runner, plain, "record-time")
    assert out["first_bad_position"] == last + 1 and "kept checkpoint 1" in out["reason"]


# --- re-chaining and checkpoints -------------------------------------------------------------


def test_init_will_not_rechain_over_kept_checkpoints(runner, plain, tmp_path):
    assert run(runner, plain, "checkpoint", "-o", str(tmp_path / "cp")).exit_code == 0
    store = Store(plain)
    store.delete(position_of(runner, plain, "unblocked"))
    store.sql(f"DELETE FROM {store.chain}")
    line = one_line_error(run(runner, plain, "init"), 3)
    assert "kept checkpoint 1" in line and "will not re-chain" in line
    assert store.sql(f"SELECT COUNT(*) FROM {store.chain}")[0][0] == 0
    failed(runner, plain, "")


def test_checkpoint_refuses_a_ledger_whose_views_lie(runner, plain, tmp_path):
    lift = position_of(runner, plain, "unblocked")
    views_store(plain).sql("DELETE FROM bl_view_history WHERE position = ?", (lift,))
    line = one_line_error(run(runner, plain, "checkpoint", "-o", str(tmp_path / "cp")), 3)
    assert "does not verify" in line and "views" in line
    assert not (tmp_path / "cp").exists()


def test_rechain_helper_is_the_chain_rule():
    """The attacker's re-chaining above is the ledger's own rule (so the tests show what a
    consistent rewrite achieves)."""
    assert chain_next(GENESIS, hash_stored(b'{"a":1,"recorded_at":"x"}', 1)) != GENESIS


# --- found by the hostile review --------------------------------------------------------------


def test_an_edited_chain_event_id_fails_verify_and_cannot_let_a_duplicate_in(runner, ledger,
                                                                            example):
    store = Store(ledger)
    store.sql(f"UPDATE {store.chain} SET event_id = ? WHERE position = 6",
              ("00000000-0000-0000-0000-000000000000",))
    out = failed(runner, ledger, "chain")
    assert out["first_bad_position"] == 6


def test_a_copy_rebuilds_views_a_prepared_target_already_holds(runner, plain, tmp_path):
    import sqlite3

    target = tmp_path / "prepared.db"
    with sqlite3.connect(target) as conn:
        conn.execute("CREATE TABLE bl_view_moves (platform TEXT NOT NULL, kind TEXT NOT "
                     "NULL, subject TEXT NOT NULL, position BIGINT NOT NULL, PRIMARY KEY "
                     "(platform, kind, subject))")
        conn.execute("INSERT INTO bl_view_moves VALUES ('x', 'order', "
                     "'kominfo-2017-07-14', 1)")
    assert run(runner, plain, "copy", "--to", str(target)).exit_code == 0
    assert run(runner, str(target), "verify").exit_code == 0
    assert run_json(runner, str(target), "status", "telegram")["state"] == "accessible"


def test_the_first_operator_must_be_a_recorder(runner, db, tmp_path):
    bob = key_pair(tmp_path, "bob")
    error = one_line_error(run(runner, db, "--operator", "bob", "--key", bob[0], "operator",
                               "add", "bob", "--public-key", bob[1], "--role", "auditor"), 1)
    assert "must be a recorder" in error


@pytest.mark.parametrize("table", ["bl_view_status", "stored_events"])
def test_a_body_stored_as_text_is_one_line_not_a_traceback(runner, tmp_path, example, table):
    import sqlite3

    db = str(tmp_path / "typed.db")
    assert run(runner, db, "import", str(example)).exit_code == 0
    with sqlite3.connect(db) as conn:
        column, where = ("body", "") if table == "bl_view_status" else ("state", " WHERE rowid = 5")
        conn.execute(f"UPDATE {table} SET {column} = CAST({column} AS TEXT){where}")
    for command in (["status", "telegram"], ["history", "telegram"], ["verify"]):
        result = run(runner, db, *command)
        if result.exit_code == 0:
            continue  # an answer that does not read the altered row
        one_line_error(result, 3)
    one_line_error(run(runner, db, "verify"), 3)


def test_an_edited_kept_checkpoint_signed_by_an_operator_fails_verify(runner, db, tmp_path,
                                                                    example):
    alice = key_pair(tmp_path, "alice")
    signed = ["--operator", "alice", "--key", alice[0]]
    assert run(runner, db, *signed, "operator", "add", "alice", "--public-key",
               alice[1]).exit_code == 0
    assert run(runner, db, *signed, "import", str(example)).exit_code == 0
    assert run(runner, db, *signed, "checkpoint", "-o", str(tmp_path / "cp")).exit_code == 0
    assert run(runner, db, "verify").exit_code == 0
    store = Store(db)
    table = f"{store.events}_checkpoints"
    [(note,)] = store.sql(f"SELECT note FROM {table}")
    lines = note.split("\n")
    at = next(i for i, line in enumerate(lines) if line.startswith("time "))
    lines[at] = "time 2017-08-01T00:00:00Z"  # claims the case was all known in 2017
    store.sql(f"UPDATE {table} SET note = ?", ("\n".join(lines),))
    out = failed(runner, db, "checkpoint")
    assert "signature by operator alice's key does not verify" in out["reason"]


def test_a_checkpointer_whose_clock_runs_behind_keeps_an_honest_note(runner, plain, tmp_path,
                                                                     monkeypatch):
    """Second hostile review: a checkpoint whose time came from a clock behind the writers'
    made verify fail for ever. The note's time is never before what it covers."""
    from datetime import datetime, timedelta

    import ledger.checkpointing

    class Behind(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.now(tz) - timedelta(minutes=20)

    monkeypatch.setattr(ledger.checkpointing, "datetime", Behind)
    assert run(runner, plain, "checkpoint", "-o", str(tmp_path / "cp")).exit_code == 0
    monkeypatch.undo()
    assert run(runner, plain, "record", "statement-issued", "telegram", "--at", "2017-08-11",
               "--source", "x", "--by", "K", "--summary", "s").exit_code == 0
    assert run(runner, plain, "verify").exit_code == 0


def test_an_old_kept_checkpoint_put_back_fails_verify_and_reports_cite_the_largest(
        runner, plain, tmp_path, example):
    """Second hostile review: an old note inserted as the newest made reports cite it, so
    the events after it (the lift) went missing from a report that proved "complete"."""
    fresh = str(tmp_path / "grown.db")
    lines = example.read_text().splitlines(keepends=True)
    (tmp_path / "first.jsonl").write_text("".join(lines[:25]))
    assert run(runner, fresh, "import", str(tmp_path / "first.jsonl")).exit_code == 0
    assert run(runner, fresh, "checkpoint", "-o", str(tmp_path / "a")).exit_code == 0
    assert run(runner, fresh, "import", str(example)).exit_code == 0
    assert run(runner, fresh, "checkpoint", "-o", str(tmp_path / "b")).exit_code == 0
    store = Store(fresh)
    table = f"{store.events}_checkpoints"
    store.sql(f"INSERT INTO {table} (tree_size, note) SELECT tree_size, note FROM {table} "
              "WHERE seq = 1")
    report = run_json_report(runner, fresh)
    assert report["checkpoint"]["tree_size"] == 33
    assert "unblocked" in {event["type"] for event in report["events"]}
    assert "kept checkpoint 3 covers 25 events" in failed(runner, fresh, "checkpoint")["reason"]


def run_json_report(runner, db) -> dict:
    result = run(runner, db, "report", "provenance", "kominfo-2017-07-14", "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_a_writer_behind_the_ledgers_clock_is_told_so(runner, plain):
    """Second hostile review: a writer whose clock ran behind the last record time was told
    of "repeated concurrent writes to the same subjects"."""
    store = Store(plain)
    [(last,)] = store.sql(f"SELECT MAX({store.pos}) FROM {store.events}")
    _set_recorded_at(store, last, b"2099-01-01T00:00:00+00:00")
    _rechain(store)
    error = one_line_error(run(runner, plain, "record", "statement-issued", "telegram",
                               "--at", "2017-08-11", "--source", "x", "--by", "K",
                               "--summary", "s"), 1)
    assert "clock is behind the ledger's" in error and "2099-01-01" in error


def test_a_kept_note_whose_time_is_before_what_it_covers_fails_verify(runner, plain,
                                                                      tmp_path):
    """Second hostile review: an unsigned kept note with its time moved four minutes back
    (within the writers' tolerance) passed, and reports gave contradictory bounds."""
    assert run(runner, plain, "checkpoint", "-o", str(tmp_path / "cp")).exit_code == 0
    store = Store(plain)
    table = f"{store.events}_checkpoints"
    [(note,)] = store.sql(f"SELECT note FROM {table}")
    lines = note.split("\n")
    at = next(i for i, line in enumerate(lines) if line.startswith("time "))
    moved = datetime.fromisoformat(lines[at][5:].replace("Z", "+00:00")) - timedelta(minutes=4)
    lines[at] = "time " + moved.strftime("%Y-%m-%dT%H:%M:%SZ")
    store.sql(f"UPDATE {table} SET note = ?", ("\n".join(lines),))
    assert "that covers it" in failed(runner, plain, "record-time")["reason"]


def test_init_rechains_a_signed_ledger_only_when_its_signatures_match(runner, db, tmp_path,
                                                                     example):
    alice = key_pair(tmp_path, "alice")
    signed = ["--operator", "alice", "--key", alice[0]]
    assert run(runner, db, *signed, "operator", "add", "alice", "--public-key",
               alice[1]).exit_code == 0
    assert run(runner, db, *signed, "import", str(example)).exit_code == 0
    store = Store(db)
    store.sql(f"DELETE FROM {store.chain}")
    assert run(runner, db, *signed, "init").exit_code == 0  # intact: the chain comes back
    assert run(runner, db, "verify").exit_code == 0
    store.sql(f"DELETE FROM {store.chain}")
    store.set_state(7, store.state(7).replace(b'"recorded_by":"alice"', b'"recorded_by":"alicf"'))
    line = one_line_error(run(runner, db, *signed, "init"), 3)
    assert "signature of the event at position 7" in line and "will not re-chain" in line


def test_a_reimport_over_a_deleted_event_is_one_line_not_a_traceback(runner, plain, example):
    """The chain still names the deleted event's id, so the import compares the line with
    what is stored there: nothing is, which is damage (it raised KeyError before)."""
    Store(plain).delete(5)
    line = one_line_error(run(runner, plain, "import", str(example)), 3)
    assert "position 5 is missing" in line
