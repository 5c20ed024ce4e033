"""The provenance report's renderers: Markdown, self-contained HTML and PROV-JSON."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import subprocess
from base64 import b64encode
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt
from markupsafe import escape as markup_escape
from prov import model as pm

from projections.proof import embedded_report
from projections.report_render import render_html, render_markdown, render_prov

CHROMIUM = Path("/usr/bin/chromium")
EMAIL, DISPUTE, SILENCE = ("10d8da96-48a1-5e69-a304-3cd9cd359e48",
                           "8eddad60-eb99-5618-a8b2-a39b66efca1e",
                           "1e7fa962-2e4f-58a4-a913-90f907836e09")
BLOCK, CORRECTION = "8aecbeb8-f79b-576e-b93a-2f1140c95680", "82c5172f-b9c7-5e68-b01c-8be887fb6030"
SEEN, RETRACTION = "df2e4b06-0000-4000-8000-000000000001", "aa11bb22-0000-4000-8000-000000000002"
BLOCK_SUMMARY = "Kominfo orders 2 targets of telegram blocked (terrorism)"
JAKARTA_POST = {"title": "The Jakarta Post, 14 Jul 2017: Govt blocks web-based Telegram app"}
LIPUTAN6 = {"url": "https://www.liputan6.com/tekno/read/3023074",
            "title": "liputan6.com tekno 3023074: the 11 blocked Telegram domain names"}
PILKITA = {"title": "PILKITA, 1 Aug 2017: Menkominfo Rudiantara menerima CEO Telegram",
           "sha256": "e1037f5d3d6300f6db29a435532d80b907a3145c78cebc738b86bccef843ff1a",
           "quote": "namun Kementerian tersebut tidak menerima tanggapan apapun"}
VIVA = {"title": "viva.co.id: infografik kronologi pemblokiran Telegram"}
ROOT = b64encode(hashlib.sha256(b"root").digest()).decode()


def _proof(position: int) -> list[str]:
    return [b64encode(hashlib.sha256(f"{position}/{i}".encode()).digest()).decode()
            for i in range(3)]


def _event(id_: str, type_: str, subject: str, occurred_at: str, position: int, summary: str,
           data: dict[str, Any], sources: list[dict[str, str]], *, by: str = "alice",
           covered: bool = True, **extra: Any) -> dict[str, Any]:
    return {"id": id_, "type": type_, "subject": subject, "occurred_at": occurred_at,
            "sources": sources, "data": data, "recorded_at": f"2026-11-2{position}T09:00:00+00:00",
            "recorded_by": by, "position": position,
            "hash": hashlib.sha256(id_.encode()).hexdigest(), "summary": summary,
            "corrected_by": [], "retracted_by": [], "disputed_by": [],
            "leaf_index": position - 1, "proof": _proof(position) if covered else None,
            **extra}


def make_report() -> dict[str, Any]:
    """Telegram, 2016-2017: a disputed email, a corrected block, a retracted observation."""
    events = [
        _event(EMAIL, "email-sent", "telegram", "2016-03-29", 1,
               "Kominfo emails Telegram's takedown address: first of six emails",
               {"sender": "Kominfo", "recipient": "Telegram's takedown address",
                "summary": "first of six emails"}, [VIVA],
               note="Individual email dates are unknown.", disputed_by=[DISPUTE]),
        _event(DISPUTE, "dispute", "telegram", "2016-03-29", 6,
               f"disputes {EMAIL}: viva.co.id reports the first email as 29 Mar 2017",
               {"target": EMAIL, "claim": "viva.co.id reports the first email as 29 Mar 2017"},
               [VIVA], by="bob"),
        _event(SILENCE, "no-response", "telegram", "2017-07-13", 2,
               "no response: none of the six emails was answered",
               {"summary": "none of the six emails was answered"}, [VIVA, PILKITA]),
        _event(BLOCK, "blocked", "kominfo-2017-07-14", "2017-07-14", 3, BLOCK_SUMMARY,
               {"platform": "telegram", "authority": "Kominfo", "reasons": ["terrorism"],
                "targets": ["t.me", "web.telegram.org"]}, [LIPUTAN6, JAKARTA_POST],
               note="First recorded with the day only.", corrected_by=[CORRECTION],
               current={"occurred_at": "2017-07-14T11:00:00+07:00",
                        "data": {"platform": "telegram", "authority": "Kominfo",
                                 "reasons": ["terrorism"],
                                 "targets": ["t.me", "web.telegram.org"]}}),
        _event(CORRECTION, "correction", "kominfo-2017-07-14", "2017-07-14T11:00:00+07:00", 5,
               f"corrects {BLOCK}: occurred_at=2017-07-14T11:00:00+07:00 (reports give 11:00)",
               {"target": BLOCK, "set": {"occurred_at": "2017-07-14T11:00:00+07:00"},
                "reason": "reports give the time: about 11:00 WIB"}, [JAKARTA_POST], by="bob"),
        _event(SEEN, "access-observed", "kominfo-2017-07-14", "2017-07-15", 4,
               "t.me observed reachable on Telkomsel",
               {"target": "t.me", "accessible": True, "network": "Telkomsel"},
               [{"url": "https://ooni.example/m/1", "title": "OONI measurement"}],
               retracted_by=[RETRACTION]),
        _event(RETRACTION, "retraction", "kominfo-2017-07-14", "2017-07-20", 7,
               f"retracts {SEEN}: the measurement was from a VPN",
               {"target": SEEN, "reason": "the measurement was from a VPN"}, [], by="bob",
               covered=False),
    ]
    note = f"blockledger/ledger.db\n6\n{ROOT}\n\n— archive-key AbCdEf0123==\n"
    return {"report": "provenance", "subject": "telegram",
            "generated_at": "2026-11-29T04:00:00+00:00", "as_of": None, "as_known_at": None,
            "ledger": {"origin": "blockledger/ledger.db", "events": 7},
            "verification": {"ok": True, "events": 7, "first_bad_position": None,
                             "reason": None},
            "checkpoint": {"origin": "blockledger/ledger.db", "tree_size": 6, "root_hash": ROOT,
                           "chain_head": hashlib.sha256(b"head").hexdigest(),
                           "time": "2026-11-28T12:00:00Z", "signers": ["archive-key"],
                           "note": note},
            "events": events}


PAYLOADS = ['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>',
            '</script><script>alert(1)</script><!--', '";}body{display:none}@import "x',
            "[click](javascript:alert(1)) ![x](https://evil.example/x.png) "
            "<https://evil.example> # heading\n# heading\n- item\n<b>bold</b>"]


def poisoned(payload: str) -> dict[str, Any]:
    """The report with the payload in every piece of user text, URLs included."""
    report = copy.deepcopy(make_report())
    report["subject"] = report["ledger"]["origin"] = payload
    report["checkpoint"].update(origin=payload, signers=[payload], note=payload)
    for ev in report["events"]:
        ev.update(summary=payload, note=payload, recorded_by=payload, subject=payload)
        ev["data"] = {k: payload if isinstance(v, str) else v for k, v in ev["data"].items()}
        ev["sources"] = [{"title": payload, "url": payload, "quote": payload},
                         {"title": payload, "url": "https://example.org/" + payload}]
    return report


class Page(HTMLParser):
    """Every tag and attribute of a page, and the text of its style elements."""

    def __init__(self, text: str):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.styles: list[str] = []
        self._in_style = False
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)

    def count(self, *names: str) -> int:
        return sum(1 for tag, _ in self.tags if tag in names)

    def hrefs(self) -> list[str]:
        return [str(attrs.get("href")) for tag, attrs in self.tags if tag == "a"]


ALLOWED_TAGS = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p",
                "section", "span", "i", "b", "svg", "line", "text", "circle", "a", "code",
                "dl", "dt", "dd", "ol", "ul", "li", "br", "blockquote", "details", "summary",
                "pre", "table", "thead", "tbody", "tr", "th", "td", "strong", "rect", "path",
                "script"}  # script: only the embedded JSON report (checked below)


def scripts(page: Page) -> list[dict[str, str | None]]:
    return [attrs for tag, attrs in page.tags if tag == "script"]


def markdown_as_html(report: dict[str, Any]) -> Page:
    return Page(MarkdownIt("commonmark").render(render_markdown(report)))


class TestMarkdown:
    def test_every_event_with_its_id_hash_and_proof(self):
        """Each event's id, hash and proof hashes appear, with the checkpoint root."""
        report = make_report()
        md = render_markdown(report)
        assert ROOT in md and report["checkpoint"]["chain_head"] in md
        for ev in report["events"]:
            assert ev["id"] in md and ev["hash"] in md
            assert all(h in md for h in ev["proof"] or [])
        assert "blockledger verify-proof report.json --public-key key.pub" in md

    def test_marks_original_values_and_sources(self):
        """Corrections show both values; marks name the amending event; quotes are kept."""
        md = render_markdown(make_report())
        assert "recorded 2017-07-14 → counts now as 2017-07-14T11:00:00+07:00" in md
        assert f"**corrected by:** `{CORRECTION}` (event 5)" in md
        assert f"**retracted by:** `{RETRACTION}` (event 7)" in md
        assert f"**disputed by:** `{DISPUTE}` (event 2)" in md
        assert "blocked (terrorism) **[CORRECTED]**" in md and "~~t.me observed" in md
        assert PILKITA["sha256"] in md and PILKITA["quote"] in md
        assert f"<{LIPUTAN6['url']}>" in md
        assert "none (the checkpoint does not cover it)" in md

    def test_without_checkpoint_and_with_a_failed_verification(self):
        """A failure names its position; without a checkpoint the report says so."""
        report = make_report()
        report.update(checkpoint=None, as_of="2017-07-20", verification={
            "ok": False, "events": 7, "first_bad_position": 4, "reason": "hash mismatch"})
        for event in report["events"]:
            event["proof"] = None
        for text in render_markdown(report), render_html(report):
            assert "FAILED at position 4: hash mismatch" in text
            assert "no inclusion proofs" in text and "2017-07-20" in text
            assert ROOT not in text

    def test_links_are_the_sources_only(self):
        """Rendered, the Markdown links exactly the http(s) sources."""
        page = markdown_as_html(make_report())
        assert set(page.hrefs()) == {LIPUTAN6["url"], "https://ooni.example/m/1"}

    @pytest.mark.parametrize("payload", PAYLOADS)
    def test_user_text_cannot_inject(self, payload):
        """User text opens no link, HTML element, heading or list in the rendered Markdown."""
        clean = markdown_as_html(poisoned("harmless words"))
        dirty = markdown_as_html(poisoned(payload))
        assert dirty.count("script", "img", "b") == 0
        assert dirty.hrefs() == []  # the only http(s) URL left contains the payload
        for tags in ("h1", "h2", "h3", "h4"), ("ul", "ol"):
            assert dirty.count(*tags) == clean.count(*tags)
        html = MarkdownIt("commonmark").render(render_markdown(poisoned(payload)))
        assert "<script>" not in html and "<img" not in html


class TestHtml:
    def test_same_content_as_the_markdown(self):
        """Ids, hashes, proofs, checkpoint and marks all appear in the page."""
        report = make_report()
        page = render_html(report)
        assert ROOT in page and "archive-key" in page
        for ev in report["events"]:
            assert ev["id"] in page and ev["hash"] in page
            assert all(h in page for h in ev["proof"] or [])
        assert "m-corrected" in page and "m-retracted" in page and "m-disputed" in page
        assert escape(PILKITA["quote"]) in page

    def test_timeline_labels_the_block_and_links_its_marks(self):
        """The order's lane draws its block, labelled in words; every mark links an event."""
        report = make_report()
        text = render_html(report)
        page = Page(text)
        assert '<text class="label l-blocked"' in text and ">blocked</text>" in text
        marks = {a["href"] for tag, a in page.tags if tag == "a" and
                 str(a.get("href")).startswith("#ev-")}
        assert marks and marks <= {f"#ev-{n}" for n in range(1, 8)}
        assert page.count("svg") == 1

    def test_embeds_the_report_exactly(self):
        """The page carries the JSON report in one inert script element, parsed back equal."""
        report = make_report()
        page = Page(render_html(report))
        assert scripts(page) == [{"type": "application/json", "id": "blockledger-report"}]
        assert json.loads(embedded_report(render_html(report))) == report

    def test_loads_nothing(self):
        """No element fetches anything; only source links point outside the page."""
        page = Page(render_html(make_report()))
        assert {tag for tag, _ in page.tags} <= ALLOWED_TAGS
        for tag, attrs in page.tags:
            assert not {"src", "srcset", "poster", "background"} & set(attrs)
            assert tag == "a" or "href" not in attrs
        assert not any("url(" in s or "@import" in s for s in page.styles)
        external = [h for h in page.hrefs() if not h.startswith("#ev-")]
        assert set(external) == {LIPUTAN6["url"], "https://ooni.example/m/1"}
        assert any(a.get("http-equiv") == "Content-Security-Policy" for _, a in page.tags)
        mentioned = set(re.findall(r"https?://[^\s\"<]+", render_html(make_report())))
        assert mentioned == {LIPUTAN6["url"], "https://ooni.example/m/1"}

    @pytest.mark.parametrize("payload", PAYLOADS)
    def test_user_text_is_escaped(self, payload):
        """The payload shows as text in every field and never as markup."""
        text = render_html(poisoned(payload))
        page = Page(text)
        assert text.count("<script") == 1 and text.count("</script>") == 1
        assert "<img" not in text and "<b>bold" not in text
        assert scripts(page) == [{"type": "application/json", "id": "blockledger-report"}]
        assert json.loads(embedded_report(text)) == poisoned(payload)
        # html.escape and markupsafe (Jinja2's) write a quote differently (&quot;, &#34;)
        assert any(esc(shown) in text for esc in (escape, markup_escape)
                   for shown in (" ".join(payload.split()), payload))
        assert {tag for tag, _ in page.tags} <= ALLOWED_TAGS
        assert not any(k.startswith("on") for _, attrs in page.tags for k in attrs)
        # the running header's CSS strings hold the subject, escaped for CSS
        assert not any("body{display:none}" in s or "@import" in s or "</" in s
                       for s in page.styles)
        # only the http(s) source URL is a link, and the payload stays inside its attribute
        assert set(page.hrefs()) - {f"#ev-{n}" for n in range(1, 8)} == {
            "https://example.org/" + payload}


class TestProv:
    def doc(self) -> pm.ProvDocument:
        return pm.ProvDocument.deserialize(content=render_prov(make_report()), format="json")

    def test_agents_activities_entities(self):
        """Two operators, one recording per event, events plus sources plus one current view."""
        doc = self.doc()
        sources = {json.dumps(s, sort_keys=True) for ev in make_report()["events"]
                   for s in ev["sources"] for s in [{k: v for k, v in s.items() if k != "quote"}]}
        assert len(list(doc.get_records(pm.ProvAgent))) == 2
        assert len(list(doc.get_records(pm.ProvActivity))) == 7
        assert len(list(doc.get_records(pm.ProvEntity))) == 7 + len(sources) + 1

    def test_relations(self):
        """Generation, attribution, association per event; usage and derivation per source."""
        doc, report = self.doc(), make_report()
        cited = sum(len(ev["sources"]) for ev in report["events"])
        for kind in (pm.ProvGeneration, pm.ProvAttribution, pm.ProvAssociation):
            assert len(list(doc.get_records(kind))) == 7
        assert len(list(doc.get_records(pm.ProvUsage))) == cited
        derivations = list(doc.get_records(pm.ProvDerivation))
        # sources + 3 amendments to their targets + the corrected view from its correction
        # + its revision of the event as recorded
        assert len(derivations) == cited + 3 + 1 + 1
        types = [t.localpart for d in derivations for t in d.get_asserted_types()]
        assert sorted(types) == ["Correction", "Dispute", "Retraction", "Revision"]
        quotes = [v for d in derivations for k, v in d.attributes if k.localpart == "quote"]
        assert quotes == [PILKITA["quote"]]

    def test_event_attributes(self):
        """An event entity carries its hash, position, type and summary."""
        doc = self.doc()
        block = next(e for e in doc.get_records(pm.ProvEntity)
                     if e.identifier.localpart == f"event-{BLOCK}")
        attrs = {k.localpart: v for k, v in block.attributes}
        assert attrs["hash"] == hashlib.sha256(BLOCK.encode()).hexdigest()
        assert int(attrs["position"]) == 3 and attrs["type"] == "blocked"
        assert attrs["summary"] == BLOCK_SUMMARY

    def test_amendments_name_their_target(self):
        """Each correction, retraction and dispute carries bl:amends, its target's id."""
        amends = {e.identifier.localpart: str(v) for e in self.doc().get_records(pm.ProvEntity)
                  for k, v in e.attributes if k.localpart == "amends"}
        assert amends == {f"event-{CORRECTION}": f"ex:event-{BLOCK}",
                          f"event-{RETRACTION}": f"ex:event-{SEEN}",
                          f"event-{DISPUTE}": f"ex:event-{EMAIL}"}


def _chromium(tmp: Path, page: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp / f"profile{len(list(tmp.glob('profile*')))}"
    return subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={profile}", *args, page.as_uri()],
        capture_output=True, text=True, timeout=60, check=False)


def test_html_renders_in_headless_chromium(tmp_path):
    """Chromium renders the page: the DOM holds the subject and a summary, the PNG is real."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing and CI is set")
        pytest.skip(f"no {CHROMIUM}")
    page = tmp_path / "report.html"
    page.write_text(render_html(make_report()), encoding="utf-8")
    shot = tmp_path / "shot.png"
    done = _chromium(tmp_path, page, f"--screenshot={shot}", "--window-size=1280,2000")
    assert shot.exists(), done.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 5_000
    dom = _chromium(tmp_path, page, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "Provenance report: telegram" in dom.stdout and BLOCK_SUMMARY in dom.stdout
