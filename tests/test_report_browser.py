"""The HTML and PDF provenance reports in headless Chromium: a synthetic platform of ten
orders and 500 events, and the 2017 case.

Skipped only when Chromium (or poppler's pdftotext/pdfinfo) is absent locally; with CI set
they fail instead. ``UPDATE_DOCS_PICTURES=1`` (not a BLOCKLEDGER_ variable: the
runner fixture clears those) also writes the screenshots to
``docs/`` (how ``docs/report.png`` and ``docs/report-ten-orders.png`` were made).
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from projections.report_pdf import chromium_args
from tests.clitools import run

DOCS = Path(__file__).resolve().parent.parent / "docs"
WIB = timezone(timedelta(hours=7))
NAMESPACE = uuid.UUID("6f1c3c1e-13a5-4d5e-9c53-5e1b0c0ffee0")


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is missing and CI is set")
        pytest.skip(f"no {name}")
    return found


@pytest.fixture(scope="module")
def chromium() -> str:
    return _tool("chromium")


def ten_orders() -> list[dict[str, Any]]:
    """Platform "chatapp": ten orders by five authorities over two years (temporary,
    partial and full lifts; one never lifted), a normalization request with its meeting,
    SOP and grant, a corrected block and a retracted observation, and observations up to
    500 events, some of them diverging from the orders."""
    rng = random.Random(13)
    events: list[dict[str, Any]] = []

    def add(type_: str, subject: str, at: datetime | str, data: dict[str, Any],
            **extra: Any) -> str:
        when = at if isinstance(at, str) else at.isoformat(timespec="minutes")
        key = f"{type_}/{subject}/{when}/{len(events)}"
        events.append({"id": str(uuid.uuid5(NAMESPACE, key)), "type": type_,
                       "subject": subject, "occurred_at": when,
                       "sources": [{"title": f"source {len(events) + 1}"}], "data": data,
                       **extra})
        return events[-1]["id"]

    targets = [f"{name}.chatapp.example" for name in (
        "www", "web", "api", "cdn1", "cdn2", "cdn3", "media", "files", "status", "help",
        "login", "push", "voice", "video", "stickers", "bots", "pay", "news", "dev",
        "blog")] + ["chatapp.example", "com.chatapp.android"]
    add("platform-registered", "chatapp", "2018-02-01",
        {"name": "ChatApp", "company": "ChatApp Ltd", "targets": targets})
    for n in range(6):
        add("email-sent", "chatapp", datetime(2019, 3 + n, 4, 10, tzinfo=WIB),
            {"sender": "Ministry", "recipient": "ChatApp", "summary": f"request {n + 1}"})
    add("no-response", "chatapp", datetime(2019, 9, 20, 9, tzinfo=WIB),
        {"summary": "none answered"})
    authorities = ["Ministry of Communication", "Telecom Regulator", "District Court",
                   "Election Commission", "Ministry of Communication"]
    orders: list[tuple[str, list[str], datetime, datetime | None]] = []
    for i in range(10):
        ref = f"order-{2020 + i // 5}-{i + 1:02d}"
        start = datetime(2020, 1, 6, 9, 30, tzinfo=WIB) + timedelta(days=73 * i)
        held = rng.sample(targets[:-1], rng.randint(3, 9))
        add("blocked", ref, start, {
            "platform": "chatapp", "authority": authorities[i % 5], "targets": held,
            "reasons": ["public order"], "legal_basis": f"Article {10 + i} of the ICT Law",
            "instrument": f"Decree {100 + i}/{start.year}"})
        end = None
        if i % 4 == 0:  # lifted for two weeks, then for good
            add("unblocked", ref, start + timedelta(days=40),
                {"until": (start + timedelta(days=54)).isoformat(timespec="minutes")})
            end = start + timedelta(days=200)
            add("unblocked", ref, end, {"summary": "lifted"})
        elif i % 4 == 1:  # half lifted, the rest stays
            add("unblocked", ref, start + timedelta(days=60), {"targets": held[: len(held) // 2]})
        elif i % 4 == 2:
            end = start + timedelta(days=90)
            add("unblocked", ref, end, {"authority": authorities[i % 5]})
        orders.append((ref, held, start, end))
    # corrected: the first order's block happened an hour later than first recorded
    first = events[8]
    add("correction", first["subject"], datetime(2020, 1, 7, tzinfo=WIB), {
        "target": first["id"], "set": {"occurred_at": "2020-01-06T10:30+07:00"},
        "reason": "the decree gives 10:30"})
    add("normalization-requested", "chatapp-2021", datetime(2021, 1, 10, 9, tzinfo=WIB),
        {"platform": "chatapp", "orders": [orders[5][0], orders[6][0]],
         "requested_by": "ChatApp"})
    for condition in ("sop", "trusted-flagger", "local-representative"):
        add("condition-set", "chatapp-2021", datetime(2021, 1, 12, 9, tzinfo=WIB),
            {"condition": condition})
    add("meeting-held", "chatapp-2021", datetime(2021, 2, 3, 14, tzinfo=WIB),
        {"kind": "ceo", "attendees": ["Minister", "ChatApp CEO"]})
    add("sop-agreed", "chatapp-2021", datetime(2021, 3, 1, 11, tzinfo=WIB),
        {"summary": "takedown within 24 hours"})
    add("condition-met", "chatapp-2021", datetime(2021, 3, 2, 11, tzinfo=WIB),
        {"condition": "trusted-flagger"})
    add("condition-waived", "chatapp-2021", datetime(2021, 3, 3, 11, tzinfo=WIB),
        {"condition": "local-representative", "reason": "an office instead"})
    add("normalization-granted", "chatapp-2021", datetime(2021, 3, 5, 16, tzinfo=WIB), {})
    retracted = None
    while len(events) < 500:
        ref, held, start, end = rng.choice(orders)
        seen = start + timedelta(days=rng.randint(1, 260), hours=rng.randint(0, 12))
        blocked = end is None or seen < end
        accessible = (not blocked) if rng.random() > 0.08 else blocked
        observed = add("access-observed", ref, seen, {
            "target": rng.choice(held), "accessible": accessible,
            "network": rng.choice(["ISP One", "ISP Two", "AS64500"])})
        if retracted is None:
            retracted = observed
            add("retraction", ref, seen + timedelta(days=1),
                {"target": observed, "reason": "a VPN measurement"})
    return events


@pytest.fixture(scope="module")
def ten(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A ledger of ``ten_orders``, checkpointed, and its HTML report (times in WIB)."""
    tmp = tmp_path_factory.mktemp("ten")
    db, runner = str(tmp / "ledger.db"), CliRunner()
    lines = tmp / "ten.jsonl"
    lines.write_text("".join(json.dumps(e) + "\n" for e in ten_orders()))
    for args in (("import", str(lines)), ("checkpoint", "-o", str(tmp / "cp.txt")),
                 ("report", "provenance", "chatapp", "--format", "html", "--tz",
                  "Asia/Jakarta", "-o", str(tmp / "report.html"))):
        result = run(runner, db, *args)
        assert result.exit_code == 0, result.output
    return {"tmp": tmp, "db": db, "runner": runner, "html": tmp / "report.html"}


def _browser(binary: str, tmp: Path, page: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp / f"profile{len(list(tmp.glob('profile*')))}"
    return subprocess.run(chromium_args(binary, profile, *args, page.as_uri()),
                          capture_output=True, text=True, timeout=180, check=False)


def _screenshot(binary: str, tmp: Path, page: Path, name: str, size: str) -> Path:
    shot = tmp / name
    done = _browser(binary, tmp, page, f"--screenshot={shot}", f"--window-size={size}",
                    "--hide-scrollbars")
    assert shot.exists(), done.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    if os.environ.get("UPDATE_DOCS_PICTURES"):
        shutil.copyfile(shot, DOCS / name)
    return shot


def _pages(pdf: Path) -> list[str]:
    info = subprocess.run([_tool("pdfinfo"), str(pdf)], capture_output=True, text=True,
                          check=True).stdout
    count = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))  # type: ignore[union-attr]
    text = subprocess.run([_tool("pdftotext"), "-layout", str(pdf), "-"],
                          capture_output=True, text=True, check=True).stdout
    pages = text.split("\f")
    if pages and not pages[-1].strip():
        pages.pop()
    assert len(pages) == count
    return pages


class TestTenOrders:
    def test_screenshot_shows_every_order_with_its_bands(self, ten, chromium):
        """Chromium renders the first screen: ten lanes, each with its order's bands."""
        text = ten["html"].read_text()
        for i in range(10):
            assert f"order-{2020 + i // 5}-{i + 1:02d}</text>" in text
        assert text.count('class="band b-in-effect"') >= 10
        assert 'class="band b-temporarily-lifted"' in text
        assert 'class="band b-partially-lifted"' in text
        _screenshot(chromium, ten["tmp"], ten["html"], "report-ten-orders.png", "1280,1500")
        dom = _browser(chromium, ten["tmp"], ten["html"], "--dump-dom")
        assert "Provenance report: chatapp" in dom.stdout

    def test_labels_of_blocks_and_lifts_in_the_timeline(self, ten):
        """Blocks, lifts, the temporary lift, the meeting, the SOP and the grant are
        labelled in words; a diverging observation is marked."""
        text = ten["html"].read_text()
        for label in ("blocked", "lifted", "lifted for a while", "CEO meeting",
                      "SOP agreed", "granted"):
            assert re.search(rf'<text class="label l-[a-z-]+"[^>]*>{label}</text>', text), label
        assert re.search(r"reachable while blocked|unreachable after lift", text)

    def test_summary_gives_every_interval(self, ten):
        """The summary gives each order's intervals in the chosen zone, the corrected
        block time included, and the temporary lift's end."""
        text = ten["html"].read_text()
        assert "in force: 6 Jan 2020 10:30 WIB → 15 Feb 2020 09:30 WIB (5 of 5" in text
        assert ("lifted for a while: 15 Feb 2020 09:30 WIB → 29 Feb 2020 09:30 WIB (none "
                "blocked; the block came back by itself at its end)") in text
        assert "still at the report&#39;s time" in text or "still at the report's time" in text

    def test_every_interval_is_what_status_as_of_says(self, ten):
        """At the start of each interval the summary gives, and just before its end,
        ``status --as-of`` gives the order that state (the summary's fold kept as it goes
        is the ledger's fold at each instant)."""
        from projections.proof import embedded_report
        from projections.report_summary import summarise

        summary = summarise(json.loads(embedded_report(ten["html"].read_text())))
        checked = 0
        for order in summary.orders:
            for period in order.periods:
                moments = [period.start]
                if period.end is not None:
                    moments.append(period.end - timedelta(minutes=1))
                for moment in moments:
                    out = run(ten["runner"], ten["db"], "status", "chatapp", "--as-of",
                              moment.isoformat(), "--json")
                    states = {o["ref"]: o for o in json.loads(out.stdout)["orders"]}
                    assert states[order.ref]["state"] == period.state, (order.ref, moment)
                    assert sorted(states[order.ref]["blocked_targets"]) == sorted(
                        period.blocked)
                    checked += 1
        assert checked > 30

    def test_pdf_page_count_and_no_event_split(self, ten, chromium):
        """The printed PDF: A4, numbered "page N of M" on every page with the subject and
        checkpoint in the running header, and each event box on one page."""
        pdf = ten["tmp"] / "report.pdf"
        result = run(ten["runner"], ten["db"], "report", "provenance", "chatapp", "--format",
                     "pdf", "--tz", "Asia/Jakarta", "-o", str(pdf))
        assert result.exit_code == 0, result.output
        pages = _pages(pdf)
        assert 20 < len(pages) < 400
        where: dict[str, list[int]] = {}
        for number, page in enumerate(pages, 1):
            assert f"page {number} of {len(pages)}" in page
            assert "Provenance report: chatapp" in page and "checkpoint of 500 events" in page
            for n in re.findall(r"Event (\d+) ·", page):
                where.setdefault(n, []).append(number)
            for n in re.findall(r"end of event (\d+)", page):
                where.setdefault(n, []).append(number)
        assert sorted(map(int, where)) == list(range(1, 501))
        split = {n: p for n, p in where.items() if len(p) != 2 or p[0] != p[1]}
        assert not split, f"event boxes split across pages: {split}"
        info = subprocess.run([_tool("pdfinfo"), str(pdf)], capture_output=True, text=True,
                              check=True).stdout
        assert "(A4)" in info

    def test_letter_paper(self, ten, chromium):
        """--paper letter prints on US Letter."""
        pdf = ten["tmp"] / "letter.pdf"
        result = run(ten["runner"], ten["db"], "report", "provenance", "order-2020-01",
                     "--format", "pdf", "--paper", "letter", "-o", str(pdf))
        assert result.exit_code == 0, result.output
        info = subprocess.run([_tool("pdfinfo"), str(pdf)], capture_output=True, text=True,
                              check=True).stdout
        assert "612 x 792 pts (letter)" in info

    def test_verify_proof_on_the_html(self, ten):
        """verify-proof proves the HTML report and that its page is what it renders to."""
        result = ten["runner"].invoke(__import__("cli").cli, ["verify-proof",
                                                              str(ten["html"])])
        assert result.exit_code == 0, result.output
        assert "500 events proven complete" in result.stdout
        assert "the page is exactly what the proven report renders to" in result.stdout


def test_first_page_of_the_2017_case(runner, sqlite_path, example, tmp_path):
    """A lawyer's question on page 1: when the block was in force and by whose order."""
    _tool("chromium")
    assert run(runner, sqlite_path, "import", str(example)).exit_code == 0
    assert run(runner, sqlite_path, "checkpoint").exit_code == 0
    pdf, html = tmp_path / "telegram.pdf", tmp_path / "telegram.html"
    for fmt, out in (("pdf", pdf), ("html", html)):
        result = run(runner, sqlite_path, "report", "provenance", "telegram", "--format", fmt,
                     "--tz", "Asia/Jakarta", "-o", str(out))
        assert result.exit_code == 0, result.output
    assert len(_pages(pdf)) > 1
    first = " ".join(subprocess.run(  # reading order, not layout: table cells stay whole
        [_tool("pdftotext"), "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True,
        text=True, check=True).stdout.split())
    assert "kominfo-2017-07-14 by Kominfo" in first
    assert "in force: 14 Jul 2017 11:00 WIB → 10 Aug 2017" in first
    assert "Asia/Jakarta" in first and "page 1 of" in first
    assert "blocked" in first and "lifted" in first
    _screenshot(_tool("chromium"), tmp_path, html, "report.png", "1100,1400")
