"""history and demo for a person: every description in full at 80 and 120 columns, plain
text when piped, times in the zone asked for, filters."""

from __future__ import annotations

import io
import json
import re

import pytest

from projections.history_text import HistoryTable
from projections.terminal import Screen, short_ids, zone
from tests.clitools import one_line_error, run, run_json

BOX = re.compile("[\u2500-\u257f]")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
SGR = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture
def ledger_2017(runner, sqlite_path, example):
    result = run(runner, sqlite_path, "import", str(example))
    assert result.exit_code == 0, result.output
    return sqlite_path


def squeezed(text: str) -> str:
    return "".join(text.split())


def what_column(output: str) -> str:
    """The text of the description column, read by its offset under the header."""
    lines = SGR.sub("", output).splitlines()
    header = next(line for line in lines if "what happened" in line)
    start = header.index("what happened")
    return "\n".join(line[start:] for line in lines[lines.index(header) + 1:])


def rendered(rows, width, monkeypatch, *, terminal=True, tz="UTC"):
    monkeypatch.setenv("COLUMNS", str(width))
    out = io.StringIO()
    HistoryTable(Screen(tz=zone(tz), file=out, terminal=terminal)).write(rows)
    return out.getvalue()


class TestWidths:
    @pytest.mark.parametrize("width", [80, 120])
    def test_every_description_is_shown_in_full(self, runner, ledger_2017, monkeypatch,
                                                width):
        """At 80 and at 120 columns, each event's description is there, whole (wrapped)."""
        rows = run_json(runner, ledger_2017, "history", "telegram")["events"]
        output = rendered(rows, width, monkeypatch)
        column = squeezed(what_column(output))
        for row in rows:
            summary = UUID.sub(lambda m: m.group(0)[:8], row["summary"])
            assert squeezed(summary) in column, row["summary"]
        assert max(len(line) for line in SGR.sub("", output).splitlines()) <= width

    def test_lower_priority_columns_fold_into_the_description_at_80(self, runner,
                                                                     ledger_2017, monkeypatch):
        """At 80 columns type and subject head the description; at 120 they have columns."""
        rows = run_json(runner, ledger_2017, "history", "kominfo-2017-07-14")["events"]
        narrow = SGR.sub("", rendered(rows, 80, monkeypatch)).splitlines()
        wide = SGR.sub("", rendered(rows, 120, monkeypatch)).splitlines()
        assert "type" not in narrow[0] and "type" in wide[0] and "subject" in wide[0]
        assert any("blocked  kominfo-2017-07-14" in line for line in narrow)

    def test_ids_are_shortened_to_a_unique_prefix(self):
        """Ids show as 8 characters, longer only where two share the prefix."""
        ids = short_ids(["abcdef12-0000", "abcdef12-1111", "12345678-9999"])
        assert ids == {"abcdef12-0000": "abcdef12-0", "abcdef12-1111": "abcdef12-1",
                       "12345678-9999": "12345678"}

    def test_times_in_the_zone_asked_for(self, runner, ledger_2017, monkeypatch):
        """--tz Asia/Jakarta shows the block at 11:00; UTC at 04:00; JSON keeps ISO."""
        monkeypatch.setenv("COLUMNS", "100")
        jakarta = run(runner, ledger_2017, "history", "kominfo-2017-07-14", "--type",
                      "blocked", "--tz", "Asia/Jakarta").output
        utc = run(runner, ledger_2017, "history", "kominfo-2017-07-14", "--type", "blocked")
        assert "2017-07-14 11:00" in jakarta and "Asia/Jakarta" in jakarta
        assert "2017-07-14 04:00" in utc.output
        monkeypatch.setenv("BLOCKLEDGER_TZ", "Asia/Jakarta")
        assert "2017-07-14 11:00" in run(runner, ledger_2017, "history",
                                         "kominfo-2017-07-14").output
        rows = run_json(runner, ledger_2017, "history", "kominfo-2017-07-14", "--tz",
                        "Asia/Jakarta")["events"]
        assert rows[0]["occurred_at"] == "2017-07-14T11:00:00+07:00"

    def test_a_bad_zone_is_one_line_exit_2(self, runner, ledger_2017):
        """--tz Mars/Olympus: one line naming it, exit 2."""
        line = one_line_error(run(runner, ledger_2017, "history", "--tz", "Mars/Olympus"), 2)
        assert "Mars/Olympus" in line
        one_line_error(run(runner, ledger_2017, "status", "--tz", "Mars/Olympus", "--json"), 2)


class TestPiped:
    def test_piped_with_columns_is_plain_and_fits(self, runner, ledger_2017, monkeypatch):
        """Piped with COLUMNS=80: no box drawing, no colour, no line past 80 columns."""
        monkeypatch.setenv("COLUMNS", "80")
        output = run(runner, ledger_2017, "history", "telegram").output
        assert not BOX.search(output) and "\x1b" not in output
        assert max(len(line) for line in output.splitlines()) <= 80
        monkeypatch.setenv("COLUMNS", "120")
        wider = run(runner, ledger_2017, "history", "telegram").output
        assert max(len(line) for line in wider.splitlines()) > 80

    def test_piped_without_columns_is_one_tab_separated_line_per_event(
            self, runner, ledger_2017, monkeypatch):
        """No COLUMNS and no terminal: a header and one line per event, no width forced."""
        monkeypatch.delenv("COLUMNS", raising=False)
        output = run(runner, ledger_2017, "history", "telegram").output
        lines = output.splitlines()
        assert lines[0].split("\t")[0] == "occurred" and not BOX.search(output)
        assert len(lines) == 1 + len(run_json(runner, ledger_2017, "history",
                                              "telegram")["events"])
        status = run(runner, ledger_2017, "status", "telegram").output
        assert not any(line.endswith(" ") for line in status.splitlines())

    def test_demo_reads_at_80_columns(self, runner, tmp_path, monkeypatch):
        """The README's first command at 80 columns: nothing past the width, every
        description there, the divergent targets and the disputed email named."""
        monkeypatch.setenv("COLUMNS", "80")
        monkeypatch.chdir(tmp_path)
        result = runner.invoke(__import__("cli").cli, ["demo"], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert max(len(line) for line in result.output.splitlines()) <= 80
        assert "DIVERGENT t.me" in result.output
        assert "disputed: email-sent of 2016-03-29" in result.output

    @pytest.mark.parametrize("width", [40, 60, 80, 120])
    def test_types_and_verify_fold_at_the_width(self, runner, ledger_2017, monkeypatch,
                                                 width):
        """types (every type, and one with its example) and verify's ok line fold at
        COLUMNS, losing no word (they ran to 160 and 231 columns); without COLUMNS, piped,
        each stays one line; --markdown is never folded."""
        from cli import cli

        monkeypatch.delenv("COLUMNS", raising=False)
        whole = {args: runner.invoke(cli, list(args)).output
                 for args in (("types",), ("types", "blocked"))}
        whole[("verify",)] = run(runner, ledger_2017, "verify").output
        assert len(whole[("verify",)].splitlines()) == 1
        markdown = runner.invoke(cli, ["types", "--markdown"]).output
        monkeypatch.setenv("COLUMNS", str(width))
        for args, one in whole.items():
            folded = (run(runner, ledger_2017, *args) if args == ("verify",)
                      else runner.invoke(cli, list(args))).output
            assert max(len(line) for line in folded.splitlines()) <= width, (args, folded)
            assert squeezed(folded.replace("\\\n", "")) == squeezed(
                one.replace("\\\n", "")), args
        assert folded.startswith("ok: ")
        assert runner.invoke(cli, ["types", "--markdown"]).output == markdown

    @pytest.mark.parametrize("columns", ["1", "2", "5", "19"])
    def test_a_tiny_terminal_width_is_twenty(self, monkeypatch, columns):
        """At a terminal, COLUMNS below 20 is read as 20 (it reached the folding of types'
        example as width 0 and -1, a traceback; review)."""
        from commands.vocabulary import _example, _shell_folded
        from domain.declaration import REGISTRY

        monkeypatch.setenv("COLUMNS", columns)
        width = Screen(terminal=True).width
        assert width == 20
        folded = _shell_folded(_example(REGISTRY["blocked"]), width)
        assert squeezed(folded.replace("\\\n", "")) == squeezed(_example(REGISTRY["blocked"]))


class TestFilters:
    def test_type_since_until_operator_limit(self, runner, ledger_2017):
        """Each filter keeps what it names, on the whole ledger and on a subject."""
        def events(*args):
            return run_json(runner, ledger_2017, "history", *args)["events"]

        assert {e["type"] for e in events("--type", "blocked", "--type", "unblocked")} == {
            "blocked", "unblocked"}
        window = events("--since", "2017-07-14", "--until", "2017-07-17")
        assert window and all("2017-07-14" <= e["occurred_at"][:10] <= "2017-07-17"
                              for e in window)
        assert len(events("telegram", "--limit", "3")) == 3
        assert events("--operator", "tester") and not events("--operator", "nobody")

    def test_since_after_until_is_bad_input(self, runner, ledger_2017):
        """A window that ends before it starts matches nothing: one line, exit 2 (it was
        taken, and printed an empty history)."""
        line = one_line_error(run(runner, ledger_2017, "history", "--since", "2017-08-01",
                                  "--until", "2017-07-01"), 2)
        assert "--since '2017-08-01' is after --until '2017-07-01'" in line
        assert run(runner, ledger_2017, "history", "--since", "2017-07-14", "--until",
                   "2017-07-14").exit_code == 0  # (one day: --until is its end)

    @pytest.mark.parametrize("whole", [False, True], ids=["subject", "whole-ledger"])
    def test_a_bare_date_bound_is_a_day_of_the_zone_shown(self, runner, sqlite_path, whole):
        """--since/--until as bare dates are days of --tz (they were UTC days whatever the
        zone): at 23:30 on 13 July in New York is the 14th in UTC, and is left out of the
        14th in New York; an event dated by the day alone keeps its day in any zone."""
        src = ("--source", "https://example.org")
        run(runner, sqlite_path, "record", "platform-registered", "p", "--at", "2017-01-01",
            *src, "--name", "P", "--target", "p.example")
        for at, what in (("2017-07-13T23:30-04:00", "late on the 13th"),
                         ("2017-07-14", "the 14th, a day"),
                         ("2017-07-14T22:00-04:00", "late on the 14th"),
                         ("2017-07-15", "the 15th, a day")):
            assert run(runner, sqlite_path, "record", "statement-issued", "p", "--at", at,
                       *src, "--by", "P", "--medium", "web", "--summary", what).exit_code == 0

        def summaries(*args):
            subject = () if whole else ("p",)
            return [e["data"]["summary"] for e in run_json(
                runner, sqlite_path, "history", *subject, "--type", "statement-issued",
                *args)["events"]]

        new_york = ("--tz", "America/New_York")
        assert summaries("--since", "2017-07-14", "--until", "2017-07-14", *new_york) == [
            "the 14th, a day", "late on the 14th"]
        assert summaries("--since", "2017-07-14", "--until", "2017-07-14", "--tz", "UTC") == [
            "the 14th, a day", "late on the 13th"]  # (a day orders at its start)
        assert summaries("--since", "2017-07-15", *new_york) == ["the 15th, a day"]
        assert summaries("--until", "2017-07-13", *new_york) == ["late on the 13th"]
        before = run_json(runner, sqlite_path, "--tz", "America/New_York", "history",
                          *(() if whole else ("p",)), "--type", "statement-issued",
                          "--since", "2017-07-15")["events"]  # (the zone given first)
        assert [e["data"]["summary"] for e in before] == ["the 15th, a day"]
        lines = run(runner, sqlite_path, "history", *(() if whole else ("p",)), "--type",
                    "statement-issued", "--since", "2017-07-14", "--until", "2017-07-14",
                    *new_york, "--format", "jsonl").output.splitlines()
        assert [json.loads(x)["data"]["summary"] for x in lines] == [
            "the 14th, a day", "late on the 14th"]

    def test_a_window_empty_for_timed_events_may_hold_a_day(self, runner, sqlite_path,
                                                           monkeypatch):
        """--since/--until that no instant can fall between in the zone, but that a date
        alone still matches, return it instead of 'nothing could match' (review): the bound
        of New York's 14 July against 03:00Z, and Samoa's 30 December 2011, a day its
        clocks skipped. --json names the zone whose days it read (BLOCKLEDGER_TZ too)."""
        src = ("--source", "https://example.org")
        run(runner, sqlite_path, "record", "platform-registered", "p", "--at", "2010-01-01",
            *src, "--name", "P", "--target", "p.example")
        for at in ("2017-07-14", "2011-12-30"):
            assert run(runner, sqlite_path, "record", "statement-issued", "p", "--at", at,
                       *src, "--by", "P", "--medium", "web", "--summary", at).exit_code == 0

        def found(*args):
            result = run_json(runner, sqlite_path, "history", "p", "--type",
                              "statement-issued", *args)
            return [e["data"]["summary"] for e in result["events"]], result["tz"]

        assert found("--since", "2017-07-14", "--until", "2017-07-14T03:00Z", "--tz",
                     "America/New_York") == (["2017-07-14"], "America/New_York")
        assert found("--since", "2011-12-30", "--until", "2011-12-30", "--tz",
                     "Pacific/Apia") == (["2011-12-30"], "Pacific/Apia")
        assert found("--since", "2017-07-14") == (["2017-07-14"], "UTC")
        monkeypatch.setenv("BLOCKLEDGER_TZ", "Asia/Jakarta")
        assert found("--since", "2017-07-14")[1] == "Asia/Jakarta"

    def test_an_unknown_type_names_the_near_one(self, runner, ledger_2017):
        """--type blok: one line, exit 2, suggesting blocked."""
        line = one_line_error(run(runner, ledger_2017, "history", "--type", "blok"), 2)
        assert "'blok'" in line and "blocked" in line

    def test_whole_ledger_streams_platform_by_platform(self, runner, sqlite_path):
        """Without a subject, every event comes once: each platform's in valid time."""
        src = ("--source", "https://example.org")
        for name in ("beta", "alpha"):
            run(runner, sqlite_path, "record", "platform-registered", name, "--at",
                "2017-01-01", *src, "--name", name, "--target", f"{name}.example")
            run(runner, sqlite_path, "record", "blocked", f"order-{name}", "--at",
                "2017-02-01", *src, "--platform", name, "--authority", "X", "--reason", "r",
                "--target", f"{name}.example")
        rows = run_json(runner, sqlite_path, "history")["events"]
        assert [r["subject"] for r in rows] == ["alpha", "order-alpha", "beta", "order-beta"]
        lines = run(runner, sqlite_path, "history", "--format", "jsonl").output.splitlines()
        assert [json.loads(line)["subject"] for line in lines] == [r["subject"] for r in rows]
