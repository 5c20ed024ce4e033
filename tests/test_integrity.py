"""Tampering with the store directly, on each store: verify finds the right position."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.canonical import hash_stored
from ledger.chain import GENESIS, chain_next
from tests.clitools import run, run_json


class Store:
    """Raw SQL on the ledger's tables, as an attacker with database access would use it."""

    def __init__(self, db: str):
        self.db = db
        self.pg = db.startswith("postgresql://")
        self.events = "blockledger_events" if self.pg else "stored_events"
        self.chain = f"{self.events}_chain"
        self.pos = "notification_id" if self.pg else "rowid"

    def sql(self, statement: str, params: tuple = ()) -> list:
        if self.pg:
            import psycopg

            with psycopg.connect(self.db, autocommit=True) as conn:
                cursor = conn.execute(statement.replace("?", "%s"), params)
                return cursor.fetchall() if cursor.description else []
        with closing(sqlite3.connect(self.db)) as conn, conn:
            return conn.execute(statement, params).fetchall()

    def state(self, position: int) -> bytes:
        [(state,)] = self.sql(f"SELECT state FROM {self.events} WHERE {self.pos} = ?",
                              (position,))
        return bytes(state)

    def set_state(self, position: int, state: bytes) -> None:
        self.sql(f"UPDATE {self.events} SET state = ? WHERE {self.pos} = ?", (state, position))

    def delete(self, position: int, *, chain_too: bool = False) -> None:
        self.sql(f"DELETE FROM {self.events} WHERE {self.pos} = ?", (position,))
        if chain_too:
            self.sql(f"DELETE FROM {self.chain} WHERE position = ?", (position,))

    def rechain(self) -> None:
        """Recompute every hash and link from the (tampered) events: a consistent rewrite."""
        rows = self.sql(f"SELECT {self.pos}, state FROM {self.events} ORDER BY {self.pos}")
        prev = GENESIS
        for position, state in rows:
            hashed = hash_stored(bytes(state), position)
            prev = chain_next(prev, hashed)
            self.sql(f"UPDATE {self.chain} SET event_hash = ?, chain = ? WHERE position = ?",
                     (hashed, prev, position))


@pytest.fixture
def ledger_2017(runner, db, example):
    assert run(runner, db, "import", str(example)).exit_code == 0
    return db


def verdict(runner, db, *args):
    """Exit code and verify's JSON; its signature report is checked, then set aside (no
    operators here: every event is unsigned, before any operator)."""
    result = run(runner, db, "verify", "--json", *args)
    out = json.loads(result.stdout)
    signatures = out.pop("signatures")
    problems = out.pop("problems")
    # the database's own check, run once the chain holds: SQLite's always; PostgreSQL's
    # only with amcheck, not installed here
    store_checked = out.pop("store_checked")
    if out["ok"]:
        assert store_checked is not db.startswith("postgresql://")
    assert out["ok"] == (result.exit_code == 0)
    if out["ok"]:
        assert problems == []
        assert signatures["ok"] and signatures["signed"] == 0
        assert signatures["unsigned_before_operators"] == out["events"]
    elif out["first_bad_position"] is not None and not problems:
        assert signatures is None  # not checked on a chain that does not hold
    return result.exit_code, out


def test_an_intact_ledger_verifies(runner, ledger_2017):
    """Nothing false on an intact ledger: exit 0, every event counted."""
    code, out = verdict(runner, ledger_2017)
    assert (code, out) == (0, {"ok": True, "events": 33, "first_bad_position": None,
                               "reason": None})


def test_one_changed_byte_is_found(runner, ledger_2017):
    """One byte changed in one event's stored JSON (still valid JSON) is found there."""
    store = Store(ledger_2017)
    state = store.state(7)
    store.set_state(7, state.replace(b'"recorded_by":"tester"', b'"recorded_by":"testes"'))
    assert store.state(7) != state
    code, out = verdict(runner, ledger_2017)
    assert code == 3 and out["first_bad_position"] == 7
    assert "altered" in out["reason"]


def test_a_garbled_event_is_found(runner, ledger_2017):
    """Bytes that are no longer JSON are reported at their position, not as a crash."""
    store = Store(ledger_2017)
    store.set_state(9, store.state(9)[:-5])
    code, out = verdict(runner, ledger_2017)
    assert code == 3 and out["first_bad_position"] == 9


def test_a_garbled_first_event_is_found_not_taken_for_encryption(runner, ledger_2017):
    """The first event no longer JSON: the ledger still reads as plaintext (the key check
    looks at its first few events), and verify names position 1."""
    store = Store(ledger_2017)
    store.set_state(1, store.state(1)[:-5])
    code, out = verdict(runner, ledger_2017)
    assert code == 3 and out["first_bad_position"] == 1


def test_a_deleted_event_is_found(runner, ledger_2017):
    """A middle event deleted (its chain row left) is found at its position."""
    Store(ledger_2017).delete(12)
    code, out = verdict(runner, ledger_2017)
    assert code == 3 and out["first_bad_position"] == 12
    assert "missing" in out["reason"]


def test_a_deleted_event_is_refused_by_every_read_of_the_views(runner, ledger_2017):
    """The lift deleted from the events (its view row kept): the whole ledger's history,
    its export and one subject's history stop at it (exit 3, naming its position), where
    a join of the view to the events had left it out and said the order was never lifted
    (found by a review)."""
    [(position,)] = Store(ledger_2017).sql(
        "SELECT position FROM bl_view_history WHERE subject = 'kominfo-2017-07-14' "
        "ORDER BY position DESC LIMIT 1")
    Store(ledger_2017).delete(position)
    for args in (["history", "--format", "jsonl"], ["history", "--type", "unblocked"],
                 ["export", "--format", "csv"], ["history", "kominfo-2017-07-14"],
                 ["history", "telegram"]):
        result = run(runner, ledger_2017, *args)
        assert result.exit_code == 3, (args, result.output)
        assert f"position {position}" in result.stderr, (args, result.stderr)


def test_a_deleted_event_and_its_link_are_found(runner, ledger_2017):
    """Deleting an event with its chain row breaks the chain at that position."""
    Store(ledger_2017).delete(12, chain_too=True)
    code, out = verdict(runner, ledger_2017)
    assert code == 3 and out["first_bad_position"] == 12
    assert "missing" in out["reason"]


def test_a_forged_event_is_found(runner, ledger_2017):
    """An event row inserted behind the ledger's back has no chain entry."""
    store = Store(ledger_2017)
    forged = store.state(5).replace(b'"recorded_by":"tester"', b'"recorded_by":"forger"')
    [(originator, version, topic)] = store.sql(
        f"SELECT originator_id, originator_version, topic FROM {store.events} "
        f"WHERE {store.pos} = 5")
    store.sql(f"INSERT INTO {store.events} (originator_id, originator_version, topic, state) "
              "VALUES (?, ?, ?, ?)", (originator, version + 1000, topic, forged))
    code, out = verdict(runner, ledger_2017)
    assert code == 3 and out["first_bad_position"] == 34
    assert "no chain entry" in out["reason"]


def test_two_swapped_events_are_found(runner, ledger_2017):
    """Two events' contents swapped: found at the first of them."""
    store = Store(ledger_2017)
    a, b = store.state(3), store.state(4)
    store.set_state(3, b)
    store.set_state(4, a)
    code, out = verdict(runner, ledger_2017)
    assert code == 3 and out["first_bad_position"] == 3


def checkpoint_file(runner, db, tmp_path, *extra):
    path = tmp_path / "checkpoint.txt"
    result = run(runner, db, "checkpoint", "-o", str(path), *extra)
    assert result.exit_code == 0, result.output
    return str(path)


def test_a_truncated_tail_is_caught_against_a_checkpoint(runner, ledger_2017, tmp_path):
    """Removing the last events with their links passes plain verify, not --against."""
    saved = checkpoint_file(runner, ledger_2017, tmp_path)
    store = Store(ledger_2017)
    for position in range(29, 34):
        store.delete(position, chain_too=True)
    # The copy kept in the ledger catches it too, unless the attacker deletes that as well.
    code, out = verdict(runner, ledger_2017)
    assert code == 3 and "kept checkpoint 1" in out["reason"]
    store.sql(f"DELETE FROM {store.events}_checkpoints")
    # The platform index kept beside the deleted checkpoint now belongs to none.
    code, out = verdict(runner, ledger_2017)
    assert code == 3 and "belongs to no kept checkpoint" in out["reason"]
    store.sql(f"DELETE FROM {store.events}_platform_index")
    # The views still hold the deleted events; rebuilt, they agree with what is left.
    code, out = verdict(runner, ledger_2017)
    assert code == 3 and "views" in out["reason"]
    assert run(runner, ledger_2017, "projections", "rebuild").exit_code == 0
    assert verdict(runner, ledger_2017)[0] == 0
    code, out = verdict(runner, ledger_2017, "--against", saved)
    assert code == 3 and "truncated" in out["reason"]


def test_a_consistently_rewritten_chain_is_caught_against_a_checkpoint(runner, ledger_2017,
                                                                      tmp_path):
    """An event changed and the whole chain recomputed: only the checkpoint catches it."""
    saved = checkpoint_file(runner, ledger_2017, tmp_path)
    store = Store(ledger_2017)
    store.set_state(2, store.state(2).replace(b"2016-03-29", b"2017-03-29"))
    store.rechain()
    code, out = verdict(runner, ledger_2017)
    assert code == 3 and "first 33 events do not have its root" in out["reason"]
    store.sql(f"DELETE FROM {store.events}_checkpoints")
    code, out = verdict(runner, ledger_2017)
    assert code == 3 and "belongs to no kept checkpoint" in out["reason"]
    store.sql(f"DELETE FROM {store.events}_platform_index")
    assert verdict(runner, ledger_2017)[0] == 0
    code, out = verdict(runner, ledger_2017, "--against", saved)
    assert code == 3 and "rewritten" in out["reason"]


def test_a_ledger_that_grew_still_extends_its_checkpoint(runner, ledger_2017, tmp_path):
    """Events appended after a checkpoint keep it valid (RFC 9162 consistency)."""
    saved = checkpoint_file(runner, ledger_2017, tmp_path)
    result = run(runner, ledger_2017, "record", "statement-issued", "telegram", "--at",
                 "2017-08-11", "--source", "x", "--by", "Kominfo", "--summary", "s")
    assert result.exit_code == 0
    assert verdict(runner, ledger_2017, "--against", saved) == (
        0, {"ok": True, "events": 34, "first_bad_position": None, "reason": None})


def _keys(tmp_path):
    key = Ed25519PrivateKey.generate()
    private = tmp_path / "key.pem"
    public = tmp_path / "key.pub"
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    public.write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return str(private), str(public)


def test_signed_checkpoint_and_report_proofs_check_out_standalone(runner, ledger_2017,
                                                                 tmp_path):
    """A signed checkpoint, a JSON report citing it, and the standalone verifier agree;
    an altered report or another key fails with exit 1."""
    private, public = _keys(tmp_path)
    other = _keys(tmp_path / "..")[1]
    checkpoint_file(runner, ledger_2017, tmp_path, "--key", private)
    listed = run(runner, ledger_2017, "checkpoint", "--list").output
    assert listed.count("\u2014 ") == 1
    report = run(runner, ledger_2017, "report", "provenance", "telegram", "--format", "json")
    assert report.exit_code == 0, report.output
    data = json.loads(report.stdout)
    assert data["verification"]["ok"] and len(data["events"]) == 33
    assert all(e["proof"] is not None for e in data["events"])
    path = tmp_path / "report.json"
    path.write_text(report.stdout)
    ok = run(runner, ledger_2017, "verify-proof", str(path), "--public-key", public)
    assert ok.exit_code == 0, ok.output
    assert "33 events proven" in ok.output and "signature valid" in ok.output
    assert run(runner, ledger_2017, "verify-proof", str(path),
               "--public-key", other).exit_code == 3
    data["events"][4]["data"]["authority"] = "Someone else"
    path.write_text(json.dumps(data))
    altered = run(runner, ledger_2017, "verify-proof", str(path))
    assert altered.exit_code == 3 and "event 5" in altered.output


def test_report_formats_render(runner, ledger_2017, tmp_path):
    """md, html and prov-json reports render for an order, with hashes in them."""
    checkpoint_file(runner, ledger_2017, tmp_path)
    for fmt, marker in (("md", "kominfo-2017-07-14"), ("html", "<html"),
                        ("prov-json", '"prov:')):
        result = run(runner, ledger_2017, "report", "provenance", "kominfo-2017-07-14",
                     "--format", fmt)
        assert result.exit_code == 0, result.output
        assert marker in result.stdout


def test_init_upgrades_a_ledger_without_a_chain(runner, ledger_2017):
    """A ledger written before the chain existed gets it computed once by init."""
    store = Store(ledger_2017)
    store.sql(f"DELETE FROM {store.chain}")
    assert verdict(runner, ledger_2017)[0] == 3
    result = run(runner, ledger_2017, "init")
    assert "computed the hash chain of 33 existing events" in result.output
    assert verdict(runner, ledger_2017)[0] == 0
    assert "computed" not in run(runner, ledger_2017, "init").output


def test_status_history_and_export_agree_with_the_chain(runner, ledger_2017):
    """Every exported hash is the hash verify recomputes (the chain's leaves)."""
    exported = [json.loads(x) for x in run(runner, ledger_2017, "export").stdout.splitlines()]
    store = Store(ledger_2017)
    chain = dict(store.sql(f"SELECT position, event_hash FROM {store.chain}"))
    assert all(bytes(chain[e["position"]]).hex() == e["hash"] for e in exported)
    assert run_json(runner, ledger_2017, "status", "telegram")["state"] == "accessible"


def test_checkpoint_list_gives_the_kept_notes_byte_for_byte(runner, ledger_2017, tmp_path):
    """Each note as it was signed, one after another, as ``cat`` of their files: no line
    added between them (each note ends in its own newline) nor after the last."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = Path(checkpoint_file(runner, ledger_2017, tmp_path / "a"))
    more = run(runner, ledger_2017, "record", "email-sent", "telegram", "--at", "2017-08-01",
               "--source", "s", "--sender", "Kominfo", "--recipient", "Telegram",
               "--summary", "again")
    assert more.exit_code == 0, more.output
    second = Path(checkpoint_file(runner, ledger_2017, tmp_path / "b"))
    listed = run(runner, ledger_2017, "checkpoint", "--list")
    assert listed.exit_code == 0 and listed.stderr == ""
    assert listed.stdout == first.read_text() + second.read_text()


def test_a_report_rests_on_the_log_so_damaged_views_leave_it_true(runner, ledger_2017,
                                                                  tmp_path):
    """A history view row deleted (on each store): ``verify`` fails (exit 3), but the
    report reads no view, so it is the same true report, not marked FAILED (exit 0)."""
    assert run(runner, ledger_2017, "checkpoint").exit_code == 0
    before = run(runner, ledger_2017, "report", "provenance", "telegram", "--format", "json")
    assert before.exit_code == 0, before.output
    Store(ledger_2017).sql("DELETE FROM bl_view_history WHERE position = 5")
    assert run(runner, ledger_2017, "verify").exit_code == 3
    after = run(runner, ledger_2017, "report", "provenance", "telegram", "--format", "json")
    assert after.exit_code == 0, after.output
    drop = ("generated_at", "produced_by", "report_signature")
    assert ({k: v for k, v in json.loads(after.stdout).items() if k not in drop}
            == {k: v for k, v in json.loads(before.stdout).items() if k not in drop})


@pytest.mark.parametrize("dropped", [("bl_view_moves",), ("bl_view_history",),
                                     ("bl_view_history", "bl_view_status", "bl_view_moves")])
def test_a_views_table_dropped_is_named_not_taken_for_no_views(runner, ledger_2017,
                                                               dropped):
    """A view's table dropped by hand (with the status rows forged beside it): verify
    turned every view check off, as for a ledger that never had views, and said the views
    agree with the log (a review, 2026-12-07). It names the missing table (exit 3)."""
    store = Store(ledger_2017)
    store.sql("UPDATE bl_view_status SET body = ?", (b"forged",))
    for table in dropped:
        store.sql(f"DROP TABLE {table}")
    out = run(runner, ledger_2017, "verify")
    assert out.exit_code == 3, out.output
    assert "is missing, while the views were kept (dropped)" in out.stderr
