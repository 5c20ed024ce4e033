"""Issue 15, item 3: ``export test-list --jurisdiction CC``, the targets in force there as a
Citizen Lab test list (github.com/citizenlab/test-lists), checked as their linter
(``scripts/lint-lists.py``) checks a list; and the loop it closes: listed, measured,
observed, divergent in ``status``."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from urllib.parse import urlparse

import pytest

from ledger.application import open_ledger
from ledger.storage import parse_target
from projections.book import Book
from projections.test_list import CATEGORIES, DESCRIPTIONS, category, kind_of
from tests.clitools import one_line_error, run, run_json
from tests.test_export_intervals import ok, register

SRC = ("--source", "https://example.org/order")
HEADER = "url,category_code,category_description,date_added,source,notes"

#: As Citizen Lab's linter checks them (scripts/lint-lists.py).
VALID_URL = re.compile(
    r'^(?:http)s?://'
    r'(?:(?:[A-Z0-9](?:[A-Z0-9-]{0,61}[A-Z0-9])?\.)+(?:[A-Z]{2,6}\.?|[A-Z0-9-]{2,}\.?)|'
    r'\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})'
    r'(?::\d+)?'
    r'(?:/?|[/?]\S+)$', re.IGNORECASE)
BAD_CHARS = ["\r", "\n", "\t", "\\"]
#: Rows of lists/00-LEGEND-new_category_codes.csv (code -> description), as read on
#: 2026-12-06: the codes this module may write.
LEGEND = {
    "ALDR": "Alcohol & Drugs", "REL": "Religion", "PORN": "Pornography",
    "POLR": "Political Criticism", "HUMR": "Human Rights Issues",
    "MILX": "Terrorism and Militants", "HATE": "Hate Speech", "NEWS": "News Media",
    "GMB": "Gambling", "ANON": "Anonymization and circumvention tools",
    "DATE": "Online Dating", "GRP": "Social Networking", "LGBT": "LGBT",
    "FILE": "File-sharing", "HACK": "Hacking Tools", "COMT": "Communication Tools",
    "MISC": "Miscellaneous content",
}


def lint(text: str) -> list[list[str]]:
    """The list's rows, after the linter's checks."""
    assert text.splitlines()[0] == HEADER
    rows = list(csv.reader(io.StringIO(text, newline="")))[1:]
    urls = [row[0] for row in rows]
    assert len(set(urls)) == len(urls), "a URL twice"
    for url, code, description, added, source, notes in rows:
        assert VALID_URL.match(url) and urlparse(url).path == "/" and url == url.strip()
        assert LEGEND[code] == description
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", added)
        assert not any(c in notes or c in source for c in BAD_CHARS)
    return rows


def block(runner, db, ref: str, at: str, platform: str, targets: list[str], reasons: list[str],
          jurisdiction: str = "ID", authority: str = "Kominfo") -> None:
    ok(runner, db, "record", "blocked", ref, "--at", at, *SRC, "--authority", authority,
       "--platform", platform, "--jurisdiction", jurisdiction,
       *[a for r in reasons for a in ("--reason", r)],
       *[a for t in targets for a in ("--target", t)])


TELEGRAM = ["t.me", "web.telegram.org", "149.154.167.99", "91.108.4.0/22",
            "app:android:org.telegram.messenger"]


def scenario(runner, db) -> None:
    register(runner, db, "telegram", *TELEGRAM)
    register(runner, db, "pokerstars", "pokerstars.com")
    register(runner, db, "vimeo", "vimeo.com")
    register(runner, db, "wikipedia", "wikipedia.org")
    # 01:00 in Jakarta is the day before in UTC: the list gives the order's own date.
    block(runner, db, "k-2017", "2017-07-14T01:00:00+07:00", "telegram", TELEGRAM,
          ["radicalism", "terrorism"])
    block(runner, db, "k-2017b", "2017-07-20", "telegram", ["t.me"], ["hate speech"])
    block(runner, db, "gmb-2018", "2018-03-01", "pokerstars", ["pokerstars.com"],
          ["online gambling"], authority='Kominfo, "Directorate", =1+1')
    block(runner, db, "porn-2014", "2014-05-01", "vimeo", ["vimeo.com"], ["pornography"])
    ok(runner, db, "record", "unblocked", "porn-2014", "--at", "2018-01-01", *SRC)
    block(runner, db, "btk-2017", "2017-04-29", "wikipedia", ["wikipedia.org"], ["terrorism"],
          jurisdiction="TR", authority="BTK")


def test_the_list_of_a_country_as_citizen_labs_linter_reads_it(runner, db):
    """Domains become https://DOMAIN/, once each; a target of two orders names both, the
    earliest giving its date and category; other countries' orders and lifted targets
    are absent; IPs, networks and apps are skipped and counted."""
    scenario(runner, db)
    result = run(runner, db, "export", "test-list", "--jurisdiction", "ID")
    assert result.exit_code == 0, result.stderr
    assert lint(result.stdout) == [
        ["https://pokerstars.com/", "GMB", "Gambling", "2018-03-01", "blockledger",
         'gmb-2018 (Kominfo, "Directorate", =1+1)'],
        ["https://t.me/", "MILX", "Terrorism and Militants", "2017-07-14", "blockledger",
         "k-2017 (Kominfo); k-2017b (Kominfo)"],
        ["https://web.telegram.org/", "MILX", "Terrorism and Militants", "2017-07-14",
         "blockledger", "k-2017 (Kominfo)"],
    ]
    assert result.stderr.strip() == ("skipped 3 targets in force that cannot be URLs "
                                     "(1 app id, 1 IP address, 1 network)")


def test_as_of_in_the_past_lists_what_was_in_force_then(runner, sqlite_path):
    """Before the Telegram orders and while the lifted order held: only that one."""
    scenario(runner, sqlite_path)
    result = run(runner, sqlite_path, "export", "test-list", "--jurisdiction", "ID",
                 "--as-of", "2017-07-12")
    assert lint(result.stdout) == [["https://vimeo.com/", "PORN", "Pornography",
                                    "2014-05-01", "blockledger", "porn-2014 (Kominfo)"]]
    assert result.stderr == ""
    # Another country's list; and one where nothing is in force: the header alone.
    turkey = ok(runner, sqlite_path, "export", "test-list", "--jurisdiction", "TR")
    assert [r[0] for r in lint(turkey)] == ["https://wikipedia.org/"]
    assert ok(runner, sqlite_path, "export", "test-list", "--jurisdiction",
              "BR").splitlines() == [HEADER]


def test_jurisdiction_is_required_and_checked(runner, sqlite_path, tmp_path):
    scenario(runner, sqlite_path)
    line = one_line_error(run(runner, sqlite_path, "export", "test-list"), 2)
    assert "--jurisdiction" in line
    assert "ZZZ" in one_line_error(run(runner, sqlite_path, "export", "test-list",
                                       "--jurisdiction", "ZZZ"), 2)
    assert "--format json" in one_line_error(run(runner, sqlite_path, "--format", "json",
                                                 "export", "test-list", "--jurisdiction",
                                                 "ID"), 2)
    out = tmp_path / "id.csv"
    out.write_text("mine")
    assert "exists" in one_line_error(run(runner, sqlite_path, "export", "test-list",
                                          "--jurisdiction", "ID", "-o", str(out)), 2)
    assert out.read_text() == "mine"


@pytest.mark.parametrize("reasons, code", [
    (["terrorism"], "MILX"), (["radicalism"], "MILX"), (["violent extremism"], "MILX"),
    (["hate speech"], "HATE"), (["pornography"], "PORN"), (["obscene content"], "PORN"),
    (["gay pornography"], "PORN"),  # the legend's LGBT excludes pornography
    (["LGBT propaganda"], "LGBT"), (["online gambling"], "GMB"), (["sports betting"], "GMB"),
    (["drug sales"], "ALDR"), (["blasphemy"], "REL"), (["insulting religion"], "REL"),
    (["human rights reporting"], "HUMR"), (["political criticism"], "POLR"),
    (["fake news"], "NEWS"), (["VPN service"], "ANON"), (["circumvention tools"], "ANON"),
    (["file sharing"], "FILE"), (["torrent index"], "FILE"),
    (["instant messaging"], "COMT"),  # COMM is e-commerce in the legend
    (["social media"], "GRP"), (["online dating"], "DATE"), (["hacking tools"], "HACK"),
    (["sovereignty and integrity of India", "public order"], "MISC"), ([], "MISC"),
    (["updating records"], "MISC"),  # a pattern starts at a word's start: not "dating"
    (["public order", "terrorist content"], "MILX"),  # any reason counts
    # Stems, as the README's table says: a word starting with one (chat: chats, chatting);
    # a space or hyphen in one matches a space, a hyphen or nothing.
    (["spam chats"], "COMT"), (["chatting app"], "COMT"), (["Email spam"], "COMT"),
    (["social-media"], "GRP"), (["socialmedia"], "GRP"), (["hatespeech"], "HATE"),
    (["filesharing"], "FILE"), (["file-sharing"], "FILE"),
    # A whole word: tor, not torrent or tortoise.
    (["Tor browser"], "ANON"), (["tortoise trade"], "MISC"),
])
def test_reasons_map_to_the_legends_codes(reasons, code):
    assert category(reasons) == code


def test_the_readme_table_is_the_codes():
    """The README's table of codes and stems is CATEGORIES, rendered: one table."""
    rows = ["| code | description (the legend's) | reasons containing |", "|---|---|---|"]
    rows += [f"| `{code}` | {DESCRIPTIONS[code]} | {', '.join(stems)}"
             + (f"; the word {', '.join(words)}" if words else "") + " |"
             for code, stems, words in CATEGORIES]
    rows.append("| `MISC` | Miscellaneous content | anything else |")
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert "\n".join(rows) + "\n" in readme


def test_every_code_is_the_legends_with_its_description():
    assert {code for code, *_ in CATEGORIES} | {"MISC"} == set(DESCRIPTIONS)
    assert {code: LEGEND[code] for code in DESCRIPTIONS} == DESCRIPTIONS


@pytest.mark.parametrize("target, kind", [
    ("t.me", "domain"), ("xn--e1afmkfd.xn--p1ai", "domain"), ("192.0.2.1", "ip"),
    ("2001:db8::1", "ip"), ("192.0.2.0/24", "network"), ("2001:db8::/32", "network"),
    ("app:android:org.telegram.messenger", "app"), ("app:ios:id686449807", "app"),
    ("localhost", "other"), ("ph.telegra.Telegraph", "domain"),
])
def test_only_a_domain_name_can_be_a_url(target, kind):
    assert kind_of(target) == kind


def test_listed_then_measured_then_divergent_in_status(runner, db):
    """The loop the list closes: each URL of the list is measured (a synthetic OONI Web
    Connectivity line), each measurement recorded as an observation of the platform that
    holds its host, and status shows where access contradicts the order."""
    scenario(runner, db)
    listed = lint(ok(runner, db, "export", "test-list", "--jurisdiction", "ID",
                     "--as-of", "2017-07-20"))
    reachable = {"https://t.me/"}  # the probe got through: the block was not enforced
    measurements = [json.dumps({
        "test_name": "web_connectivity", "input": url, "probe_cc": "ID",
        "probe_asn": "AS17974", "measurement_start_time": "2017-07-20 12:00:00",
        "report_id": f"20170720T120000Z_webconnectivity_ID_17974_n1_{n}",
        "test_keys": {"accessible": url in reachable,
                      "blocking": False if url in reachable else "dns"}})
        for n, (url, *_) in enumerate(listed)]
    with open_ledger(parse_target(db)) as ledger:
        book = Book(ledger.entries())
    holder = {t: p for p in book.refs("platform")
              for t in book.state("platform", p).targets}  # type: ignore[union-attr]
    for line in measurements:
        m = json.loads(line)
        host = urlparse(m["input"]).hostname
        keys = m["test_keys"]
        ok(runner, db, "record", "access-observed", holder[host], "--at",
           m["measurement_start_time"].replace(" ", "T") + "Z", "--source",
           f"https://explorer.ooni.org/measurement/{m['report_id']}",
           "--target", host, "--accessible" if keys["accessible"] else "--not-accessible",
           "--network", m["probe_asn"], "--jurisdiction", m["probe_cc"],
           *(["--method", keys["blocking"]] if keys["blocking"] else []))
    status = run_json(runner, db, "status", "telegram", "--jurisdiction", "ID")
    assert status["divergence"] == {"t.me": "reachable-while-blocked"}
    assert status["observed"]["web.telegram.org"]["accessible"] is False
    assert run_json(runner, db, "status", "pokerstars", "--jurisdiction", "ID")[
        "divergent"] == []
