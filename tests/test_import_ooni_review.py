"""import-ooni, as a hostile review found it (issue 15, F1-F9): each finding's reproducer,
now answered. A reachable subdomain says nothing of its parent; a measurement met again
never refuses an import; a foreign probe's observation against an order of no
jurisdiction is said; hidden duplicate keys, ambiguous URLs, blank-line bombs."""

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
from tests.clitools import count, one_line_error, run, run_json


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


class TestReachableSubdomain:
    """F1: a reachable subdomain matched through its parent says nothing of the parent."""

    def test_it_is_skipped_and_the_parent_does_not_read_reachable(self, runner, telegram,
                                                                  tmp_path):
        """web.telegram.org, ordered blocked, measured unreachable; a CDN subdomain of it
        reachable an hour later: skipped (reachable-subdomain), and status still reads
        web.telegram.org unreachable, not 'reachable while ordered blocked'."""
        blocked = m("https://web.telegram.org/", "2017-07-21 08:00:00", rid="s1")
        cdn = m("https://static-cdn.web.telegram.org/logo.png", "2017-07-21 09:00:00",
                acc=True, blocking=False, rid="s2")
        summary, _ = imported(runner, telegram, str(write(tmp_path / "f.jsonl", blocked, cdn)))
        assert summary["imported"] == 1
        assert summary["skipped"] == {"reachable-subdomain": 1}
        assert summary["matched_by_parent_domain"] == 0
        assert address(cdn) not in observed(telegram)
        status = run_json(runner, telegram, "status", "telegram", "--as-of",
                          "2017-07-21T10:00:00Z")
        assert status["observed"]["web.telegram.org"]["accessible"] is False
        assert "web.telegram.org" not in status["divergent"]
        human = run(runner, telegram, "import-ooni", str(tmp_path / "f.jsonl")).stdout
        assert "1 reachable at a subdomain of the target its platform holds" in human

    def test_an_unreachable_subdomain_is_still_recorded_at_the_parent(self, runner,
                                                                      telegram, tmp_path):
        """Blocking seen at a subdomain is blocking at the platform's domain: recorded
        there, its source naming the URL measured."""
        sub = m("https://static-cdn.web.telegram.org/logo.png", "2017-07-21 09:00:00")
        summary, _ = imported(runner, telegram, str(write(tmp_path / "f.jsonl", sub)))
        assert summary["imported"] == 1 and summary["matched_by_parent_domain"] == 1
        fact = observed(telegram)[address(sub)]
        assert fact["data"]["target"] == "web.telegram.org"
        assert "static-cdn.web.telegram.org" in fact["sources"][0]["title"]

    def test_a_reachable_host_held_itself_is_recorded(self, runner, telegram, tmp_path):
        """Only the match through a parent is skipped: t.me reachable is recorded."""
        x = m("https://t.me/", acc=True, blocking=False)
        summary, _ = imported(runner, telegram, str(write(tmp_path / "f.jsonl", x)))
        assert summary["imported"] == 1 and summary["skipped"] == {}


class TestMetAgain:
    """F2a, F3: a measurement met again never refuses the import."""

    def test_reimport_after_the_targets_changed_skips_what_is_there(self, runner, telegram,
                                                                    tmp_path):
        """zeta.web.telegram.org was observed at web.telegram.org; Telegram is then given
        zeta.web.telegram.org itself: importing the same measurement again is 'already
        present' (the ledger keeps the first match), not a refusal of the whole file."""
        zeta = m("https://zeta.web.telegram.org/", "2017-07-30 18:00:00", rid="z")
        other = m("https://t.me/", rid="t")
        path = write(tmp_path / "f.jsonl", zeta, other)
        imported(runner, telegram, str(path))
        assert run(runner, telegram, "record", "targets-added", "telegram", "--at",
                   "2017-07-01", "--source", "note", "--target",
                   "zeta.web.telegram.org").exit_code == 0
        events = count(telegram)
        summary, err = imported(runner, telegram, str(path))
        assert (summary["imported"], summary["already_present"]) == (0, 2)
        assert summary["already_present_other_target"] == 1 and err == ""
        assert count(telegram) == events
        assert observed(telegram)[address(zeta)]["data"]["target"] == "web.telegram.org"
        human = run(runner, telegram, "import-ooni", str(path)).stdout
        assert "(2 already in the ledger, skipped)" in human
        assert "1 of them matched now at another target" in human

    def test_a_repeat_with_other_content_in_one_file_is_skipped_naming_both(
            self, runner, telegram, tmp_path):
        """The same report_id and input twice, another time and result: the first is
        kept, the second skipped and counted, a warning naming both lines."""
        first = m(rid="d1", at="2017-07-20 08:00:00")
        again = m(rid="d1", at="2017-07-20 09:00:00", acc=True, blocking=False)
        path = write(tmp_path / "f.jsonl", first, again)
        summary, err = imported(runner, telegram, str(path))
        assert summary["imported"] == 1
        assert summary["skipped"] == {"repeated-measurement": 1}
        assert err.strip() == (
            f"warning: line 2 of {path} repeats the measurement of line 1 of {path} "
            "(report_id d1, input https://t.me/) with other content: skipped, the first kept")
        assert observed(telegram)[address(first)]["occurred_at"] == "2017-07-20T08:00:00+00:00"

    def test_a_repeat_across_the_files_of_a_directory(self, runner, telegram, tmp_path):
        (tmp_path / "d").mkdir()
        a = write(tmp_path / "d" / "a.jsonl", m(rid="d1"))
        b = write(tmp_path / "d" / "b.jsonl", m(rid="other"), m(rid="d1", cc="RU"))
        summary, err = imported(runner, telegram, str(tmp_path / "d"))
        assert summary["imported"] == 2
        assert summary["skipped"] == {"repeated-measurement": 1}
        assert f"line 2 of {b} repeats the measurement of line 1 of {a}" in err

    def test_a_repeat_of_what_an_earlier_import_wrote(self, runner, telegram, tmp_path):
        """The first is in the ledger already: the warning names its position."""
        imported(runner, telegram, str(write(tmp_path / "a.jsonl", m(rid="d1"))))
        position = run_json(runner, telegram, "history", "telegram")
        position = next(e["position"] for e in (
            position if isinstance(position, list) else position["events"])
            if e["type"] == "access-observed")
        later = write(tmp_path / "b.jsonl", m(rid="d1", acc=True, blocking=False))
        summary, err = imported(runner, telegram, str(later))
        assert summary["skipped"] == {"repeated-measurement": 1}
        assert (f"line 1 of {later} repeats the measurement of position {position} of the "
                "ledger (imported before)") in err

    def test_the_same_measurement_twice_is_already_present(self, runner, telegram,
                                                           tmp_path):
        """A file read twice (the same line in two files) adds it once, silently."""
        (tmp_path / "d").mkdir()
        write(tmp_path / "d" / "a.jsonl", m(rid="d1"))
        write(tmp_path / "d" / "b.jsonl", m(rid="d1"))
        summary, err = imported(runner, telegram, str(tmp_path / "d"))
        assert (summary["imported"], summary["already_present"]) == (1, 1)
        assert summary["skipped"] == {} and err == ""

    @pytest.mark.parametrize("mode", [(), ("--batch-commit",)])
    def test_repeats_across_chunks_and_batches(self, runner, db, example, tmp_path,
                                               monkeypatch, mode):
        """With chunks and batches of 2, repeats meet their first in another chunk, some
        written to the ledger already and some not: each is told apart the same way,
        with or without --batch-commit, on both stores."""
        import sources.ooni_conversion

        monkeypatch.setattr(sources.ooni_conversion, "CHUNK", 2)
        rows = [m(rid=f"r{i}", at=f"2017-07-20 08:00:0{i}") for i in range(5)]
        rows += [rows[0], {**rows[1], "probe_cc": "RU"}, rows[4],
                 {**rows[3], "measurement_start_time": "2017-07-21 00:00:00"}]
        path = write(tmp_path / "f.jsonl", *rows)
        assert run(runner, db, "import", str(example)).exit_code == 0
        summary, err = imported(runner, db, str(path), "--batch-size", "2", *mode)
        assert (summary["imported"], summary["already_present"]) == (5, 2)
        assert summary["skipped"] == {"repeated-measurement": 2}
        assert f"line 7 of {path} repeats the measurement of line 2 of {path}" in err
        assert f"line 9 of {path} repeats the measurement of line 4 of {path}" in err
        again, err = imported(runner, db, str(path), "--batch-size", "2", *mode)
        assert (again["imported"], again["already_present"]) == (0, 7)
        assert again["skipped"] == {"repeated-measurement": 2}
        assert "position" in err


class TestHeldOnlyLater:
    """F2b: a host nobody held at the measurement's time."""

    def test_it_is_skipped_not_blamed_on_its_later_holder(self, runner, sqlite_path,
                                                          tmp_path):
        """x.example: held by pa in 2019, by nobody from January 2020, by pb from June
        2020. A measurement of March 2020 is of nobody's target: skipped (not-held-then),
        the 2019 one imported at pa; not a refusal naming pb."""
        for args in (("platform-registered", "pa", "--at", "2019-01-01", "--name", "A",
                      "--target", "x.example"),
                     ("targets-removed", "pa", "--at", "2020-01-01", "--target", "x.example"),
                     ("platform-registered", "pb", "--at", "2020-06-01", "--name", "B",
                      "--target", "x.example")):
            assert run(runner, sqlite_path, "record", *args, "--source", "s").exit_code == 0
        held = m("https://x.example/", "2019-06-01 00:00:00", rid="m1")
        between = m("https://x.example/", "2020-03-01 00:00:00", rid="m2")
        summary, _ = imported(runner, sqlite_path,
                              str(write(tmp_path / "f.jsonl", held, between)))
        assert summary["imported"] == 1 and summary["skipped"] == {"not-held-then": 1}
        assert observed(sqlite_path)[address(held)]["subject"] == "pa"
        assert address(between) not in observed(sqlite_path)


class TestJurisdictionNamedNowhere:
    """F4: an observation from one country against an order that names none."""

    ORDER = ("blocked", "ord", "--at", "2017-07-14", "--source", "s", "--platform", "tg",
             "--authority", "Kominfo", "--target", "t.me", "--reason", "terrorism")

    def ledger(self, runner, db: str, *order: str) -> str:
        assert run(runner, db, "record", "platform-registered", "tg", "--at", "2013-08-14",
                   "--source", "s", "--name", "T", "--target", "t.me").exit_code == 0
        assert run(runner, db, "record", *self.ORDER, *order).exit_code == 0
        return db

    @pytest.mark.parametrize("others", [0, 8])
    def test_a_warning_says_so_and_what_to_do(self, runner, sqlite_path, tmp_path, others):
        """A German probe reaches t.me, which an order of no jurisdiction blocks, in a
        ledger with no default: status calls it divergent; the import says why on
        stderr, once, with what to do. (With 8 other platforms, the observed one's
        status is read by itself rather than with all.)"""
        db = self.ledger(runner, sqlite_path)
        for i in range(others):
            assert run(runner, db, "record", "platform-registered", f"p{i}", "--at",
                       "2013-08-14", "--source", "s", "--name", "P", "--target",
                       f"p{i}.example").exit_code == 0
        path = write(tmp_path / "f.jsonl",
                     m(cc="DE", rid="de1", acc=True, blocking=False, at="2017-07-21 10:00:00"),
                     m(cc="ID", rid="id1", at="2017-07-21 11:00:00"))
        summary, err = imported(runner, db, str(path))
        assert summary["imported"] == 2
        (line,) = err.strip().splitlines()
        assert line.startswith("warning: 2 observations (from DE, ID) are of platforms with "
                               "orders that name no jurisdiction")
        assert "blockledger init --jurisdiction" in line

    @pytest.mark.parametrize("setting", ["default", "order"])
    def test_no_warning_where_the_order_binds_a_country(self, runner, sqlite_path, tmp_path,
                                                       setting):
        if setting == "default":
            assert run(runner, sqlite_path, "init", "--jurisdiction", "ID").exit_code == 0
            db = self.ledger(runner, sqlite_path)
        else:
            db = self.ledger(runner, sqlite_path, "--jurisdiction", "ID")
        path = write(tmp_path / "f.jsonl", m(cc="DE", rid="de1", at="2017-07-21 10:00:00"))
        summary, err = imported(runner, db, str(path))
        assert summary["imported"] == 1 and err == ""

    def test_no_warning_for_a_platform_without_orders(self, runner, sqlite_path, tmp_path):
        assert run(runner, sqlite_path, "record", "platform-registered", "tg", "--at",
                   "2013-08-14", "--source", "s", "--name", "T", "--target",
                   "t.me").exit_code == 0
        _, err = imported(runner, sqlite_path, str(write(tmp_path / "f.jsonl", m(cc="DE"))))
        assert err == ""


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


class TestAmbiguousUrls:
    """F6: an authority that urllib and browsers read differently."""

    @pytest.mark.parametrize("url", ["https://evil.example\\@web.telegram.org/",
                                     "https://evil.example@web.telegram.org/",
                                     "https://web.telegram.org\\.evil.example/"])
    def test_userinfo_or_a_backslash_in_the_authority_is_skipped(self, runner, telegram,
                                                                  tmp_path, url):
        summary, _ = imported(runner, telegram,
                              str(write(tmp_path / "f.jsonl", m(url, rid="r6"))))
        assert summary["imported"] == 0 and summary["skipped"] == {"ambiguous-url": 1}

    def test_an_at_sign_or_backslash_after_the_host_is_fine(self, runner, telegram,
                                                            tmp_path):
        rows = [m("https://t.me/@durov", rid="a"), m("https://t.me/a\\b", rid="b"),
                m("https://t.me/?to=x@y", rid="c")]
        summary, _ = imported(runner, telegram, str(write(tmp_path / "f.jsonl", *rows)))
        assert summary["imported"] == 3


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

    def test_a_reserved_country_code_names_probe_cc(self, runner, telegram, tmp_path):
        path = write(tmp_path / "f.jsonl", m(cc="UK"))
        error = one_line_error(run(runner, telegram, "import-ooni", str(path)), 2)
        assert error.startswith(f"error: line 1 of {path}, field 'probe_cc': 'UK' is not a "
                                "country code")
        assert "(that country is GB)" in error and "data." not in error


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
