"""``report provenance`` for people and ``verify-proof`` on an HTML report, from the
command line: zones, the version that made it, FAILED reports, PDF without Chromium,
templates of one's own, and pages an attacker edited."""

from __future__ import annotations

import json
import re
import sqlite3
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from cli import cli
from projections.proof import embedded_report
from projections.report_html import EMBED_OPEN
from tests.clitools import key_pair, one_line_error, run


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The 2017 case, a hostile note recorded, a checkpoint, and the HTML and JSON
    reports of telegram (times in Jakarta)."""
    from examples import __file__ as examples_init

    tmp = tmp_path_factory.mktemp("report_cli")
    db, runner = str(tmp / "ledger.db"), CliRunner()
    example = Path(examples_init).parent / "telegram-indonesia-2017.jsonl"

    def ok(*args: str) -> Result:
        result = runner.invoke(cli, ["--db", db, "--operator", "alice", *args],
                               catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result

    ok("import", str(example))
    ok("record", "statement-issued", "telegram", "--at", "2017-07-16", "--source",
       "</script><script>alert(1)</script>", "--by", "</script><!--", "--summary",
       '<img src=x onerror=alert(1)> "}body{display:none}')
    ok("checkpoint", "-o", str(tmp / "cp.txt"))
    for fmt in ("html", "json"):
        ok("report", "provenance", "telegram", "--format", fmt, "--tz", "Asia/Jakarta",
           "-o", str(tmp / f"report.{fmt}"))
    return {"tmp": tmp, "db": db, "runner": runner}


def verify(case: dict[str, Any], text: str, *extra: str) -> Result:
    path = case["tmp"] / "attack.html"
    path.write_text(text, encoding="utf-8")
    return case["runner"].invoke(cli, ["verify-proof", str(path), *extra],
                                 catch_exceptions=False)


def page(case: dict[str, Any]) -> str:
    return (case["tmp"] / "report.html").read_text(encoding="utf-8")


def _visible(text: str) -> tuple[str, str]:
    """The page split into what a reader sees and the embedded report after it."""
    cut = text.index(EMBED_OPEN)
    return text[:cut], text[cut:]


class TestHtmlReport:
    def test_names_the_version_that_made_it(self, case):
        """The JSON report names blockledger and its version; the page shows it."""
        report = json.loads((case["tmp"] / "report.json").read_text())
        version = metadata.version("blockledger")
        assert report["produced_by"] == {"name": "blockledger", "version": version}
        assert f"Made by blockledger {version}" in page(case)

    def test_times_in_the_zone_named(self, case):
        """Times are to the minute in the zone, which the page names; JSON stays ISO."""
        text = page(case)
        assert "Times are in Asia/Jakarta (WIB, UTC+07:00)" in text
        assert "in force: 14 Jul 2017 11:00 WIB → 10 Aug 2017 (11 of 11" in text
        report = (case["tmp"] / "report.json").read_text()
        assert '"occurred_at": "2017-07-14T11:00:00+07:00"' in report

    def test_hostile_text_stays_inert_and_embedded_exactly(self, case):
        """</script> in recorded text neither ends the embedded report nor opens markup;
        the embedded JSON is the JSON report, byte for byte once parsed."""
        text = page(case)
        assert text.count("<script") == 1 and text.count("</script>") == 1
        assert "<img" not in text and "body{display:none}" not in text.split("</style>")[0]
        embedded = json.loads(embedded_report(text))
        report = json.loads((case["tmp"] / "report.json").read_text())
        assert embedded["evidence"] == report["evidence"]
        assert embedded["events"] == report["events"]  # made a moment apart, else equal
        assert '"</script><script>alert(1)</script>"' not in text
        assert any(s["title"] == "</script><script>alert(1)</script>"
                   for ev in embedded["events"] for s in ev["sources"])

    def test_verify_proof_checks_the_html_as_the_json(self, case):
        """verify-proof proves the HTML report's embedded JSON and its page."""
        result = verify(case, page(case))
        assert result.exit_code == 0, result.output
        assert "events proven complete" in result.stdout
        assert "the page is exactly what the proven report renders to" in result.stdout

    @pytest.mark.parametrize("edit", [
        ("in force: 14 Jul 2017 11:00 WIB", "in force: 15 Jul 2017 11:00 WIB"),
        ("by Kominfo", "by the Police"),
        ("verified: ", "verified (by hand): "),
        ('<text class="label l-blocked"', '<text class="label l-blocked" display="none"'),
        ("<h2>How to check</h2>", "<h2>How to check</h2><p>This report is void.</p>"),
    ])
    def test_an_edited_page_fails(self, case, edit):
        """An edit of what the page shows, with the embedded JSON intact, fails (exit 3),
        and --embedded-only says only the JSON is proven."""
        shown, embedded = _visible(page(case))
        assert edit[0] in shown
        attack = shown.replace(edit[0], edit[1], 1) + embedded
        error = one_line_error(verify(case, attack), 3)
        assert "the page differs from what its proven report renders to" in error
        result = verify(case, attack, "--embedded-only")
        assert result.exit_code == 0, result.output
        assert "ONLY the JSON embedded in the page is proven" in result.stdout

    def test_text_after_the_embedded_report_fails(self, case):
        """What follows the embedded report is part of the page too."""
        attack = page(case).replace("</body>", "<p>This report is void.</p></body>")
        assert "the page differs" in one_line_error(verify(case, attack), 3)

    def test_an_edited_embedded_report_fails(self, case):
        """An edit of the embedded JSON fails as in a JSON report."""
        shown, embedded = _visible(page(case))
        attack = shown + embedded.replace("Kominfo", "Kominfa", 1)
        one_line_error(verify(case, attack), 3)

    def test_a_second_embedded_report_or_none(self, case):
        """Two embedded reports are refused (exit 3); a page with none is bad input (2)."""
        shown, embedded = _visible(page(case))
        twice = shown.replace("<body>", "<body>" + embedded.split("</body>")[0], 1) + embedded
        assert "embeds 2 reports" in one_line_error(verify(case, twice), 3)
        none = shown + "</body></html>\n"
        assert "without an embedded report" in one_line_error(verify(case, none), 2)

    def test_another_zone_in_the_page_must_render_the_same(self, case):
        """The zone the page names is the one it is rendered again in: changing it alone
        makes the page differ."""
        attack = page(case).replace('data-tz="Asia/Jakarta"', 'data-tz="Europe/Berlin"', 1)
        one_line_error(verify(case, attack), 3)
        attack = page(case).replace('data-tz="Asia/Jakarta"', 'data-tz="Mars/Base"', 1)
        assert "only its embedded JSON is proven" in one_line_error(verify(case, attack), 3)

    def test_a_signed_reports_version_cannot_be_changed(self, case, tmp_path):
        """produced_by is the producer's statement: the report's signature covers it."""
        private, public = key_pair(tmp_path, "producer")
        out = tmp_path / "signed.json"
        result = run(case["runner"], case["db"], "report", "provenance", "telegram",
                     "--format", "json", "--key", private, "-o", str(out))
        assert result.exit_code == 0, result.output
        report = json.loads(out.read_text())
        report["produced_by"]["version"] = "9.9.9"
        out.write_text(json.dumps(report))
        result = case["runner"].invoke(cli, ["verify-proof", str(out), "--report-key",
                                             public], catch_exceptions=False)
        assert "signature does not verify" in one_line_error(result, 3)


class TestOptions:
    def test_a_bad_zone_is_one_line_exit_2_and_nothing_written(self, case, tmp_path):
        """--tz with a name the zone database lacks: one line, exit 2, no file."""
        out = tmp_path / "r.html"
        result = run(case["runner"], case["db"], "report", "provenance", "telegram",
                     "--format", "html", "--tz", "Mars/Olympus_Mons", "-o", str(out))
        assert "'Mars/Olympus_Mons' is not a time zone" in one_line_error(result, 2)
        assert not out.exists()

    def test_blockledger_tz_is_the_default_zone(self, case, monkeypatch):
        """Without --tz, BLOCKLEDGER_TZ names the zone; without either, UTC."""
        monkeypatch.setenv("BLOCKLEDGER_TZ", "Asia/Jakarta")
        result = run(case["runner"], case["db"], "report", "provenance", "telegram")
        assert "14 Jul 2017 11:00 WIB" in result.stdout
        monkeypatch.delenv("BLOCKLEDGER_TZ")
        result = run(case["runner"], case["db"], "report", "provenance", "telegram")
        assert "14 Jul 2017 04:00 UTC" in result.stdout

    def test_pdf_without_chromium_is_one_line_exit_2(self, case, tmp_path, monkeypatch):
        """No Chromium: one line that says how to get it, exit 2, nothing written."""
        monkeypatch.setenv("BLOCKLEDGER_CHROMIUM", str(tmp_path / "no-chromium"))
        out = tmp_path / "r.pdf"
        result = run(case["runner"], case["db"], "report", "provenance", "telegram",
                     "--format", "pdf", "-o", str(out))
        assert "needs headless Chromium" in one_line_error(result, 2)
        assert not out.exists() and not list(tmp_path.glob(".r.pdf*"))

    def test_pdf_needs_an_output_file(self, case):
        """A PDF goes to a file, never to the terminal."""
        result = run(case["runner"], case["db"], "report", "provenance", "telegram",
                     "--format", "pdf")
        assert "give -o FILE" in one_line_error(result, 2)

    def test_a_template_of_ones_own(self, case, tmp_path):
        """--template DIR: its report.css replaces the bundled one; verify-proof needs the
        same templates to check the page."""
        theirs = tmp_path / "theirs"
        theirs.mkdir()
        (theirs / "report.css").write_text("body{font-family:serif}/* ACME style */\n")
        out = tmp_path / "acme.html"
        result = run(case["runner"], case["db"], "report", "provenance", "telegram",
                     "--format", "html", "--template", str(theirs), "-o", str(out))
        assert result.exit_code == 0, result.output
        text = out.read_text()
        assert "ACME style" in text and "system-ui" not in text.split("</style>")[0]
        one_line_error(verify(case, text), 3)
        result = verify(case, text, "--template", str(theirs))
        assert result.exit_code == 0, result.output
        missing = run(case["runner"], case["db"], "report", "provenance", "telegram",
                      "--template", str(tmp_path / "nowhere"))
        assert "is not a directory" in one_line_error(missing, 2)

    @pytest.mark.parametrize("body", ["{% for x in %}", "{{ no_such_thing }}",
                                      "{% include 'missing.css' %}"])
    def test_a_template_that_fails_is_one_line_exit_2(self, case, tmp_path, body):
        """A broken template of one's own: one line naming it, exit 2, nothing written."""
        theirs = tmp_path / "broken"
        theirs.mkdir()
        (theirs / "report.html.j2").write_text(f"<html>\n{body}\n</html>\n")
        out = tmp_path / "r.html"
        result = run(case["runner"], case["db"], "report", "provenance", "telegram",
                     "--format", "html", "--template", str(theirs), "-o", str(out))
        assert "the template" in one_line_error(result, 2)
        assert not out.exists()


def test_a_ledger_that_fails_verification_still_gets_its_report(runner, sqlite_path,
                                                                example, tmp_path):
    """Without a checkpoint the report replays the log: an altered event makes it exit 3,
    still written, FAILED on its first line (Markdown) and first on the page (HTML)."""
    assert run(runner, sqlite_path, "import", str(example)).exit_code == 0
    with sqlite3.connect(sqlite_path) as conn:
        conn.execute("UPDATE stored_events SET state = CAST(replace(CAST(state AS TEXT), "
                     "'Kominfo', 'Kominfa') AS BLOB) "
                     "WHERE rowid = (SELECT min(rowid) FROM stored_events "
                     "WHERE CAST(state AS TEXT) LIKE '%Kominfo%')")
    md, html = tmp_path / "r.md", tmp_path / "r.html"
    for fmt, out in (("md", md), ("html", html)):
        result = run(runner, sqlite_path, "report", "provenance", "telegram", "--format", fmt,
                     "-o", str(out))
        assert "says FAILED first" in one_line_error(result, 3)
    assert md.read_text().splitlines()[0].startswith("**FAILED: the ledger does not verify")
    body = html.read_text().split("<body>", 1)[1]
    assert re.match(r'\s*<p class="failed" role="alert">FAILED: the ledger does not verify',
                    body)
    assert "<title>FAILED: " in html.read_text()
