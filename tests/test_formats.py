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
