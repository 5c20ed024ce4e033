"""One rule for the zone times are shown in, for every command (``report_times.user_zone``):
``--tz``, else ``BLOCKLEDGER_TZ`` (set and not empty), else UTC; a bad name is one line,
exit 2, naming where it came from. Before, the report worded it otherwise than the other
commands ("unknown time zone"), a bad BLOCKLEDGER_TZ was called "--tz", and ``--tz ''``
was taken as UTC."""

from __future__ import annotations

import pytest

from tests.clitools import one_line_error, run


@pytest.fixture
def ledger(runner, sqlite_path, example):
    assert run(runner, sqlite_path, "import", str(example)).exit_code == 0
    return sqlite_path


COMMANDS = [("status", "telegram"), ("history", "telegram"),
            ("report", "provenance", "telegram")]


@pytest.mark.parametrize("command", COMMANDS)
def test_a_bad_variable_is_named_as_the_variable(runner, ledger, monkeypatch, command,
                                                 tmp_path):
    monkeypatch.setenv("BLOCKLEDGER_TZ", "Mars/Olympus_Mons")
    out = ("-o", str(tmp_path / "r.md")) if command[0] == "report" else ()
    error = one_line_error(run(runner, ledger, *command, *out), 2)
    assert error.startswith("error: BLOCKLEDGER_TZ 'Mars/Olympus_Mons' is not a time zone")
    assert not (tmp_path / "r.md").exists()


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("given", ["Mars/Olympus_Mons", "", " "])
def test_a_bad_or_empty_option_is_named_as_the_option(runner, ledger, command, given):
    error = one_line_error(run(runner, ledger, *command, "--tz", given), 2)
    assert error.startswith(f"error: --tz {given!r} is not a time zone")


def test_the_option_goes_before_the_variable_and_an_empty_variable_is_unset(
        runner, ledger, monkeypatch):
    monkeypatch.setenv("BLOCKLEDGER_TZ", "Mars/Olympus_Mons")
    assert "(times Asia/Jakarta)" in run(runner, ledger, "history", "telegram", "--tz",
                                         "Asia/Jakarta").output
    monkeypatch.setenv("BLOCKLEDGER_TZ", "")
    assert "(times UTC)" in run(runner, ledger, "history", "telegram").output
    monkeypatch.setenv("BLOCKLEDGER_TZ", "Asia/Jakarta")
    assert "(times Asia/Jakarta)" in run(runner, ledger, "history", "telegram").output
