"""``status`` read from the kept views without the application (``ledger.kept``): the same
answer as the full path in every case, and the full path whenever the kept views may not
give it."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import CliRunner

import ledger.kept
from examples import __file__ as examples_init
from ledger.encryption import KEY_VARIABLE, new_key
from ledger.kept import open_kept
from ledger.storage import parse_target
from ledger.views import STATUS, tracking_name
from tests.clitools import run

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = Path(examples_init).parent
#: What ``status`` must not import on a plaintext SQLite ledger whose views are current:
#: the application and the library (about half of its start-up), the aggregates, the
#: PostgreSQL driver, cryptography (signing keys, the cipher).
NOT_FOR_STATUS = ("eventsourcing", "psycopg", "psycopg_binary", "psycopg_pool",
                  "cryptography", "domain.subjects", "domain.checked", "ledger.application",
                  "ledger.mapper", "ledger.recorders", "ledger.views_sqlite")
PROBE = """
import json, sys
from click.testing import CliRunner
from cli import cli
result = CliRunner().invoke(cli, json.loads(sys.argv[1]))
names = json.loads(sys.argv[2])
loaded = sorted(m for m in sys.modules if any(m == n or m.startswith(n + ".") for n in names))
print(json.dumps({"exit": result.exit_code, "output": result.output, "loaded": loaded}))
"""
#: Every shape of the status command: one platform or all, both time axes, one state's
#: answer, each format.
ASKED = [
    ["status", "telegram"],
    ["status", "telegram", "--json"],
    ["status", "telegram", "--format", "jsonl"],
    ["status", "telegram", "--format", "csv"],
    ["status", "telegram", "--tz", "Asia/Jakarta"],
    ["status", "telegram", "--as-of", "2017-07-20"],
    ["status", "telegram", "--as-of", "2017-07-20", "--json"],
    ["status", "telegram", "--as-known-at", "2017-08-01T00:00:00+07:00", "--json"],
    ["status", "telegram", "--jurisdiction", "ID", "--json"],
    ["status", "telegram", "--jurisdiction", "ID"],
    ["status", "wikipedia", "--json"],
    ["status"],
    ["status", "--json"],
    ["status", "--format", "csv"],
    ["status", "--state", "accessible", "--sort", "since"],
    ["status", "--sort", "blocked", "--limit", "1", "--json"],
    ["status", "--as-of", "2017-07-20", "--json"],
    ["status", "--jurisdiction", "TR", "--json"],
    ["status", "nosuch"],
    ["status", "nosuch", "--json"],
]


def _ledger(directory: Path, *examples: str) -> str:
    db = str(directory / "ledger.db")
    runner = CliRunner()
    for name in examples:
        assert run(runner, db, "import", str(EXAMPLES / name)).exit_code == 0
    return db


@pytest.fixture
def db(tmp_path: Path) -> str:
    return _ledger(tmp_path, "telegram-indonesia-2017.jsonl", "turkey-wikipedia-2017.jsonl")


def _full(monkeypatch: pytest.MonkeyPatch, db: str, args: list[str]) -> tuple[int, str, str]:
    """The answer of the full path: the application opened, the views caught up."""
    with monkeypatch.context() as patch:
        patch.setattr(ledger.kept, "open_kept", lambda target: None)
        done = CliRunner().invoke(__import__("cli").cli, ["--db", db, *args])
    return done.exit_code, done.stdout, done.stderr


def _kept(db: str, args: list[str]) -> tuple[int, str, str]:
    done = CliRunner().invoke(__import__("cli").cli, ["--db", db, *args])
    return done.exit_code, done.stdout, done.stderr


def _same(monkeypatch: pytest.MonkeyPatch, db: str, args: list[str]) -> tuple[int, str, str]:
    kept, full = _kept(db, args), _full(monkeypatch, db, args)
    assert kept == full, args
    return kept


def _uses_kept(db: str) -> bool:
    reader = open_kept(parse_target(db, cipher_key=""))
    if reader is None:
        return False
    reader.close()
    return True


def _sql(db: str, *statements: str, params: tuple = ()) -> None:
    with closing(sqlite3.connect(db)) as connection, connection:
        for statement in statements:
            connection.execute(statement, params if "?" in statement else ())


@pytest.mark.parametrize("args", ASKED, ids=" ".join)
def test_every_status_is_the_full_path_s(db, monkeypatch, args):
    """Current views: every shape of status answers from them as the full path does."""
    assert _uses_kept(db)
    _same(monkeypatch, db, args)


def test_status_imports_neither_the_application_nor_the_library(tmp_path):
    """The start-up test of issue 16: on a current plaintext SQLite ledger, status (one
    platform, all, as JSON) imports nothing of the write side."""
    db = _ledger(tmp_path, "telegram-indonesia-2017.jsonl")
    for args in (["status", "telegram"], ["status"], ["status", "telegram", "--json"]):
        done = subprocess.run(
            [sys.executable, "-c", PROBE, json.dumps(["--db", db, *args]),
             json.dumps(NOT_FOR_STATUS)], cwd=ROOT, capture_output=True, text=True,
            check=True)
        out = json.loads(done.stdout.strip().splitlines()[-1])
        assert out["exit"] == 0, out["output"]
        assert out["loaded"] == [], f"{' '.join(args)} imported {out['loaded']}"
    # Whereas a ledger that needs catching up opens the application, as before.
    _sql(db, "UPDATE tracking SET notification_id = 1 WHERE application_name = ?",
         params=(tracking_name("status"),))
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(["--db", db, "status", "telegram"]),
         json.dumps(["ledger.application"])], cwd=ROOT, capture_output=True, text=True,
        check=True)
    assert json.loads(done.stdout.strip().splitlines()[-1])["loaded"] == [
        "ledger.application"]


def test_views_behind_the_ledger_are_caught_up_by_the_full_path(db, monkeypatch):
    """Events the views have not taken in (a writer that stopped before catching up):
    the kept views are not read; the full path catches up and answers."""
    before = _kept(db, ["status", "telegram", "--json"])
    for view in ("history", "status"):
        _sql(db, "UPDATE tracking SET notification_id = notification_id - 3 "
                 "WHERE application_name = ?", params=(tracking_name(view),))
        if view == "history":  # its rows after that position not written either
            _sql(db, "DELETE FROM bl_view_history WHERE position > (SELECT notification_id "
                     "FROM tracking WHERE application_name = ?)",
                 params=(tracking_name(view),))
        assert not _uses_kept(db)
        assert _kept(db, ["status", "telegram", "--json"]) == before
        assert _uses_kept(db)  # caught up by that read


def test_a_view_past_the_ledger_is_the_full_path_s_integrity_failure(db, monkeypatch):
    _sql(db, "UPDATE tracking SET notification_id = notification_id + 5 "
             "WHERE application_name = ?", params=(tracking_name("status"),))
    assert not _uses_kept(db)
    code, _, err = _same(monkeypatch, db, ["status", "telegram"])
    assert code == 3 and "past the ledger's last event" in err


def test_a_stale_kept_row_is_folded_afresh(db, monkeypatch):
    """A kept status whose time has passed (a temporary lift ended since) is not the
    answer: both paths fold the platform now."""
    with closing(sqlite3.connect(db)) as connection, connection:
        body = json.loads(connection.execute(f"SELECT body FROM {STATUS} WHERE platform = "
                                             "'telegram'").fetchone()[0])
        body["stale_after"] = "2000-01-01T00:00:00+00:00"
        body["status"]["state"] = "blocked"  # what a stale row may say, and must not
        connection.execute(f"UPDATE {STATUS} SET body = ? WHERE platform = 'telegram'",
                           (json.dumps(body).encode(),))
    assert _uses_kept(db)
    code, out, _ = _same(monkeypatch, db, ["status", "telegram", "--json"])
    assert code == 0 and json.loads(out)["state"] == "accessible"
    _same(monkeypatch, db, ["status", "telegram"])


@pytest.mark.parametrize("damage", [
    "UPDATE {STATUS} SET body = X'00ff' WHERE platform = 'telegram'",
    "UPDATE {STATUS} SET body = (SELECT body FROM {STATUS} WHERE platform = 'wikipedia') "
    "WHERE platform = 'telegram'",
    "UPDATE {STATUS} SET body = 7 WHERE platform = 'telegram'",
])
def test_a_damaged_kept_row_is_the_same_integrity_failure(db, monkeypatch, damage):
    _sql(db, damage.format(STATUS=STATUS))
    code, _, err = _same(monkeypatch, db, ["status", "telegram"])
    assert code == 3, err
    _same(monkeypatch, db, ["status", "--json"])


def test_a_missing_kept_row_is_folded(db, monkeypatch):
    _sql(db, f"DELETE FROM {STATUS} WHERE platform = 'telegram'")
    code, out, _ = _same(monkeypatch, db, ["status", "telegram", "--json"])
    assert code == 0 and json.loads(out)["platform"] == "telegram"


def test_a_kept_row_of_another_format_is_folded(db, monkeypatch):
    with closing(sqlite3.connect(db)) as connection, connection:
        body = json.loads(connection.execute(f"SELECT body FROM {STATUS} WHERE platform = "
                                             "'telegram'").fetchone()[0])
        body["format"] = 1
        connection.execute(f"UPDATE {STATUS} SET body = ? WHERE platform = 'telegram'",
                           (json.dumps(body).encode(),))
    _same(monkeypatch, db, ["status", "telegram", "--json"])


@pytest.mark.parametrize("table", [STATUS, "bl_view_history", "tracking"])
def test_missing_views_go_the_full_path(db, monkeypatch, table):
    _sql(db, f"DROP TABLE {table}")
    assert not _uses_kept(db)
    _same(monkeypatch, db, ["status", "telegram", "--json"])


def test_an_encrypted_ledger_goes_the_full_path(tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_VARIABLE, new_key())
    db = _ledger(tmp_path, "telegram-indonesia-2017.jsonl")
    assert open_kept(parse_target(db)) is None
    code, out, _ = _same(monkeypatch, db, ["status", "telegram", "--json"])
    assert code == 0 and json.loads(out)["platform"] == "telegram"
    # Without its key: refused by the full path, as before, not read as plaintext.
    monkeypatch.delenv(KEY_VARIABLE)
    assert open_kept(parse_target(db)) is None
    code, _, err = _same(monkeypatch, db, ["status", "telegram"])
    assert code == 2 and "this ledger is encrypted" in err


def test_a_file_that_is_no_ledger_goes_the_full_path(tmp_path, monkeypatch):
    for content in (b"", b"not a database at all" * 100):
        path = tmp_path / "other.db"
        path.write_bytes(content)
        assert open_kept(parse_target(str(path))) is None
        _same(monkeypatch, str(path), ["status", "telegram"])


def test_a_ledger_this_process_may_not_write_goes_the_full_path(db, monkeypatch):
    """There the full path cannot catch up, and replays the log rather than reading the
    views: the kept views are not read either."""
    monkeypatch.setattr(ledger.kept.os, "access", lambda path, mode: False)
    assert open_kept(parse_target(db)) is None


def test_other_targets_go_the_full_path(tmp_path):
    assert open_kept(parse_target("postgresql://nobody@127.0.0.1:1/none")) is None
    assert open_kept(parse_target(f"file:{tmp_path / 'x.db'}?mode=ro")) is None
    assert open_kept(parse_target(":memory:")) is None


def test_a_writer_at_work_changes_nothing_read(db, monkeypatch):
    """A writer holding the lock: the kept read does not wait, and answers as the full
    path does (which answers from the views as they stand)."""
    holder = sqlite3.connect(db, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        _same(monkeypatch, db, ["status", "telegram", "--json"])
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_the_kept_reader_reads_one_snapshot_and_writes_nothing(db):
    reader = open_kept(parse_target(db))
    assert reader is not None
    try:
        head = reader.recorder.max_notification_id()
        _sql(db, f"DELETE FROM {STATUS}")  # committed by another connection meanwhile
        assert reader.recorder.max_notification_id() == head
        assert reader.view_store().status_rows("telegram")  # still the snapshot's
        with pytest.raises(sqlite3.Error):
            reader.view_store().write((), [("x", b"{}")], status_to=head)
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            reader.connection.execute(f"DELETE FROM {STATUS}")
    finally:
        reader.close()
    assert sorted(p.name for p in Path(db).parent.iterdir()) == ["ledger.db"]


def test_the_sqlite_views_recorder_is_still_found_where_it_was():
    """Its own module now (``ledger.views`` imports no eventsourcing); code that imports it
    from ``ledger.views`` still gets it."""
    from ledger import views, views_sqlite

    assert views.SQLiteViews is views_sqlite.SQLiteViews
    with pytest.raises(AttributeError):
        views.NoSuchName  # noqa: B018
