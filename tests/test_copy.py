"""``blockledger copy --to TARGET``: a copy that verifies as its source does.

The source has operators, signed events and kept checkpoints; after each copy (SQLite and
PostgreSQL both ways, encrypting, re-keying, decrypting) the copy verifies with its
signatures, extends every checkpoint of the source, and answers status, history, export
and operator list exactly as the source does, with the same positions, stored envelopes,
chain, signatures and checkpoints underneath. Refused copies write nothing.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from cli import cli
from ledger import copying, copying_postgres
from ledger.application import open_ledger
from ledger.encryption import new_key
from ledger.storage import parse_target
from tests.clitools import key_pair, one_line_error

SRC = ["--source", "https://example.org/notice"]
KEY = "BLOCKLEDGER_CIPHER_KEY"


def bl(runner: CliRunner, db: str, *args: str, key: str | None = None,
       env: dict[str, str | None] | None = None, signer: str | None = None) -> Result:
    """``blockledger --db DB [--key SIGNER] ARGS``, with the cipher key ``key`` (or none)."""
    extra = ["--key", signer] if signer else []
    return runner.invoke(cli, ["--db", db, "--operator", "alice", *extra, *args],
                         env={KEY: key, **(env or {})}, catch_exceptions=False)


def ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


@pytest.fixture
def alice(tmp_path: Path) -> tuple[str, str]:
    """Alice's private and public key files."""
    return key_pair(tmp_path, "alice")


def build(runner: CliRunner, db: str, example: Path, alice: tuple[str, str], tmp_path: Path,
          key: str | None = None) -> list[str]:
    """The 2017 case (unsigned), then operator alice and two events she signs, with a
    checkpoint kept after the case and another after her first event; returns the
    checkpoint files."""
    ok(bl(runner, db, "import", str(example), key=key))
    first = tmp_path / f"first-{abs(hash(db))}.txt"
    ok(bl(runner, db, "checkpoint", "-o", str(first), key=key))
    ok(bl(runner, db, "operator", "add", "alice", "--public-key", alice[1], key=key,
          signer=alice[0]))
    ok(bl(runner, db, "record", "email-sent", "telegram", "--at", "2017-07-20", *SRC,
          "--sender", "Kominfo", "--recipient", "Telegram", "--summary", "a reminder",
          key=key, signer=alice[0]))
    second = tmp_path / f"second-{abs(hash(db))}.txt"
    ok(bl(runner, db, "checkpoint", "-o", str(second), key=key, signer=alice[0]))
    ok(bl(runner, db, "record", "email-sent", "telegram", "--at", "2017-07-21", *SRC,
          "--sender", "Telegram", "--recipient", "Kominfo", "--summary", "an answer",
          key=key, signer=alice[0]))
    return [str(first), str(second)]


def stored(db: str, key: str | None) -> dict[str, Any]:
    """Everything a copy must keep, as the recorders read it back (decrypted)."""
    with open_ledger(parse_target(db, cipher_key=key or "")) as ledger:
        recorder = ledger.recorder
        notes = recorder.select_notifications(0, 10_000, inclusive_of_start=False)
        events = [(n.id, str(n.originator_id), n.originator_version, n.topic,
                   ledger.mapper.decode_state(n.state)) for n in notes]
        chain = recorder.select_chain(0, 10_000)
        return {"events": events, "chain": chain,
                "signatures": recorder.signatures_at([n.id for n in notes]),
                "checkpoints": recorder.select_checkpoints()}


def answers(runner: CliRunner, db: str, key: str | None) -> dict[str, Any]:
    """What the read commands say."""
    out = {}
    for name, args in (("status", ["status", "--json"]),
                       ("history", ["history", "--json"]),
                       ("telegram", ["history", "telegram", "--json"]),
                       ("export", ["export"]),
                       ("operators", ["operator", "list", "--json"]),
                       ("checkpoints", ["checkpoint", "--list"])):
        out[name] = ok(bl(runner, db, *args, key=key)).stdout
    return out


def check_copy(runner: CliRunner, source: str, target: str, checkpoints: list[str],
               result: Result, *, key: str | None, to_key: str | None, signer: str) -> None:
    """The copy verifies, extends the source's checkpoints and says what the source does."""
    ok(result)
    assert result.stdout.strip() == (
        f"copied 36 events, 3 signatures, 2 checkpoints from {parse_target(source, '')} "
        f"to {parse_target(target, '')}")
    verdict = json.loads(ok(bl(runner, target, "verify", "--json", key=to_key)).stdout)
    assert verdict["ok"] is True and verdict["events"] == 36
    assert verdict["signatures"]["signed"] == 3
    for checkpoint in checkpoints:
        result = ok(bl(runner, target, "verify", "--against", checkpoint, key=to_key))
        assert "extends the checkpoint" in result.stdout
    assert answers(runner, target, to_key) == answers(runner, source, key)
    assert stored(target, to_key) == stored(source, key)
    # The copy goes on as a ledger: alice signs the next event, at the next position.
    ok(bl(runner, target, "record", "email-sent", "telegram", "--at", "2017-07-22", *SRC,
          "--sender", "K", "--recipient", "T", "--summary", "after the copy", key=to_key,
          signer=signer))
    ok(bl(runner, target, "checkpoint", key=to_key))  # kept: the next seq is free too
    assert len(stored(target, to_key)["checkpoints"]) == 3
    verdict = json.loads(ok(bl(runner, target, "verify", "--json", key=to_key)).stdout)
    assert verdict["ok"] and verdict["signatures"]["signed"] == 4
    positions = [e[0] for e in stored(target, to_key)["events"]]
    assert positions[-1] > positions[-2] == stored(source, key)["events"][-1][0]


def stored_bytes(db: str) -> list[bytes]:
    with sqlite3.connect(db) as conn:
        return [row[0] for row in conn.execute("SELECT state FROM stored_events ORDER BY rowid")]


# --- the copies ----------------------------------------------------------------------------


def test_sqlite_to_sqlite(runner, tmp_path, example, alice):
    source, target = str(tmp_path / "source.db"), str(tmp_path / "copy.db")
    checkpoints = build(runner, source, example, alice, tmp_path)
    result = bl(runner, source, "copy", "--to", target)
    # The stored bytes themselves, where nothing is re-encrypted.
    assert stored_bytes(target)[:36] == stored_bytes(source)
    check_copy(runner, source, target, checkpoints, result, key=None, to_key=None,
               signer=alice[0])
    assert sorted(p.name for p in tmp_path.glob("*copy*")) == ["copy.db"]  # no leftovers


def test_into_an_existing_empty_ledger(runner, tmp_path, example, alice):
    source, target = str(tmp_path / "source.db"), str(tmp_path / "copy.db")
    checkpoints = build(runner, source, example, alice, tmp_path)
    ok(bl(runner, target, "init"))
    result = bl(runner, source, "copy", "--to", target)
    check_copy(runner, source, target, checkpoints, result, key=None, to_key=None,
               signer=alice[0])


@pytest.mark.postgres
def test_sqlite_to_postgres(runner, tmp_path, example, alice, pg_url):
    source = str(tmp_path / "source.db")
    checkpoints = build(runner, source, example, alice, tmp_path)
    result = bl(runner, source, "copy", "--to", pg_url)
    check_copy(runner, source, pg_url, checkpoints, result, key=None, to_key=None,
               signer=alice[0])


@pytest.mark.postgres
def test_postgres_to_sqlite_encrypted(runner, tmp_path, example, alice, pg_url):
    key = new_key()
    target = str(tmp_path / "copy.db")
    checkpoints = build(runner, pg_url, example, alice, tmp_path, key=key)
    result = bl(runner, pg_url, "copy", "--to", target, key=key)
    check_copy(runner, pg_url, target, checkpoints, result, key=key, to_key=key,
               signer=alice[0])


def test_plaintext_to_encrypted(runner, tmp_path, example, alice):
    source, target = str(tmp_path / "source.db"), str(tmp_path / "copy.db")
    checkpoints = build(runner, source, example, alice, tmp_path)
    to_key = new_key()
    result = bl(runner, source, "copy", "--to", target, "--to-key-env", "NEW_KEY",
                env={"NEW_KEY": to_key})
    check_copy(runner, source, target, checkpoints, result, key=None, to_key=to_key,
               signer=alice[0])
    states = stored_bytes(target)
    assert not any(b"Kominfo" in state or b"telegram" in state for state in states)
    one_line_error(bl(runner, target, "status"), 2)  # encrypted: needs the key


def test_encrypted_to_rekeyed(runner, tmp_path, example, alice):
    source, target = str(tmp_path / "source.db"), str(tmp_path / "copy.db")
    old, new = new_key(), new_key()
    checkpoints = build(runner, source, example, alice, tmp_path, key=old)
    result = bl(runner, source, "copy", "--to", target, "--to-key", new, key=old)
    check_copy(runner, source, target, checkpoints, result, key=old, to_key=new,
               signer=alice[0])
    assert "not this ledger's key" in one_line_error(bl(runner, target, "status", key=old), 2)


def test_encrypted_to_plaintext(runner, tmp_path, example, alice):
    source, target = str(tmp_path / "source.db"), str(tmp_path / "copy.db")
    key = new_key()
    checkpoints = build(runner, source, example, alice, tmp_path, key=key)
    result = bl(runner, source, "copy", "--to", target, "--to-plaintext", key=key)
    check_copy(runner, source, target, checkpoints, result, key=key, to_key=None,
               signer=alice[0])
    assert any(b"Kominfo" in state for state in stored_bytes(target))


# --- refusals --------------------------------------------------------------------------------


def test_a_target_that_is_not_empty_is_refused(runner, tmp_path, example, alice):
    source, target = str(tmp_path / "source.db"), str(tmp_path / "copy.db")
    build(runner, source, example, alice, tmp_path)
    ok(bl(runner, target, "record", "platform-registered", "telegram", "--at", "2017-01-01",
          *SRC, "--name", "Telegram", "--target", "t.me"))
    before = answers(runner, target, None)
    error = one_line_error(bl(runner, source, "copy", "--to", target), 2)
    assert "is not empty (it holds events)" in error
    assert answers(runner, target, None) == before


@pytest.mark.postgres
def test_a_postgres_target_that_is_not_empty_is_refused(runner, tmp_path, example, alice,
                                                        pg_url):
    source = str(tmp_path / "source.db")
    build(runner, source, example, alice, tmp_path)
    ok(bl(runner, pg_url, "import", str(example)))
    error = one_line_error(bl(runner, source, "copy", "--to", pg_url), 2)
    assert "is not empty" in error
    assert json.loads(ok(bl(runner, pg_url, "verify", "--json")).stdout)["events"] == 33


def test_the_source_itself_is_refused(runner, tmp_path, example, alice):
    source = str(tmp_path / "source.db")
    build(runner, source, example, alice, tmp_path)
    for same in (source, str(tmp_path / "." / "source.db")):
        error = one_line_error(bl(runner, source, "copy", "--to", same), 2)
        assert "is the source ledger itself" in error


def test_a_tampered_source_is_refused_and_nothing_is_written(runner, tmp_path, example,
                                                              alice):
    source, target = str(tmp_path / "source.db"), str(tmp_path / "copy.db")
    build(runner, source, example, alice, tmp_path)
    with sqlite3.connect(source) as conn:
        conn.execute("UPDATE stored_events SET state = replace(state, 'Kominfo', 'Kominfa') "
                     "WHERE rowid = 5")
    error = one_line_error(bl(runner, source, "copy", "--to", target), 3)
    assert "no copy of a ledger that does not verify" in error and "position 5" in error
    assert not Path(target).exists()
    assert list(tmp_path.glob("*copy*")) == []


@pytest.mark.postgres
def test_a_tampered_source_leaves_a_postgres_target_empty(runner, tmp_path, example, alice,
                                                          pg_url):
    source = str(tmp_path / "source.db")
    build(runner, source, example, alice, tmp_path)
    with sqlite3.connect(source) as conn:
        conn.execute("DELETE FROM stored_events_chain WHERE seq = 36")
    one_line_error(bl(runner, source, "copy", "--to", pg_url), 3)
    with open_ledger(parse_target(pg_url, cipher_key=""), create=True) as ledger:
        assert ledger.count() == 0


def test_a_failed_copy_leaves_no_file(runner, tmp_path, example, alice, monkeypatch):
    source, target = str(tmp_path / "source.db"), str(tmp_path / "copy.db")
    build(runner, source, example, alice, tmp_path)

    def broken(self, rows):
        raise sqlite3.OperationalError("disk I/O error (simulated)")

    monkeypatch.setattr(copying._SQLiteWriter, "insert_checkpoints", broken)
    error = one_line_error(bl(runner, source, "copy", "--to", target), 1)
    assert "cannot copy to" in error and "simulated" in error
    assert not Path(target).exists()
    assert list(tmp_path.glob("*copy*")) == []


@pytest.mark.postgres
def test_a_failed_copy_leaves_a_postgres_target_empty(runner, tmp_path, example, alice,
                                                      pg_url, monkeypatch):
    source = str(tmp_path / "source.db")
    checkpoints = build(runner, source, example, alice, tmp_path)

    def broken(self, rows):
        raise RuntimeError("simulated")

    with monkeypatch.context() as patch:
        patch.setattr(copying_postgres._PostgresWriter, "insert_checkpoints", broken)
        with pytest.raises(RuntimeError, match="simulated"):
            bl(runner, source, "copy", "--to", pg_url)
    with open_ledger(parse_target(pg_url, cipher_key=""), create=True) as ledger:
        assert ledger.count() == 0
    # And the empty target takes the copy afterwards.
    result = bl(runner, source, "copy", "--to", pg_url)
    check_copy(runner, source, pg_url, checkpoints, result, key=None, to_key=None,
               signer=alice[0])


def test_bad_key_options_are_one_line(runner, tmp_path, example, alice):
    source, target = str(tmp_path / "source.db"), str(tmp_path / "copy.db")
    ok(bl(runner, source, "import", str(example)))
    cases = [
        (["--to-key-env", "NOPE"], "unset or empty"),
        (["--to-key", "c2hvcnQ="], "--to-key is not a key"),
        (["--to-key", new_key(), "--to-plaintext"], "give one of"),
    ]
    for args, words in cases:
        error = one_line_error(bl(runner, source, "copy", "--to", target, *args), 2)
        assert words in error, error
        assert "c2hvcnQ" not in error
    assert not Path(target).exists()


@pytest.mark.postgres
def test_the_same_postgres_database_under_another_name_is_refused(runner, example, pg_url):
    ok(bl(runner, pg_url, "import", str(example)))
    alias = pg_url.replace("@127.0.0.1:", "@localhost:")
    assert alias != pg_url
    error = one_line_error(bl(runner, pg_url, "copy", "--to", alias), 2)
    assert "is the source ledger itself" in error


def test_a_source_that_fails_any_part_of_verify_is_refused(runner, tmp_path, example, alice):
    """Second hostile review: a source whose hashes held but whose signatures did not was
    copied, damage and all."""
    source, target = str(tmp_path / "source.db"), str(tmp_path / "copy.db")
    build(runner, source, example, alice, tmp_path)
    with sqlite3.connect(source) as conn:
        conn.execute("DELETE FROM stored_events_signatures WHERE position = "
                     "(SELECT MAX(position) FROM stored_events_signatures)")
    error = one_line_error(bl(runner, source, "copy", "--to", target), 3)
    assert "no copy of a ledger that does not verify" in error and "unsigned" in error
    assert not Path(target).exists()
