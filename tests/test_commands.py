"""The command line's shape (issue 16): commands load lazily from commands/, the shared
options go before or after the command, -h is --help, and the environment variables are
one list, declared on the options and named in the README."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

import click
import pytest

import cli
from commands.environment import ENVIRONMENT
from tests.clitools import one_line_error, run

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def ledger_2017(runner, sqlite_path, example) -> str:
    assert run(runner, sqlite_path, "import", str(example)).exit_code == 0
    return sqlite_path


def test_every_command_is_loaded_by_the_module_lazy_names():
    modules = set(cli.LAZY.values())
    found: dict[str, str] = {}
    for module in modules:
        probe = click.Group()
        importlib.import_module(module).register(probe)
        found.update(dict.fromkeys(probe.commands, module))
    assert found == cli.LAZY


@pytest.mark.parametrize("before", [True, False])
def test_the_shared_options_go_before_or_after_the_command(runner, ledger_2017, before):
    args = ["status", "telegram"]
    shared = ["--db", ledger_2017, "--format", "json", "--tz", "Asia/Jakarta"]
    from click.testing import CliRunner

    result = CliRunner().invoke(cli.cli, [*shared, *args] if before else [*args, *shared])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["platform"] == "telegram"


def test_after_the_command_wins_and_a_commands_own_option_stays_its_own(runner,
                                                                         ledger_2017,
                                                                         tmp_path):
    from click.testing import CliRunner

    other = str(tmp_path / "none.db")
    result = CliRunner().invoke(cli.cli, ["--db", other, "status", "telegram", "--db",
                                          ledger_2017, "--json"])
    assert result.exit_code == 0, result.output
    # history --operator is the filter by who recorded, not who records.
    rows = run(runner, ledger_2017, "history", "telegram", "--operator", "nobody",
               "--format", "jsonl").output
    assert rows.strip() == ""


def test_a_format_the_command_has_not_is_refused_in_its_words(runner, ledger_2017):
    line = one_line_error(run(runner, ledger_2017, "--format", "pdf", "status"), 2)
    assert "--format pdf" in line and "field" not in line


def test_dash_h_is_help_and_help_names_the_environment_and_exit_codes(runner):
    from click.testing import CliRunner

    result = CliRunner().invoke(cli.cli, ["-h"])
    assert result.exit_code == 0 and "Usage: " in result.output
    text = " ".join(result.output.split())
    for name in ("BLOCKLEDGER_DB", "BLOCKLEDGER_OPERATOR", "BLOCKLEDGER_SIGNING_KEY",
                 "BLOCKLEDGER_TZ"):
        assert name in text
    assert "Exit codes: 0 done; 1 refused by a rule" in text
    assert CliRunner().invoke(cli.cli, ["status", "-h"]).exit_code == 0


def test_the_readme_lists_every_environment_variable():
    readme = (ROOT / "README.md").read_text()
    missing = [name for name in ENVIRONMENT if f"`{name}`" not in readme]
    assert missing == []
    used = set()
    for path in [*ROOT.glob("commands/*.py"), *ROOT.glob("ledger/*.py"),
                 *ROOT.glob("projections/*.py"), ROOT / "cli.py"]:
        used |= set(re.findall(r"BLOCKLEDGER_[A-Z_]+[A-Z]", path.read_text()))
    # Settings passed to the library under its prefix (ledger.storage), not read from
    # the shell:
    # and click's completion switch (_BLOCKLEDGER_COMPLETE, in the README's completion):
    internal = {"BLOCKLEDGER_APPLICATION_RECORDER_TOPIC", "BLOCKLEDGER_SQLITE_DBNAME",
                "BLOCKLEDGER_COMPLETE"}
    assert used - set(ENVIRONMENT) - internal == set()


@pytest.mark.parametrize(("args", "says"), [
    (["--db", "/nonexistent/x.db", "status"], "--db / BLOCKLEDGER_DB: no ledger"),
    (["status", "--as-of", "yesterday"], "--as-of: 'yesterday'"),
    (["record", "access-observed", "o", "--at", "2017-08-01", "--source", "s", "--target",
      "t.me"], "--accessible/--not-accessible: access-observed requires it"),
])
def test_errors_name_the_option_typed(runner, ledger_2017, args, says):
    from click.testing import CliRunner

    if args[0] != "--db":
        args = ["--db", ledger_2017, *args]
    result = CliRunner().invoke(cli.cli, args)
    assert result.exit_code == 2 and says in result.output, result.output


@pytest.mark.postgres
def test_verify_json_answers_on_every_exit_path(runner, ledger_2017):
    """A cron job tells an outage (4) from tampering (3) by the exit code, and reads JSON
    either way."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run(runner, f"postgresql://postgres@127.0.0.1:{port}/ledger", "verify",
                 "--json")
    out = json.loads(result.stdout)
    assert result.exit_code == 4 and out["ok"] is False and "cannot connect" in out["reason"]
    from tests.test_integrity import Store

    store = Store(ledger_2017)
    store.set_state(3, store.state(3).replace(b"Kominfo", b"Komlnfo"))
    result = run(runner, ledger_2017, "verify", "--json")
    assert result.exit_code == 3 and json.loads(result.stdout)["ok"] is False


def test_a_sqlite_file_locked_past_the_busy_timeout_exits_4(runner, ledger_2017,
                                                             monkeypatch):
    import subprocess
    import sys

    holder = subprocess.Popen(
        [sys.executable, "-c", "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1], "
         "isolation_level=None); c.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); "
         "time.sleep(20)", ledger_2017], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        monkeypatch.setenv("BLOCKLEDGER_BUSY_TIMEOUT", "1")
        result = run(runner, ledger_2017, "record", "statement-issued", "telegram", "--at",
                     "2017-09-01", "--source", "s", "--by", "Telegram", "--summary", "x")
        assert result.exit_code == 4, result.output
        assert "busy timeout" in result.output or "locked" in result.output
    finally:
        holder.kill()
        holder.wait()


def test_keys_and_sources_as_the_readme_says(runner, ledger_2017, tmp_path):
    """keygen NAME writes NAME.pem and NAME.pub; key new-cipher prints a key the ledger
    takes; a source in parts, as JSON and as a local file's digest."""
    import hashlib
    import os

    from click.testing import CliRunner

    from ledger.encryption import checked_key

    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        assert CliRunner().invoke(cli.cli, ["operator", "keygen", "alice"]).exit_code == 0
    finally:
        os.chdir(cwd)
    assert (tmp_path / "alice.pem").exists() and (tmp_path / "alice.pub").exists()
    key = CliRunner().invoke(cli.cli, ["key", "new-cipher"]).output.strip()
    assert checked_key(key) == key
    document = tmp_path / "decree.pdf"
    document.write_bytes(b"%PDF the decree")
    result = run(runner, ledger_2017, "record", "statement-issued", "telegram", "--at",
                 "2017-09-01", "--by", "Telegram", "--summary", "s",
                 "--source-url", "https://example.org/a", "--source-title", "A",
                 "--source-quote", "we comply", "--source-json", '{"title": "B"}',
                 "--source-file", str(document))
    assert result.exit_code == 0, result.output
    last = run(runner, ledger_2017, "history", "telegram", "--format", "jsonl").stdout
    sources = json.loads(last.strip().splitlines()[-1])["sources"]
    assert sources == [
        {"url": "https://example.org/a", "title": "A", "quote": "we comply"},
        {"title": "B"},
        {"title": "decree.pdf", "sha256": hashlib.sha256(b"%PDF the decree").hexdigest()}]


def test_operator_list_shows_when_each_operator_was_added(runner, sqlite_path, tmp_path):
    from tests.clitools import key_pair

    private, public = key_pair(tmp_path, "alice")
    assert run(runner, sqlite_path, "--operator", "alice", "--key", private, "operator",
               "add", "alice", "--public-key", public, "--at", "2017-01-02").exit_code == 0
    listed = json.loads(run(runner, sqlite_path, "operator", "list", "--json").stdout)
    assert listed[0]["added_occurred_at"].startswith("2017-01-02")
    assert listed[0]["added_recorded_at"] and listed[0]["revoked_occurred_at"] is None
    table = run(runner, sqlite_path, "operator", "list").stdout
    assert "2017-01-02" in table and "recorded" in table


def test_the_second_reviews_findings_stay_fixed(runner, ledger_2017, tmp_path):
    """One line and exit 2, nothing clobbered: a file that is not UTF-8; -o over a FIFO
    (os.replace would have put a file where a device or pipe was); keygen through a
    dangling link; --source-file of a FIFO (it would hang); an empty --db."""
    import os

    from click.testing import CliRunner

    odd = tmp_path / "odd.txt"
    odd.write_bytes(b"\xff\xfe")
    assert "not UTF-8" in one_line_error(run(runner, ledger_2017, "verify-proof", str(odd)), 2)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    line = one_line_error(run(runner, ledger_2017, "export", "-o", str(fifo), "--force"), 2)
    assert "not a regular file" in line
    (tmp_path / "dana.pub").symlink_to(tmp_path / "elsewhere")
    line = one_line_error(run(runner, ledger_2017, "operator", "keygen",
                              str(tmp_path / "dana")), 2)
    assert "exists" in line and not (tmp_path / "dana.pem").exists()
    assert not (tmp_path / "elsewhere").exists()
    line = one_line_error(run(runner, ledger_2017, "record", "statement-issued", "telegram",
                              "--at", "2017-09-01", "--by", "T", "--summary", "s",
                              "--source-file", str(fifo)), 2)
    assert "not a regular file" in line
    assert "--db is empty" in CliRunner().invoke(cli.cli, ["--db", "", "status"]).output
    assert run(runner, ledger_2017, "--format", "csv", "export").stdout.startswith("position,")
    done = CliRunner().invoke(cli.cli, [])
    assert done.exit_code == 0 and done.output.startswith("Usage: ")


def test_completion_offers_the_ledgers_references_and_the_event_types(ledger_2017):
    from click.shell_completion import ShellComplete

    complete = ShellComplete(cli.cli, {}, "blockledger", "_BLOCKLEDGER_COMPLETE")

    def offered(args: list[str], incomplete: str) -> list[str]:
        return [item.value for item in complete.get_completions(args, incomplete)]

    assert offered(["--db", ledger_2017, "status"], "tel") == ["telegram"]
    assert offered(["--db", ledger_2017, "history"], "kom") == ["kominfo-2017-07-14"]
    assert offered(["--db", ledger_2017, "report", "provenance"], "telegram-") == [
        "telegram-id-2017"]
    assert offered(["types"], "unbl") == ["unblocked"]
    assert "blocked" in offered(["record"], "bl")
    assert offered(["--db", "/nonexistent/x.db", "status"], "t") == []


def test_types_shows_one_type_with_an_example_that_records_it(runner, sqlite_path):
    from click.testing import CliRunner

    shown = CliRunner().invoke(cli.cli, ["types", "statement-issued"]).output
    example = shown.split("Example:")[1].strip()
    assert example.startswith("blockledger record statement-issued PLATFORM")
    args = [{"PLATFORM": "telegram"}.get(word, word) for word in example.split()[1:]]
    assert run(runner, sqlite_path, "record", "platform-registered", "telegram", "--at",
               "2013-08-14", "--source", "s", "--name", "T", "--target", "t.me").exit_code == 0
    done = run(runner, sqlite_path, *args)
    assert done.exit_code == 0, done.output


def test_types_names_every_kind_of_subject_a_type_may_be_about():
    from click.testing import CliRunner

    shown = CliRunner().invoke(cli.cli, ["types", "access-observed"]).output
    assert shown.startswith("access-observed  [order or platform]")
    listed = json.loads(CliRunner().invoke(cli.cli, ["types", "--json"]).output)
    observed = next(t for t in listed if t["type"] == "access-observed")
    assert observed["subject"] == "order" and observed["subjects"] == ["order", "platform"]
