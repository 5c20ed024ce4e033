"""``-o FILE`` never clobbers: an existing file needs --force, the ledger's own files are
always refused, and nothing is written when the command is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.clitools import one_line_error, run


@pytest.fixture
def ledger_db(runner, sqlite_path, example) -> str:
    assert run(runner, sqlite_path, "import", str(example)).exit_code == 0
    return sqlite_path


COMMANDS = [("export",), ("checkpoint",), ("report", "provenance", "telegram")]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
@pytest.mark.parametrize("suffix", ["", "-wal", "-shm"])
def test_output_never_overwrites_the_ledger(runner, ledger_db, command, suffix):
    own = ledger_db + suffix
    Path(own).touch()
    before = Path(ledger_db).read_bytes()
    error = one_line_error(run(runner, ledger_db, *command, "-o", own, "--force"), 2)
    assert "ledger's own file" in error and own in error
    assert Path(ledger_db).read_bytes() == before
    assert run(runner, ledger_db, "verify").exit_code == 0


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_output_refuses_an_existing_file_without_force(runner, ledger_db, tmp_path, command):
    out = tmp_path / "kept.txt"
    out.write_text("precious")
    error = one_line_error(run(runner, ledger_db, *command, "-o", str(out)), 2)
    assert "--force" in error and str(out) in error
    assert out.read_text() == "precious"
    assert run(runner, ledger_db, *command, "-o", str(out), "--force").exit_code == 0
    assert out.read_text() != "precious"


def test_the_ledger_is_recognised_through_another_path(runner, ledger_db, tmp_path,
                                                       monkeypatch):
    monkeypatch.chdir(tmp_path)
    link = tmp_path / "alias.db"
    link.symlink_to(ledger_db)
    error = one_line_error(run(runner, ledger_db, "export", "-o", str(link), "--force"), 2)
    assert "ledger's own file" in error


def test_an_unreachable_store_exits_4(runner, tmp_path):
    # A server that does not answer (nothing listens on port 1), and a file that cannot
    # be a database (a directory).
    for db, says in (("postgresql://postgres@127.0.0.1:1/none",
                      "cannot connect to PostgreSQL at 127.0.0.1:1"),
                     (str(tmp_path), "cannot use the ledger")):
        error = one_line_error(run(runner, db, "init"), 4)
        assert says in error


def test_a_field_given_in_data_and_as_an_option_is_refused(runner, sqlite_path):
    error = one_line_error(run(runner, sqlite_path, "record", "statement-issued", "telegram",
                               "--at", "2017-01-01", "--source", "x", "--summary", "s",
                               "--data", '{"by": "a"}', "--by", "b"), 2)
    assert "by is given both in --data and as --by" in error
    assert not Path(sqlite_path).exists()
