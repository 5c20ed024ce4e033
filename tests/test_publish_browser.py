"""The published site in a browser (Playwright driving Debian's /usr/bin/chromium, opened
from file://): the slider reads the ledger's folds, the badge is green on an honest site and
red, naming what failed, after one byte is changed; hostile text never runs; no request
leaves the machine."""

# ruff: noqa: F811 (the fixtures imported from tests.site_browser are parameters here)
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.clitools import key_pair, run
from tests.site_browser import (  # noqa: F401 (fixtures, and names other modules took from here)
    AXE,
    CHROMIUM,
    NEEDS_CHROMIUM,
    Page,
    browser,
    show_day,
    site,
    tab,
    tamper,
)

pytestmark = NEEDS_CHROMIUM


class TestReading:
    def test_home_filters_then_the_telegram_page_on_two_days(self, tab, site):
        """Home from file://, filtered; Telegram on 20 July 2017 is partially-blocked with
        11 names, on 20 August accessible; the badge is green."""
        page = tab.open(site / "index.html")
        assert "ok" in tab.badge()[0]
        page.select_option("#f-state", "accessible")
        assert page.is_visible("text=Telegram")
        page.select_option("#f-state", "")
        page.fill("#f-search", "nothing-like-it")
        assert page.inner_text("#f-count") == "0 of 1 platforms"
        page.fill("#f-search", "teleg")
        assert page.inner_text("#f-count") == "1 of 1 platforms"
        page.click("text=Telegram")
        page.wait_for_selector("#badge.ok, #badge.bad")
        assert "ok" in tab.badge()[0], tab.badge()
        # Move the slider itself to 20 July 2017 (days since the epoch).
        day = 17367  # 2017-07-20
        page.eval_on_selector("#day-range", "(r, d) => { r.value = d; "
                              "r.dispatchEvent(new Event('input')); }", day)
        assert page.input_value("#day-date") == "2017-07-20"
        assert page.inner_text("#day-state") == "partially-blocked"
        assert len(page.query_selector_all("#day-blocked li")) == 11
        show_day(page, "2017-08-20")
        assert page.inner_text("#day-state") == "accessible"
        assert not page.query_selector_all("#day-blocked li")

    def test_the_badge_names_what_was_checked(self, tab, site):
        """Green: the signer, the events and the proofs, all named; the history shows
        every event."""
        page = tab.open(site / "platform/telegram.html")
        cls, text = tab.badge()
        assert "ok" in cls
        assert "33 events hash (SHA-256)" in text and "signed by" in text
        assert len(page.query_selector_all("#events > li")) == 33
        page.click("#verify-button")  # again, on demand
        page.wait_for_selector("#badge.ok", timeout=15_000)
        assert len(page.query_selector_all("#events > li")) == 33
        assert "none of telegram's events is left out" in text
        assert "the name and day-by-day status are the ones the publisher signed" in text
        assert page.inner_text("#now-state") == "accessible"

    def test_an_order_page_shows_its_own_events_proven_complete(self, tab, site):
        """The order page verifies the order's own run of the index and shows its 8."""
        page = tab.open(site / "order/kominfo-2017-07-14.html")
        cls, text = tab.badge()
        assert "ok" in cls and "kominfo-2017-07-14's own events 1\u20138 of 8 is left out" \
            in text, text
        assert len(page.query_selector_all("#events > li")) == 8

    def test_filters_hide_rows_at_a_phone_width_too(self, browser, site):
        """At 390 pixels the table is laid out as cards; a filtered-out one is hidden."""
        tab = Page(browser, viewport={"width": 390, "height": 844})
        page = tab.open(site / "index.html")
        assert page.is_visible("text=Telegram")
        page.fill("#f-search", "nothing-like-it")
        assert not page.is_visible("table.platforms tbody tr")
        tab.close()

    def test_keyboard_reaches_the_slider_and_moves_it(self, tab, site):
        """The slider is reachable with Tab and moves with the arrow keys."""
        page = tab.open(site / "platform/telegram.html")
        page.focus("#day-range")
        before = page.input_value("#day-date")
        page.keyboard.press("ArrowLeft")
        assert page.input_value("#day-date") < before


def test_without_javascript_the_pages_read_and_say_unverified(browser, site):
    """No script: the home page and the history still read, marked as not verified."""
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto((site / "index.html").as_uri())
    assert page.is_visible("text=Telegram")
    page.goto((site / "platform/telegram.html").as_uri())
    assert "Not verified" in page.inner_text("#badge")
    assert "JavaScript is off" in page.inner_text("main")
    assert len(page.query_selector_all("noscript ol.events > li")) == 33
    fallback = " ".join(n.inner_text() for n in page.query_selector_all("noscript"))
    assert "Kominfo" in fallback and "not verified" in fallback
    context.close()


class TestTampered:
    def red(self, tab: Page, path: Path) -> str:
        tab.open(path)
        cls, text = tab.badge()
        assert "bad" in cls, text
        assert "NOT VERIFIED" in text
        assert not tab.page.query_selector_all("#events > li")
        return text

    def test_one_byte_of_one_event(self, tab, site):
        """An event's bytes changed: red, naming that event."""
        path = site / "platform/telegram.html"

        def change(data: dict) -> None:
            item = data["events"][4]
            item["canonical"] = item["canonical"].replace("Kominfo", "Kominfa", 1) \
                if "Kominfo" in item["canonical"] else item["canonical"].replace("a", "b", 1)

        tamper(path, change)
        assert "event 5: its bytes do not hash" in self.red(tab, path)

    def test_one_byte_and_its_hash(self, tab, site):
        """Bytes and stated hash both changed: the inclusion proof fails, naming it."""
        import hashlib

        path = site / "platform/telegram.html"

        def change(data: dict) -> None:
            item = data["events"][2]
            item["canonical"] = item["canonical"].replace('"telegram"', '"telegrab"', 1)
            item["hash"] = hashlib.sha256(item["canonical"].encode()).hexdigest()

        tamper(path, change)
        assert "event 3: its inclusion proof" in self.red(tab, path)

    def test_one_hash_in_a_proof(self, tab, site):
        """One proof hash changed: red, naming the event."""
        import base64

        path = site / "order/kominfo-2017-07-14.html"

        def change(data: dict) -> None:
            raw = bytearray(base64.b64decode(data["events"][1]["proof"][0]))
            raw[0] ^= 1
            data["events"][1]["proof"][0] = base64.b64encode(bytes(raw)).decode()

        tamper(path, change)
        assert "event 2: its inclusion proof does not reach" in self.red(tab, path)

    def test_the_checkpoint_signature(self, tab, site):
        """The checkpoint's signature changed: red, naming the signature."""
        import base64

        path = site / "platform/telegram.html"

        def change(data: dict) -> None:
            body, line = data["checkpoint"].rstrip("\n").rsplit("\n", 1)
            dash, name, sig = line.split(" ")
            raw = bytearray(base64.b64decode(sig))
            raw[10] ^= 1
            data["checkpoint"] = (f"{body}\n{dash} {name} "
                                  f"{base64.b64encode(bytes(raw)).decode()}\n")

        tamper(path, change)
        assert "signature by" in self.red(tab, path)
        assert "does not verify" in tab.badge()[1]

    def test_an_event_left_out(self, tab, site):
        """The lift taken off the page (all else intact): red, the platform index proves
        it missing."""
        path = site / "platform/telegram.html"

        def change(data: dict) -> None:
            data["events"] = [e for e in data["events"] if '"type":"unblocked"' not in
                              e["canonical"]]

        tamper(path, change)
        assert "is missing from the page (an event was left out)" in self.red(tab, path)

    def test_an_event_repeated(self, tab, site):
        """The same verified event shipped twice: red."""
        path = site / "platform/telegram.html"
        tamper(path, lambda data: data["events"].append(dict(data["events"][3], n=34)))
        assert "an event is repeated" in self.red(tab, path)

    def test_an_event_left_out_of_an_order_page(self, tab, site):
        """An order page proves its history complete too."""
        path = site / "order/kominfo-2017-07-14.html"
        tamper(path, lambda data: data["events"].pop(3))
        assert "left out" in self.red(tab, path)

    def test_a_status_snapshot_changed(self, tab, site):
        """The day-by-day status changed by the host: red, and no status is shown."""
        path = site / "platform/telegram.html"

        def change(data: dict) -> None:
            data["snapshots_now"]["snapshots"][1]["status"]["state"] = "accessible"

        tamper(path, change)
        assert "status snapshots 1 is not the one the publisher signed" in self.red(tab, path)
        assert not tab.page.is_visible("#day-range")

    def test_the_snapshots_signed_description_changed(self, tab, site):
        """The chunks' description (what the publisher signs) changed: red."""
        path = site / "platform/telegram.html"
        tamper(path, lambda data: data["snapshots"][0].update(count=3))
        assert "snapshots are not the ones the publisher signed" in self.red(tab, path)

    def test_another_platforms_events_under_this_heading(self, tab, site, runner,
                                                         sqlite_path, tmp_path):
        """A page about telegram that proves the events of another platform is red."""
        path = site / "platform/telegram.html"
        tamper(path, lambda data: data["index"].update(platform="viber"))
        assert "proves the events of viber" in self.red(tab, path)

    def test_the_home_list_changed(self, tab, site):
        """A platform's state changed in the home page's list: red, the list not shown."""
        path = site / "index.html"

        def change(data: dict) -> None:
            data["rows"][0]["state"] = "blocked"

        tamper(path, change)
        self.red(tab, path)
        assert "list is not the one the publisher signed" in tab.badge()[1]
        assert not tab.page.is_visible("table.platforms")

    def test_the_shown_key_is_the_key_that_verified(self, runner, tab, site, tmp_path):
        """A host that publishes the same events under its own key and writes the real key
        into its HTML: the page shows the key the signature verified with."""
        real = re.search(r'data-cp="public_key">([^<]+)<',
                         (site / "index.html").read_text()).group(1)
        db, other = str(tmp_path / "host.db"), tmp_path / "other-site"
        host_key, _ = key_pair(tmp_path, "host")
        assert run(runner, db, "import", str(site / "downloads/export.jsonl")).exit_code == 0
        assert run(runner, db, "publish", str(other), "--key", host_key).exit_code == 0
        path = other / "index.html"
        text = path.read_text()
        fake = re.search(r'data-cp="public_key">([^<]+)<', text).group(1)
        path.write_text(text.replace(f'data-cp="public_key">{fake}<',
                                     f'data-cp="public_key">{real}<'))
        page = tab.open(path)
        assert page.inner_text('[data-cp="public_key"]') == fake != real

    def test_an_unknown_field(self, tab, site):
        """Anything the verifier does not expect fails closed."""
        path = site / "platform/telegram.html"
        tamper(path, lambda data: data["events"][0].update(trusted=True))
        assert "event 1 has other fields" in self.red(tab, path)

    def test_a_malformed_proof(self, tab, site):
        """A proof hash that is not base64 of 32 bytes fails closed."""
        path = site / "platform/telegram.html"
        tamper(path, lambda data: data["events"][0]["proof"].append("AAAA"))
        assert "event 1: proof hash" in self.red(tab, path)


def test_without_webcrypto_ed25519_the_vendored_noble_verifies(browser, site):
    """Where WebCrypto has no Ed25519, @noble/ed25519 checks the signature."""
    tab = Page(browser)
    tab.context.add_init_script("""
      const real = crypto.subtle.importKey.bind(crypto.subtle);
      crypto.subtle.importKey = (f, k, alg, ...rest) =>
        (alg && (alg === 'Ed25519' || alg.name === 'Ed25519'))
          ? Promise.reject(new DOMException('no', 'NotSupportedError')) : real(f, k, alg, ...rest);
    """)
    tab.open(site / "index.html")
    cls, text = tab.badge()
    assert "ok" in cls and "noble-ed25519" in text, text
    tab.close()


def test_hostile_text_never_runs(browser, runner, sqlite_path, tmp_path):
    """Platform names, notes and source URLs with markup or javascript: stay text."""
    hostile = '<img src=x onerror="alert(1)"></script><script>alert(2)</script>'
    lines = [
        {"type": "platform-registered", "subject": "evil", "occurred_at": "2020-01-01",
         "sources": [{"url": "javascript:alert(3)", "title": hostile}], "note": hostile,
         "data": {"name": hostile, "targets": ["evil.example"]}},
        {"type": "blocked", "subject": "order-1", "occurred_at": "2020-02-01",
         "sources": [{"url": "https://example.org/?q=<b>", "title": hostile}],
         "data": {"platform": "evil", "authority": hostile, "targets": ["evil.example"],
                  "reasons": [hostile]}},
    ]
    source = tmp_path / "hostile.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in lines))
    result = run(runner, sqlite_path, "import", str(source))
    assert result.exit_code == 0, result.stderr
    private, _ = key_pair(tmp_path, "publisher")
    out = tmp_path / "site"
    assert run(runner, sqlite_path, "publish", str(out), "--key", private).exit_code == 0
    tab = Page(browser)
    for name in ("index.html", "platform/evil.html", "order/order-1.html"):
        page = tab.open(out / name)
        assert "ok" in tab.badge()[0], tab.badge()
        assert not page.query_selector_all("img"), name
        assert page.eval_on_selector_all("script", "s => s.filter(x => !x.src && "
                                         "x.type !== 'application/json').length") == 0
        hrefs = page.eval_on_selector_all("a", "as => as.map(a => a.getAttribute('href'))")
        assert not [h for h in hrefs if h and h.lower().startswith("javascript")], hrefs
    assert not tab.dialogs
    tab.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_no_serious_accessibility_violation(browser, site, width):
    """axe-core (vendored from npm) finds no serious or critical violation on the home,
    platform and order pages, at a desktop's and a phone's width."""
    # bypass_csp: to inject axe itself; the pages load nothing
    tab = Page(browser, bypass_csp=True, viewport={"width": width, "height": 900})
    for name in ("index.html", "platform/telegram.html", "order/kominfo-2017-07-14.html"):
        page = tab.open(site / name)
        page.add_script_tag(path=str(AXE))
        result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
               for v in result["violations"] if v["impact"] in ("serious", "critical")]
        assert not bad, (name, bad)
    tab.close()


class TestArchive:
    @pytest.fixture
    def twice(self, runner, site, sqlite_path, tmp_path) -> Path:
        """The 2017 case published, one more event, published again over it."""
        more = tmp_path / "more.jsonl"
        more.write_text(json.dumps({
            "type": "statement-issued", "subject": "telegram", "occurred_at": "2017-08-11",
            "sources": [{"title": "A later statement"}],
            "data": {"by": "Telegram", "summary": "Thanks."}}) + "\n")
        assert run(runner, sqlite_path, "import", str(more)).exit_code == 0
        private = str(tmp_path / "publisher.pem")
        result = run(runner, sqlite_path, "publish", str(site), "--key", private)
        assert result.exit_code == 0, result.stderr
        return site

    def test_the_consistency_proof_verifies_in_the_browser(self, tab, twice):
        """The home page proves the first publication's checkpoint extended."""
        page = tab.open(twice / "index.html")
        cls, text = tab.badge()
        assert "ok" in cls and "1 earlier publication extends into it" in text, text
        assert "consistency proof verified" in page.inner_text(".archive-result")

    def test_a_broken_consistency_proof_is_red(self, tab, twice):
        """One hash of the consistency proof changed: red, naming the archived file."""
        import base64

        def change(data: dict) -> None:
            proof = data["archive"][0]["proof"]
            raw = bytearray(base64.b64decode(proof[-1]))
            raw[3] ^= 1
            proof[-1] = base64.b64encode(bytes(raw)).decode()

        tamper(twice / "index.html", change)
        tab.open(twice / "index.html")
        cls, text = tab.badge()
        assert "bad" in cls and "archive/checkpoint-33-" in text, text
        assert "does not extend it" in text


def note_of(site: Path) -> tuple[int, str]:
    """The tree size and time of the checkpoint ``site`` published."""
    lines = (site / "checkpoint.txt").read_text().split("\n")
    return int(lines[1]), lines[4].removeprefix("time ")


class TestHostileHost:
    """A host that can edit any published file but holds no key: nothing it writes may
    make a green page say something false."""

    def red(self, tab: Page, path: Path) -> str:
        return TestTampered.red(self, tab, path)

    def test_now_is_the_checkpoints_signed_time_not_an_unsigned_date(self, tab, site):
        """F1: an unsigned "published" date set back to 20 July 2017 (when telegram was
        partially blocked) is refused, and "now" says the checkpoint's time."""
        size, time = note_of(site)
        path = site / "platform/telegram.html"
        page = tab.open(path)
        assert "ok" in tab.badge()[0]
        assert page.inner_text("#now-state") == "accessible"
        assert f"as of {time}, the checkpoint of {size} events" in page.inner_text("#now-line")
        assert page.input_value("#day-date") == time[:10]  # the slider ends at the note's day
        tamper(path, lambda data: data.update(published="2017-07-20T12:00:00+00:00"))
        self.red(tab, path)
        assert "partially-blocked" not in tab.page.inner_text("#now-line")

    def test_the_checkpoint_time_cannot_be_moved_back(self, tab, site):
        """F1: the note's time set back to 2017 breaks its signature: red, no "now"."""
        path = site / "platform/telegram.html"

        def change(data: dict) -> None:
            data["checkpoint"] = re.sub(r"\ntime [^\n]+\n", "\ntime 2017-07-20T12:00:00Z\n",
                                        data["checkpoint"])

        tamper(path, change)
        assert "does not verify" in self.red(tab, path)
        assert "partially-blocked" not in tab.page.inner_text("#now-line")

    def test_an_order_headline_edited_in_the_html_is_never_shown(self, tab, site):
        """F2: "lifted" written over as "in force" in the order page's HTML: the headline
        comes from the signed statement, so the edit is never shown."""
        path = site / "order/kominfo-2017-07-14.html"
        path.write_text(path.read_text().replace('state-lifted">lifted',
                                                 'state-in-force">in force'))
        page = tab.open(path)
        assert "ok" in tab.badge()[0]
        assert "in force" not in page.inner_text("body")
        headline = page.inner_text("#headline")
        assert "lifted" in headline and "telegram" in headline, headline
        assert "as of " in headline

    def test_an_order_headline_edited_in_the_data_is_red(self, tab, site):
        """F2: the signed statement's state changed: red, and no headline shown."""
        path = site / "order/kominfo-2017-07-14.html"
        tamper(path, lambda data: data["headline"].update(state="in-force"))
        assert "headline" in self.red(tab, path)
        assert "in-force" not in tab.page.inner_text("body")

    def test_a_request_headline_with_its_platforms_changed_is_red(self, tab, site):
        """F2: a request page's platforms changed: red."""
        path = site / "request/telegram-id-2017.html"
        page = tab.open(path)
        assert "ok" in tab.badge()[0], tab.badge()
        assert "telegram" in page.inner_text("#headline")
        tamper(path, lambda data: data["headline"].update(platforms=["viber"]))
        self.red(tab, path)
        assert "viber" not in tab.page.inner_text("#headline")

    def test_a_platforms_orders_and_observations_come_from_the_signed_now(self, tab, site):
        """F3: the orders' states and the "Published" line edited in the HTML are never
        shown: they come from the signed snapshot and the note."""
        _, time = note_of(site)
        path = site / "platform/telegram.html"
        text = path.read_text()
        text = re.sub(r'(<noscript><p class="bad">Not verified: JavaScript is off.</p>\n<ul>)'
                      r'(.*?)(</ul>)', lambda m: m.group(1) + m.group(2).replace(
                          'state-lifted">lifted', 'state-in-force">in force') + m.group(3),
                      text, count=1, flags=re.S)
        text = re.sub(r'signed time, <span data-cp="time">[^<]+<',
                      'signed time, <span data-cp="time">2017-07-20T12:00:00Z<', text)
        path.write_text(text)
        page = tab.open(path)
        assert "ok" in tab.badge()[0]
        links = page.inner_text("#now-links")
        assert "kominfo-2017-07-14" in links and "lifted" in links and "in force" not in links
        assert "granted" in links
        assert page.inner_text("#now-obs")
        assert "2017-07-20T12:00:00Z" not in page.inner_text("footer")
        assert time in page.inner_text("footer")

    def test_the_badge_names_the_publication_it_proves(self, runner, tab, site, sqlite_path,
                                                       tmp_path):
        """F4: an older signed page copied over the current one still verifies, but its
        badge and its "now" name the older checkpoint, and the site's latest.js (which
        the newer publication wrote) makes it say, in amber, that it is out of date."""
        old_page = (site / "platform/telegram.html").read_text()
        old_size, old_time = note_of(site)
        more = tmp_path / "more.jsonl"
        more.write_text(json.dumps({
            "type": "statement-issued", "subject": "telegram", "occurred_at": "2017-08-11",
            "sources": [{"title": "A later statement"}],
            "data": {"by": "Telegram", "summary": "Thanks."}}) + "\n")
        assert run(runner, sqlite_path, "import", str(more)).exit_code == 0
        private = str(tmp_path / "publisher.pem")
        assert run(runner, sqlite_path, "publish", str(site), "--key", private).exit_code == 0
        new_size, new_time = note_of(site)
        assert new_size == old_size + 1
        path = site / "platform/telegram.html"
        page = tab.open(path)
        assert f"checkpoint of {new_size} events at {new_time}" in tab.badge()[1]
        path.write_text(old_page)
        page = tab.open(path)
        cls, text = tab.badge()
        assert "stale" in cls and "ok" not in cls, cls
        assert text.startswith(f"\u26a0 OUT OF DATE (this site holds a newer publication: "
                               f"the checkpoint of {new_size} events at {new_time})"), text
        assert f"checkpoint of {old_size} events at {old_time}" in text, text
        assert "the latest publication extends this one (consistency proof verified)" in text
        assert f"the checkpoint of {old_size} events" in page.inner_text("#now-line")
        assert page.is_visible("#stale")
        assert f"publication of {old_size} events" in page.inner_text("#stale")

    @pytest.mark.parametrize("source, target", [
        ("platform/telegram.html", "platform/viber.html"),
        ("order/kominfo-2017-07-14.html", "order/kominfo-2018-01-01.html"),
        ("order/kominfo-2017-07-14.html", "request/kominfo-2017-07-14.html"),
    ])
    def test_a_page_copied_over_another_subjects_is_red(self, tab, site, source, target):
        """F12: a green page copied to another subject's file name (or kind's directory)
        is red: the page proves its own subject only."""
        path = site / target
        path.write_text((site / source).read_text())
        assert "copied over another" in self.red(tab, path)
        assert "Not shown" in tab.page.inner_text("main")
