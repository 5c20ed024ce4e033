"""The command line through click's CliRunner: recording, refusals, import and export."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli import cli
from commands.record import record
from tests.clitools import count, run, run_json

SOURCE = ("--source", "https://example.org/notice")


def register(runner, db, ref="telegram", *targets):
    targets = targets or ("t.me", "web.telegram.org", "org.telegram.messenger")
    args = ["record", "platform-registered", ref, "--at", "2017-01-01", *SOURCE,
            "--name", ref.title()]
    for target in targets:
        args += ["--target", target]
    result = run(runner, db, *args)
    assert result.exit_code == 0, result.output


def block(runner, db, ref="kominfo-1", *targets, at="2017-07-14T11:00:00+07:00"):
    args = ["record", "blocked", ref, "--at", at, *SOURCE, "--platform", "telegram",
            "--authority", "Kominfo", "--reason", "terrorism"]
    for target in targets or ("t.me", "web.telegram.org"):
        args += ["--target", target]
    return run(runner, db, *args)


class TestHelp:
    @pytest.mark.parametrize("command", [*cli.commands.values(), *record.commands.values()],
                             ids=lambda c: c.name)
    def test_every_command_has_help(self, command):
        """Every command and every record subcommand says what it does."""
        assert command.help, f"{command.name} is missing its help"

    def test_record_options_come_from_the_declaration(self, runner):
        """A list field is a repeated singular option; legal_basis becomes --legal-basis."""
        result = runner.invoke(cli, ["record", "blocked", "--help"])
        assert result.exit_code == 0
        for option in ("--target", "--reason", "--legal-basis", "--platform", "--at", "--source"):
            assert option in result.output

    def test_types_lists_every_event_type(self, runner):
        """The vocabulary reference is derived from the declarations."""
        result = runner.invoke(cli, ["types", "--markdown"])
        assert result.exit_code == 0
        assert "## `blocked` (order, creates it)" in result.output
        assert "`legal_basis` (--legal-basis, optional)" in result.output


class TestRecord:
    def test_init_is_idempotent(self, runner, sqlite_path):
        """init twice leaves one empty ledger."""
        assert run(runner, sqlite_path, "init").exit_code == 0
        assert run(runner, sqlite_path, "init").exit_code == 0
        assert count(sqlite_path) == 0

    def test_record_then_status(self, runner, sqlite_path):
        """A registered platform with two of its three targets blocked is partially-blocked."""
        register(runner, sqlite_path)
        result = block(runner, sqlite_path)
        assert result.exit_code == 0, result.output
        assert result.output.startswith("recorded blocked kominfo-1 ")
        status = run_json(runner, sqlite_path, "status", "telegram")
        assert status["state"] == "partially-blocked"
        assert status["blocked_targets"] == ["t.me", "web.telegram.org"]
        assert status["orders"][0] == {"ref": "kominfo-1", "authority": "Kominfo",
                                       "state": "in-effect", "disputed": False,
                                       "blocked_targets": ["t.me", "web.telegram.org"],
                                       "jurisdiction": None, "regional": False}

    def test_operator_is_stored(self, runner, sqlite_path):
        """The operator from --operator is stored on the event."""
        result = runner.invoke(cli, ["--db", sqlite_path, "--operator", "alice", "record",
                                     "platform-registered", "x", "--at", "2017-01-01",
                                     *SOURCE, "--name", "X", "--target", "x.com"])
        assert result.exit_code == 0, result.output
        rows = run_json(runner, sqlite_path, "history", "x")["events"]
        assert rows[0]["recorded_by"] == "alice"

    def test_data_as_json(self, runner, sqlite_path):
        """--data gives the fields as JSON, options the others; a field given both ways is
        refused (which one was meant?), and nothing is written."""
        register(runner, sqlite_path)
        data = json.dumps({"platform": "telegram", "authority": "Kominfo",
                           "targets": ["t.me"], "reasons": ["terrorism"]})
        result = run(runner, sqlite_path, "record", "blocked", "k2", "--at", "2017-07-14",
                     *SOURCE, "--data", data, "--authority", "Ministry")
        assert result.exit_code == 2
        assert "authority is given both in --data and as --authority" in result.stderr
        data = json.dumps({"platform": "telegram", "targets": ["t.me"],
                           "reasons": ["terrorism"]})
        result = run(runner, sqlite_path, "record", "blocked", "k2", "--at", "2017-07-14",
                     *SOURCE, "--data", data, "--authority", "Ministry")
        assert result.exit_code == 0, result.output
        assert run_json(runner, sqlite_path, "status", "telegram")["orders"][0][
            "authority"] == "Ministry"

    @pytest.mark.parametrize("args, message", [
        (["record", "blocked-forever", "k"], "No such command"),
        (["record", "blocked", "k", *SOURCE], "--at WHEN is required"),
        (["record", "blocked", "k", "--at", "2017-07-14"], "at least one source"),
        (["record", "blocked", "k", "--at", "14/07/2017", *SOURCE], "not an ISO 8601"),
        (["record", "blocked", "k", "--at", "2017-07-14T11:00", *SOURCE], "no UTC offset"),
        (["record", "blocked", "K 1", "--at", "2017-07-14", *SOURCE], "not a reference"),
        (["record", "blocked", "k", "--at", "2017-07-14", *SOURCE, "--colour", "red"],
         "No such option"),
        (["record", "blocked", "k", "--at", "2017-07-14", *SOURCE, "--platform", "telegram",
          "--authority", "K", "--reason", "r"], "--target: "),
        (["record", "blocked", "k", "--at", "2017-07-14", *SOURCE, "--data", "{nope"],
         "not valid JSON"),
    ])
    def test_bad_input_exits_2_and_writes_nothing(self, runner, sqlite_path, args, message):
        """Bad usage or input: exit 2, one line naming the problem, nothing written."""
        register(runner, sqlite_path)
        result = run(runner, sqlite_path, *args)
        assert result.exit_code == 2, result.output
        assert message in result.output
        assert "Traceback" not in result.output
        assert count(sqlite_path) == 1

    @pytest.mark.parametrize("args, message", [
        (["record", "no-response", "telegram", "--at", "2017-07-13", *SOURCE],
         "needs an earlier email-sent"),
        (["record", "email-sent", "whatsapp", "--at", "2017-07-13", *SOURCE, "--sender", "K",
          "--recipient", "W", "--summary", "s"], "platform whatsapp does not exist"),
        (["record", "platform-registered", "telegram", "--at", "2017-07-13", *SOURCE,
          "--name", "T", "--target", "t.me"], "exists already"),
        (["record", "unblocked", "kominfo-1", "--at", "2017-07-20", *SOURCE,
          "--target", "telegram.org"], "not a target of order kominfo-1"),
        (["record", "unblocked", "kominfo-1", "--at", "2017-07-01", *SOURCE],
         "before kominfo-1 was created"),
        (["record", "unblocked", "kominfo-1", "--at", "2999-01-01", *SOURCE],
         "in the future"),
        (["record", "blocked", "k9", "--at", "2017-07-14", *SOURCE, "--platform", "nobody",
          "--authority", "K", "--reason", "r", "--target", "x"], "platform nobody is not "),
    ])
    def test_refusal_exits_1_and_writes_nothing(self, runner, sqlite_path, args, message):
        """A rule refuses: exit 1, one line naming the rule, nothing written."""
        register(runner, sqlite_path)
        assert block(runner, sqlite_path).exit_code == 0
        result = run(runner, sqlite_path, *args)
        assert result.exit_code == 1, result.output
        assert message in result.output
        assert len(result.output.strip().splitlines()) == 1
        assert count(sqlite_path) == 2

    def test_backdated_conflict_names_the_later_event(self, runner, sqlite_path):
        """A back-dated lift before an existing lift of the same target names that lift."""
        register(runner, sqlite_path)
        block(runner, sqlite_path)
        lift = run(runner, sqlite_path, "record", "unblocked", "kominfo-1", "--at",
                   "2017-08-10", *SOURCE, "--target", "t.me", "--id",
                   "00000000-0000-4000-8000-000000000001")
        assert lift.exit_code == 0, lift.output
        result = run(runner, sqlite_path, "record", "unblocked", "kominfo-1", "--at",
                     "2017-08-01", *SOURCE, "--target", "t.me")
        assert result.exit_code == 1
        assert "00000000-0000-4000-8000-000000000001" in result.output
        assert count(sqlite_path) == 3

    def test_reading_a_missing_ledger_is_bad_usage(self, runner, tmp_path):
        """status on a file that is not a ledger: exit 2, and no file is created."""
        path = tmp_path / "nope.db"
        result = run(runner, str(path), "status")
        assert result.exit_code == 2
        assert "no ledger at" in result.output
        assert not path.exists()

    def test_unknown_platform_status_is_refused(self, runner, sqlite_path):
        """Asking for a platform the ledger does not hold exits 1."""
        register(runner, sqlite_path)
        result = run(runner, sqlite_path, "status", "myspace")
        assert result.exit_code == 1
        assert "platform myspace is not registered" in result.output


class TestImportExport:
    def test_import_is_idempotent(self, runner, sqlite_path, example):
        """Importing the same file twice adds nothing the second time."""
        first = run(runner, sqlite_path, "import", str(example))
        assert first.exit_code == 0, first.output
        n = count(sqlite_path)
        second = run(runner, sqlite_path, "import", str(example))
        assert second.exit_code == 0
        assert f"imported 0 events ({n} already in the ledger, skipped)" in second.output
        assert count(sqlite_path) == n

    def test_import_from_stdin(self, runner, sqlite_path, example):
        """'-' reads the JSON lines from standard input."""
        result = run(runner, sqlite_path, "import", "-", input=example.read_bytes())
        assert result.exit_code == 0, result.output
        assert count(sqlite_path) == len(example.read_text().splitlines())

    @pytest.mark.parametrize("mutate, message", [
        (lambda lines: lines.insert(3, "{not json"), "line 4: not valid JSON"),
        (lambda lines: lines.insert(2, json.dumps({"type": "blocked"})),
         "line 3, field 'subject'"),
        (lambda lines: lines.__setitem__(4, lines[4].replace('"targets"', '"targetz"')),
         "line 5, field 'data'"),
        (lambda lines: lines.__setitem__(0, lines[0].replace('"2013-08-14"', '"yesterday"')),
         "line 1, field 'occurred_at'"),
        (lambda lines: lines.__setitem__(1, lines[1].replace('"sources"', '"sauces"')),
         "line 2, field 'sauces'"),
    ])
    def test_bad_line_exits_2_and_writes_nothing(self, runner, sqlite_path, example, tmp_path,
                                                 mutate, message):
        """A bad line anywhere: exit 2 naming the line and field, nothing imported."""
        lines = example.read_text().splitlines()
        mutate(lines)
        bad = tmp_path / "bad.jsonl"
        bad.write_text("\n".join(lines) + "\n")
        result = run(runner, sqlite_path, "import", str(bad))
        assert result.exit_code == 2, result.output
        assert message in result.output
        assert count(sqlite_path) == 0

    def test_refused_line_names_the_line_and_writes_nothing(self, runner, sqlite_path,
                                                            example, tmp_path):
        """A line refused by a rule rolls back the whole import."""
        lines = example.read_text().splitlines()
        grant = next(i for i, line in enumerate(lines) if "normalization-granted" in line)
        lines.insert(grant - 6, lines.pop(grant))  # granted before conditions are met
        bad = tmp_path / "refused.jsonl"
        bad.write_text("\n".join(lines) + "\n")
        result = run(runner, sqlite_path, "import", str(bad))
        assert result.exit_code == 1, result.output
        assert f"line {grant - 5}:" in result.output
        assert "neither met nor waived" in result.output
        assert count(sqlite_path) == 0

    def test_export_lines_carry_recording_position_and_hash(self, runner, sqlite_path,
                                                           example):
        """Each exported line has recorded_at, recorded_by, position and a SHA-256 hash."""
        run(runner, sqlite_path, "import", str(example))
        result = run(runner, sqlite_path, "export")
        lines = [json.loads(line) for line in result.stdout.splitlines()]
        assert [line["position"] for line in lines] == list(range(1, len(lines) + 1))
        assert all(line["recorded_by"] == "tester" for line in lines)
        assert all(len(line["hash"]) == 64 for line in lines)
        assert {line["id"] for line in lines} == {
            json.loads(raw)["id"] for raw in example.read_text().splitlines()}

    def test_export_to_file(self, runner, sqlite_path, example, tmp_path):
        """-o writes the lines to a file."""
        run(runner, sqlite_path, "import", str(example))
        out = tmp_path / "out.jsonl"
        result = run(runner, sqlite_path, "export", "-o", str(out))
        assert result.exit_code == 0
        assert len(out.read_text().splitlines()) == count(sqlite_path)


def test_history_marks_nothing_in_the_future(runner, sqlite_path, example):
    """history --as-of leaves out what happened later."""
    run(runner, sqlite_path, "import", str(example))
    rows = run_json(runner, sqlite_path, "history", "telegram", "--as-of", "2017-07-14")["events"]
    assert rows[-1]["occurred_at"] <= "2017-07-14T23:59"
    assert {r["type"] for r in rows} >= {"blocked", "no-response", "email-sent"}
    assert "unblocked" not in {r["type"] for r in rows}


def test_human_status_and_history_render(runner, sqlite_path, example):
    """The human outputs name the state and the events."""
    run(runner, sqlite_path, "import", str(example))
    status = run(runner, sqlite_path, "status", "telegram", "--as-of", "2017-07-20")
    assert "partially-blocked" in status.output
    history = run(runner, sqlite_path, "history", "kominfo-2017-07-14")
    assert "blocked" in history.output and "unblocked" in history.output


def test_example_is_in_the_package():
    """The demo's dataset ships inside the installed package."""
    from importlib import resources

    assert (resources.files("examples") / "telegram-indonesia-2017.jsonl").is_file()
    assert Path(__file__).parent.parent.joinpath("examples", "__init__.py").exists()


def test_a_temporary_lift_that_has_ended_shows_blocked_now(runner, sqlite_path):
    """Without --as-of, status is as of now: a temporary lift whose end has passed is over."""
    register(runner, sqlite_path)
    block(runner, sqlite_path, at="2019-01-01")
    result = run(runner, sqlite_path, "record", "unblocked", "kominfo-1", "--at", "2019-06-01",
                 *SOURCE, "--until", "2019-06-15")
    assert result.exit_code == 0, result.output
    during = run_json(runner, sqlite_path, "status", "telegram", "--as-of", "2019-06-10")
    assert during["orders"][0]["state"] == "temporarily-lifted"
    assert during["state"] == "accessible"
    now = run_json(runner, sqlite_path, "status", "telegram")
    assert now["orders"][0]["state"] == "in-effect"
    assert now["state"] == "partially-blocked"


def test_batch_commit_keeps_landed_batches_and_resumes(runner, sqlite_path, example, tmp_path):
    """With --batch-commit a refused line keeps the batches before it; fixing the file and
    re-running skips what landed and adds the rest."""
    lines = example.read_text().splitlines()
    bad = list(lines)
    grant = next(i for i, line in enumerate(bad) if "normalization-granted" in line)
    bad[grant] = bad[grant].replace('"2017-08-10"', '"2017-07-18"')  # before its conditions
    path = tmp_path / "case.jsonl"
    path.write_text("\n".join(bad) + "\n")
    result = run(runner, sqlite_path, "import", str(path), "--batch-commit", "--batch-size", "5")
    assert result.exit_code == 1
    assert f"line {grant + 1}:" in result.output
    landed = count(sqlite_path)
    assert landed == grant // 5 * 5
    again = run(runner, sqlite_path, "import", str(example), "--batch-commit",
                "--batch-size", "5")
    assert again.exit_code == 0, again.output
    assert f"({landed} already in the ledger, skipped)" in again.output
    assert count(sqlite_path) == len(lines)


class TestOptionsInput:
    def test_usage_errors_are_one_line_exit_2(self, runner, sqlite_path):
        """click's own errors (unknown option, missing argument, bad choice) are one line
        that points at --help, not the usage block."""
        for args in (["record", "blocked", "--frobnicate"], ["record", "blocked"],
                     ["no-such-command"], ["operator", "add", "x", "--public-key", "k",
                                           "--role", "admin"]):
            result = run(runner, sqlite_path, *args)
            assert result.exit_code == 2, (args, result.output)
            lines = result.output.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("error: "), lines
            assert "--help" in lines[0]
        assert run(runner, sqlite_path, "--help").exit_code == 0

    def test_set_values_that_read_as_numbers_are_text(self, runner, sqlite_path):
        """``--set note=2017`` replaces the note with the text "2017"."""
        register(runner, sqlite_path)
        history = run_json(runner, sqlite_path, "history", "telegram")
        target = history["events"][0]["id"]
        result = run(runner, sqlite_path, "record", "correction", "telegram", "--at",
                     "2017-02-01", *SOURCE, "--target", target, "--set", "note=2017",
                     "--reason", "the year")
        assert result.exit_code == 0, result.output
        lines = [json.loads(line)
                 for line in run(runner, sqlite_path, "export").output.splitlines()]
        assert lines[-1]["data"]["set"] == {"note": "2017"}

    def test_a_field_given_twice_is_refused(self, runner, sqlite_path):
        register(runner, sqlite_path)
        cases = [
            ["record", "email-sent", "telegram", "--at", "2017-02-01", *SOURCE, "--data",
             '{"sender": "a", "sender": "b", "recipient": "r", "summary": "s"}'],
            ["record", "correction", "telegram", "--at", "2017-02-01", *SOURCE, "--target",
             "11111111-1111-4111-8111-111111111111", "--set", "note=a", "--set", "note=b",
             "--reason", "r"],
        ]
        for args in cases:
            result = run(runner, sqlite_path, *args)
            assert result.exit_code == 2, result.output
            assert "twice" in result.output and len(result.output.strip().splitlines()) == 1
        assert count(sqlite_path) == 1
