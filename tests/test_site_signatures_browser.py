"""Operators' signatures of events, checked in the browser: each event's Ed25519
signature over what the ledger signs (``ledger.signatures``), against the key that the
ledger's own operator events register (shipped with the page, verified like any event,
proven complete by the platform index's ``#operators`` run), by the rules ``verify``
applies; a signature changed, taken off, or by a key no operator had is red, naming the
event."""

# ruff: noqa: F811 (the fixtures imported from tests.site_browser are parameters here)
from __future__ import annotations

import base64
from pathlib import Path

import pytest

from tests.clitools import key_pair, run
from tests.site_browser import NEEDS_CHROMIUM, Page, browser, tab, tamper  # noqa: F401

pytestmark = NEEDS_CHROMIUM

PAGE = "platform/telegram.html"


@pytest.fixture
def site(runner, sqlite_path, example, tmp_path) -> Path:
    """Alice registered as the ledger's first operator (signing her own registration),
    then the 2017 case imported and signed by her; published."""
    pem, pub = key_pair(tmp_path, "alice")
    alice = ["--operator", "alice", "--key", pem]
    done = run(runner, sqlite_path, *alice, "operator", "add", "alice", "--public-key", pub,
               "--source", "appointment letter")
    assert done.exit_code == 0, done.output
    done = run(runner, sqlite_path, *alice, "import", str(example))
    assert done.exit_code == 0, done.output
    private, _ = key_pair(tmp_path, "publisher")
    out = tmp_path / "site"
    done = run(runner, sqlite_path, "publish", str(out), "--key", private)
    assert done.exit_code == 0, done.stderr
    return out


def red(tab: Page, path: Path) -> str:
    tab.open(path)
    cls, text = tab.badge()
    assert "bad" in cls, text
    assert not tab.page.query_selector_all("#events > li")
    return text


def flip(text: str, at: int = 5) -> str:
    raw = bytearray(base64.b64decode(text))
    raw[at] ^= 1
    return base64.b64encode(bytes(raw)).decode()


def test_every_signature_verifies_and_is_named(tab, site):
    """Green: all 33 events signed by alice, whose registration the page verifies; each
    event says who signed it."""
    page = tab.open(site / PAGE)
    cls, text = tab.badge()
    assert "ok" in cls, text
    assert "33 of them signed by their recorders" in text
    assert "the ledger's 1 operator" in text
    metas = [m.inner_text() for m in page.query_selector_all("#events > li .meta")]
    assert len(metas) == 33
    assert all("signed by alice (signature verified)" in m for m in metas)


def test_an_order_page_checks_its_events_signatures_too(tab, site):
    tab.open(site / "order/kominfo-2017-07-14.html")
    cls, text = tab.badge()
    assert "ok" in cls and "signed by their recorders" in text, text


def test_a_signature_changed_is_red_naming_the_event(tab, site):
    path = site / PAGE

    def change(data: dict) -> None:
        data["events"][4]["signature"]["signature"] = flip(
            data["events"][4]["signature"]["signature"])

    tamper(path, change)
    assert "event 5: its operator signature does not verify with alice's key" in red(tab, path)


def test_a_signature_taken_off_is_red(tab, site):
    path = site / PAGE
    tamper(path, lambda data: data["events"][6].update(signature=None))
    assert "event 7 is not signed, though an operator was registered before it" in red(
        tab, path)


def test_a_key_no_operator_had_is_red(tab, site):
    path = site / PAGE
    tamper(path, lambda data: data["events"][2]["signature"].update(key_id="0" * 32))
    assert "event 3 is signed by a key no operator had then" in red(tab, path)


def test_the_operator_events_left_out_are_red(tab, site):
    """Without alice's registration nothing could be checked: the index proves it is
    missing."""
    path = site / PAGE
    tamper(path, lambda data: data["operators"].update(events=[]))
    assert "an operator was left out" in red(tab, path)


def test_an_operator_event_altered_is_red(tab, site):
    """Another key put in alice's registration: its bytes no longer hash."""
    path = site / PAGE

    def change(data: dict) -> None:
        item = data["operators"]["events"][0]
        item["canonical"] = item["canonical"].replace('"role"', '"rol"', 1) \
            if '"role"' in item["canonical"] else item["canonical"].replace("a", "b", 1)

    tamper(path, change)
    assert "operator event 1: its bytes do not hash" in red(tab, path)


def test_a_ledger_without_operators_says_its_events_are_unsigned(tab, runner, sqlite_path,
                                                                 example, tmp_path):
    assert run(runner, sqlite_path, "import", str(example)).exit_code == 0
    private, _ = key_pair(tmp_path, "publisher")
    out = tmp_path / "plain"
    assert run(runner, sqlite_path, "publish", str(out), "--key", private).exit_code == 0
    page = tab.open(out / PAGE)
    cls, text = tab.badge()
    assert "ok" in cls and "no operator is registered, so no event is signed" in text, text
    assert "not signed" in page.inner_text("#events > li .meta")
