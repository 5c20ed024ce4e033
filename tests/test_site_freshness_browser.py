"""An older publication served in place of the current one (item 2 of issue 17). No page
can prove that it is the latest (a static host can always serve a whole older copy), but
every page says how old its checkpoint is, checks the site's latest.js (rewritten by every
publication) and remembers the largest checkpoint this browser verified: an older page
is then amber and names the newer publication; two different trees of one size signed by
the key (a fork) are red."""

# ruff: noqa: F811 (the fixtures imported from tests.site_browser are parameters here)
from __future__ import annotations

import base64
import json
import re
import shutil
from pathlib import Path

import pytest

from tests.clitools import key_pair, run
from tests.site_browser import NEEDS_CHROMIUM, Page, browser, tab  # noqa: F401 (fixtures)

pytestmark = NEEDS_CHROMIUM

ORIGIN = "example.org/ledger"
PAGE = "platform/telegram.html"
LATER = {"type": "statement-issued", "subject": "telegram", "occurred_at": "2017-08-11",
         "sources": [{"title": "A later statement"}],
         "data": {"by": "Telegram", "summary": "Thanks."}}


def publish(runner, db: str, key: str, out: Path) -> Path:
    result = run(runner, db, "publish", str(out), "--key", key, "--origin", ORIGIN)
    assert result.exit_code == 0, result.stderr
    return out


@pytest.fixture
def two(runner, sqlite_path, example, tmp_path) -> tuple[Path, Path]:
    """The 2017 case published (a copy kept as ``old``), then one more event published
    over it (``site``)."""
    assert run(runner, sqlite_path, "import", str(example)).exit_code == 0
    key, _ = key_pair(tmp_path, "publisher")
    site = publish(runner, sqlite_path, key, tmp_path / "site")
    old = tmp_path / "old"
    shutil.copytree(site, old)
    more = tmp_path / "more.jsonl"
    more.write_text(json.dumps(LATER) + "\n")
    assert run(runner, sqlite_path, "import", str(more)).exit_code == 0
    publish(runner, sqlite_path, key, site)
    return site, old


def latest(site: Path) -> dict:
    text = (site / "latest.js").read_text()
    return json.loads(re.search(r"BL_LATEST = (.*);\n", text).group(1))


def write_latest(site: Path, data: dict) -> None:
    (site / "latest.js").write_text(f"globalThis.BL_LATEST = {json.dumps(data)};\n")


def test_every_page_says_how_old_its_checkpoint_is(tab, two):
    """Green on the current publication, with its age by the reader's clock."""
    site, _ = two
    tab.open(site / PAGE)
    cls, text = tab.badge()
    assert "ok" in cls, text
    assert "day" in text and "before your clock's now" in text
    assert not tab.page.is_visible("#stale")


def test_an_older_copy_after_the_newer_one_is_amber(tab, two):
    """The whole older copy (its own latest.js too, so nothing on that host says it is
    old), opened after the newer one in the same browser: amber, from what the browser
    remembers."""
    site, old = two
    tab.open(site / PAGE)
    assert "ok" in tab.badge()[0]
    tab.open(old / PAGE)
    cls, text = tab.badge()
    assert "stale" in cls, text
    assert "your browser verified a newer publication of this log before: the checkpoint " \
           "of 34 events" in text
    assert tab.page.is_visible("#stale")


def test_an_older_copy_alone_cannot_know(tab, two):
    """The same older copy in a fresh browser: green (the limit the README states), naming
    its own checkpoint of 33 events."""
    _, old = two
    tab.open(old / PAGE)
    cls, text = tab.badge()
    assert "ok" in cls and "checkpoint of 33 events" in text, text


def test_a_latest_js_that_does_not_verify_is_ignored_and_said(tab, two):
    """A host's latest.js with a broken signature cannot make a page amber or red: it is
    named and ignored."""
    site, old = two
    shutil.copy(site / "latest.js", old / "latest.js")
    data = latest(old)
    body, line = data["checkpoint"].rstrip("\n").rsplit("\n", 1)
    dash, name, sig = line.split(" ")
    raw = bytearray(base64.b64decode(sig))
    raw[12] ^= 1
    data["checkpoint"] = f"{body}\n{dash} {name} {base64.b64encode(bytes(raw)).decode()}\n"
    write_latest(old, data)
    tab.open(old / PAGE)
    cls, text = tab.badge()
    assert "ok" in cls and "latest.js does not verify" in text, text


def test_a_missing_latest_js_is_said(tab, two):
    site, _ = two
    (site / "latest.js").unlink()
    tab.open(site / PAGE)
    cls, text = tab.badge()
    assert "ok" in cls and "no latest.js beside it" in text, text


def test_a_newer_publication_that_does_not_extend_this_one_is_red(tab, two):
    """latest.js's consistency proof from this page's checkpoint broken: red."""
    site, old = two
    data = latest(site)
    raw = bytearray(base64.b64decode(data["extends"][0]["proof"][0]))
    raw[0] ^= 1
    data["extends"][0]["proof"][0] = base64.b64encode(bytes(raw)).decode()
    write_latest(old, data)
    tab.open(old / PAGE)
    cls, text = tab.badge()
    assert "bad" in cls and "does not extend this one" in text, text


def test_two_trees_of_one_size_signed_by_the_key_are_red(runner, tab, example, tmp_path):
    """A fork: the same case imported into two ledgers (other record times, so other
    hashes), both published with the same key and origin; the second opened after the
    first in the same browser is red, and so is a page whose latest.js is the other."""
    key, _ = key_pair(tmp_path, "publisher")
    sites = []
    for name in ("a", "b"):
        db = str(tmp_path / f"{name}.db")
        assert run(runner, db, "import", str(example)).exit_code == 0
        sites.append(publish(runner, db, key, tmp_path / f"site-{name}"))
    tab.open(sites[0] / PAGE)
    assert "ok" in tab.badge()[0]
    tab.open(sites[1] / PAGE)
    cls, text = tab.badge()
    assert "bad" in cls and "another tree of 33 events" in text and "fork" in text, text
    shutil.copy(sites[0] / "latest.js", sites[1] / "latest.js")
    fresh = Page(tab.context.browser)
    try:
        fresh.open(sites[1] / PAGE)
        cls, text = fresh.badge()
        assert "bad" in cls and "latest.js holds another tree of 33 events" in text, text
    finally:
        fresh.close()
