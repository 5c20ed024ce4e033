"""import-ooni, as a hostile review found it (issue 15, F1-F9): each finding's reproducer,
now answered. Hidden duplicate keys, errors in the user's words, blank-line bombs."""

from __future__ import annotations

import gzip
import io
import json
import zlib
from pathlib import Path
from typing import Any

import pytest

from sources.measurements import read_objects
from sources.ooni import READ, explorer_url
from tests.clitools import count, one_line_error, run


def m(input: str = "https://t.me/", at: str = "2017-07-20 08:15:02", cc: str = "ID",
      acc: bool = False, blocking: Any = "dns", rid: str = "r1",
      **extra: Any) -> dict[str, Any]:
    """One Web Connectivity measurement, as OONI writes it (df-000-base, ts-017)."""
    return {"input": input, "measurement_start_time": at, "probe_asn": "AS7713",
            "probe_cc": cc, "report_id": rid, "test_name": "web_connectivity",
            "probe_network_name": "Telkom",
            "test_keys": {"accessible": acc, "blocking": blocking}, **extra}


def write(path: Path, *measurements: dict[str, Any]) -> Path:
    path.write_text("".join(json.dumps(x) + "\n" for x in measurements))
    return path


def imported(runner, db: str, *args: str) -> tuple[dict[str, Any], str]:
    """The summary of an import-ooni that succeeded, and what it said on stderr."""
    result = run(runner, db, "import-ooni", *args, "--json")
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return json.loads(result.stdout), result.stderr


def observed(db: str) -> dict[str, dict[str, Any]]:
    """The ledger's observations made of measurements, by their Explorer address."""
    from ledger.application import open_ledger
    from ledger.storage import parse_target

    with open_ledger(parse_target(db)) as ledger:
        found = [e.fact.to_json() for e in ledger.entries()]
    return {o["sources"][0]["url"]: o for o in found if o["type"] == "access-observed"
            and "explorer.ooni.org" in o["sources"][0].get("url", "")}


def address(x: dict[str, Any]) -> str:
    return explorer_url(x["report_id"], x["input"])


@pytest.fixture
def telegram(runner, sqlite_path, example) -> str:
    """The 2017 case: Telegram's web domains blocked 14 July to 10 August 2017, by an
    order that names no jurisdiction, in a ledger with no default."""
    assert run(runner, sqlite_path, "import", str(example)).exit_code == 0
    return sqlite_path


class TestHiddenDuplicateKeys:
    """F5: a key written with a JSON escape is the same key."""

    def test_an_escaped_repeat_of_a_field_is_refused(self, runner, telegram, tmp_path):
        line = json.dumps(m(rid="r27"))[:-1] + ', "probe_c\\u0063": "RU"}\n'
        path = tmp_path / "f.jsonl"
        path.write_text(line)
        before = count(telegram)
        error = one_line_error(run(runner, telegram, "import-ooni", str(path)), 2)
        assert f"line 1 of {path}, field 'probe_cc': given twice" in error
        assert count(telegram) == before

    def test_other_escapes_are_read_as_they_are(self, runner, telegram, tmp_path):
        """Bodies are full of escapes (OONI's probes write < as \\u003c): no refusal; an
        escaped letter in a field that is no repeat is no refusal either."""
        x = m(rid="r28", extra={"body": "<html>"})
        line = json.dumps(x).replace("<", "\\u003c").replace('"input"', '"inp\\u0075t"')
        path = tmp_path / "f.jsonl"
        path.write_text(line + "\n")
        summary, _ = imported(runner, telegram, str(path))
        assert summary["imported"] == 1

    def test_only_lines_with_an_escaped_letter_are_parsed_again(self):
        """The check is sound and cheap: the raw line's own escapes decide."""
        from sources.measurements import _escapes

        escaped = _escapes(READ)
        assert escaped.search(b'"probe_c\\u0063"') and escaped.search(b'"\\u005F"')
        assert not escaped.search(b'"\\u003c\\u003E\\u0026\\u00e9"')


class TestErrorsNameWhatWasTyped:
    """F8: the path given, and OONI's field."""

    def test_a_damaged_gzip_file_is_named_by_its_path(self, runner, telegram, tmp_path):
        body = gzip.compress((json.dumps(m(rid="g1")) + "\n" + json.dumps(m(rid="g2"))
                              + "\n").encode())
        path = tmp_path / "f.jsonl.gz"
        path.write_bytes(body[:-10])
        error = one_line_error(run(runner, telegram, "import-ooni", str(path)), 2)
        assert error.startswith(f"error: {path} ends before the end of its gzip stream")
        assert "--file" not in error

    def test_a_missing_path_is_named_as_typed(self, runner, telegram, tmp_path):
        error = one_line_error(run(runner, telegram, "import-ooni", "nowhere.jsonl"), 2)
        assert error == "error: 'nowhere.jsonl' does not exist"


class TestBlankLines:
    """F9: millions of blank lines, a few KB compressed, are skipped in bulk."""

    @pytest.mark.parametrize("compressed", [False, True])
    def test_a_run_of_blank_lines_is_skipped_in_bulk_and_counted(self, compressed,
                                                                 monkeypatch):
        """200,000 blank lines (some with spaces) between two measurements: read a
        buffer at a time, not line by line, and the second is still line 200,002."""
        import sources.measurements

        calls = []

        class Counting(io.BufferedReader):
            def readline(self, *args: Any) -> bytes:  # type: ignore[override]
                calls.append(1)
                return super().readline(*args)

        class CountingGzip(gzip.GzipFile):
            def readline(self, *args: Any) -> bytes:  # type: ignore[override]
                calls.append(1)
                return super().readline(*args)

        monkeypatch.setattr(sources.measurements.gzip, "GzipFile", CountingGzip)
        body = (json.dumps(m(rid="a")) + "\n" + "\n" * 150_000 + " \t\r\n" * 50_000
                + json.dumps(m(rid="b")) + "\n").encode()
        stream = Counting(io.BytesIO(gzip.compress(body) if compressed else body))
        got = [(place.line, obj["report_id"]) for place, obj in read_objects(stream, "f", READ)]
        assert got == [(1, "a"), (200_002, "b")]
        assert len(calls) < 100

    def test_a_gzip_bomb_of_blank_lines_reads_nothing(self, runner, telegram, tmp_path):
        compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
        path = tmp_path / "bomb.jsonl.gz"
        path.write_bytes(compressor.compress(b"\n" * 5_000_000) + compressor.flush())
        summary, _ = imported(runner, telegram, str(path))
        assert summary["measurements"] == 0 and summary["imported"] == 0

    def test_an_error_after_blank_lines_names_its_line(self, runner, telegram, tmp_path):
        path = tmp_path / "f.jsonl"
        path.write_text(json.dumps(m(rid="a")) + "\n" * 5 + "  \n" + "{oops\n")
        error = one_line_error(run(runner, telegram, "import-ooni", str(path)), 2)
        assert error.startswith(f"error: line 7 of {path}: not valid JSON")
