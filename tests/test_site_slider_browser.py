"""The slider's snapshots in chunks (``website.slider.SNAPSHOT_CHUNK`` set to 2 for the
2017 case): the page carries the chunk of now and loads the others as the slider reaches
their days, each shown only once its digest is the one the publisher signed."""

# ruff: noqa: F811 (the fixtures imported from tests.site_browser are parameters here)
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.site_browser import NEEDS_CHROMIUM, browser, published, show_day, tab  # noqa: F401
from tests.test_publish import page_data

pytestmark = NEEDS_CHROMIUM

PAGE = "platform/telegram.html"


@pytest.fixture
def site(runner, sqlite_path, example, tmp_path, monkeypatch) -> Path:
    monkeypatch.setattr("website.slider.SNAPSHOT_CHUNK", 2)
    return published(runner, sqlite_path, tmp_path / "site", sources=(example,))


def chunk_holding(site: Path, day: str) -> Path:
    """The chunk file whose snapshots hold ``day``'s status."""
    data = page_data(site / PAGE)
    from datetime import UTC, datetime

    end = datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp() * 1000 + 86_399_999
    n = max(i for i, c in enumerate(data["snapshots"], 1) if c["from"] <= end)
    return site / f"snapshots/telegram/{n}.js"


def test_the_page_carries_now_and_files_hold_the_rest(site):
    data = page_data(site / PAGE)
    chunks = data["snapshots"]
    assert len(chunks) >= 3 and all(c["count"] <= 2 for c in chunks)
    files = sorted((site / "snapshots/telegram").glob("*.js"))
    assert len(files) == len(chunks) - 1
    assert not (site / f"snapshots/telegram/{data['snapshots_now']['chunk'] + 1}.js").exists()


def test_the_slider_loads_a_chunk_and_reads_its_day(tab, site):
    """20 July 2017 (another chunk than now's): partially-blocked with 11 names; 20
    August: accessible; green throughout."""
    assert chunk_holding(site, "2017-07-20").exists()
    page = tab.open(site / PAGE)
    assert "ok" in tab.badge()[0], tab.badge()
    show_day(page, "2017-07-20")
    page.locator("#day-out", has_text="On 2017-07-20").wait_for()
    assert page.inner_text("#day-state") == "partially-blocked"
    assert len(page.query_selector_all("#day-blocked li")) == 11
    show_day(page, "2017-08-20")
    page.locator("#day-out", has_text="On 2017-08-20").wait_for()
    assert page.inner_text("#day-state") == "accessible"
    assert "ok" in tab.badge()[0]


def test_a_chunk_file_changed_is_red_when_reached(tab, site):
    """The host edits the chunk of 20 July to say accessible: the page turns red when
    the slider reaches it, and shows nothing of that day."""
    path = chunk_holding(site, "2017-07-20")
    path.write_text(re.sub(r'"partially-blocked"', '"accessible"', path.read_text()))
    page = tab.open(site / PAGE)
    assert "ok" in tab.badge()[0]
    show_day(page, "2017-07-20")
    page.wait_for_selector("#badge.bad")
    assert "is not the one the publisher signed" in tab.badge()[1]
    assert "accessible" not in page.inner_text("#day-out")


def test_a_chunk_file_missing_is_red_when_reached(tab, site):
    chunk_holding(site, "2017-07-20").unlink()
    page = tab.open(site / PAGE)
    show_day(page, "2017-07-20")
    page.wait_for_selector("#badge.bad")
    assert "cannot be loaded" in tab.badge()[1]
