"""The summary's band timeline as a reader's browser draws it on a platform's page: the
order's lane, its band where the order was in force, from the block to the lift that the
interval export gives, and the block and lift labels, all rendered (not merely present in
the file)."""

# ruff: noqa: F811 (the fixtures imported from tests.site_browser are parameters here)
from __future__ import annotations

import csv
from datetime import UTC, datetime

import pytest

from tests.site_browser import NEEDS_CHROMIUM, Page, browser, site, tab  # noqa: F401 (fixtures)

pytestmark = NEEDS_CHROMIUM

#: Each drawn element's box in the svg's own units, and whether it is shown at all.
BOXES = """(svg) => Array.from(svg.querySelectorAll(SELECTOR)).map((node) => {
  const box = node.getBBox(); const style = getComputedStyle(node);
  return {text: node.textContent.trim(), cls: node.getAttribute("class") || "",
          x: box.x, width: box.width, height: box.height,
          shown: style.display !== "none" && style.visibility !== "hidden" &&
                 style.opacity !== "0" && (style.fill !== "none" || node.tagName !== "rect")};
})"""


def boxes(page, selector: str) -> list[dict]:
    return page.eval_on_selector("svg[aria-label^='Timeline']",
                                 BOXES.replace("SELECTOR", repr(selector)))


def instant(text: str) -> datetime:
    when = datetime.fromisoformat(text if "T" in text else text + "T00:00:00+00:00")
    return when.astimezone(UTC)


def test_the_band_spans_the_interval_and_the_labels_are_drawn(tab, site):
    """The order's band starts at the block and ends at the lift of the interval export,
    by the axis's own ticks (18 July and 8 August 2017); "blocked" and "lifted" are drawn
    at its ends; every drawn element has a size."""
    page = tab.open(site / "platform/telegram.html")
    assert "ok" in tab.badge()[0]
    rows = list(csv.DictReader((site / "downloads/intervals.csv").open()))
    assert [(r["order"], r["state"]) for r in rows] == [("kominfo-2017-07-14", "in-effect")]
    ticks = {b["text"]: b["x"] + b["width"] / 2 for b in boxes(page, "text.tick")}
    days = (ticks["8 Aug"] - ticks["18 Jul"]) / 21  # svg units a day on this stretch
    origin = datetime(2017, 7, 18, tzinfo=UTC)

    def x(at: datetime) -> float:
        return ticks["18 Jul"] + (at - origin).total_seconds() / 86400 * days

    [band] = boxes(page, "rect.band")
    assert band["shown"] and band["height"] > 0
    assert "b-in-effect" in band["cls"]
    assert band["x"] == pytest.approx(x(instant(rows[0]["from"])), abs=0.5)
    assert band["x"] + band["width"] == pytest.approx(x(instant(rows[0]["to"])), abs=0.5)
    labels = {b["text"]: b for b in boxes(page, "text.label")}
    for word in ("blocked", "lifted"):
        assert labels[word]["shown"] and labels[word]["width"] > 0, word
    # Each label sits at its end of the band: "blocked" starts just after the band's
    # start, "lifted" just after the band's end (the axis runs on to the report's time,
    # layout 3), or ends just before it where the lift is at the plot's right edge.
    assert 0 < labels["blocked"]["x"] - band["x"] < 15
    end, lifted = band["x"] + band["width"], labels["lifted"]
    assert 0 < lifted["x"] - end < 15 or 0 < end - (lifted["x"] + lifted["width"]) < 15
    texts = [b["text"] for b in boxes(page, "text.band-text")]
    assert texts == ["14 Jul 2017 \u2192 10 Aug 2017"]
    # A lane's title holds its name twice (a <title> for the tooltip, then the text).
    lanes = [b["text"][: len(b["text"]) // 2] for b in boxes(page, "text.lane-title")]
    assert lanes == ["telegram", "kominfo-2017-07-14", "telegram-id-2017"]


def test_the_timeline_fits_a_phone(browser, site):
    """At a phone's width the svg scales down whole: its band is still drawn, inside the
    viewport."""
    tab = Page(browser, viewport={"width": 390, "height": 844}, device_scale_factor=2)
    try:
        page = tab.open(site / "platform/telegram.html")
        svg = page.query_selector("svg[aria-label^='Timeline']").bounding_box()
        band = page.query_selector("rect.band").bounding_box()
        assert svg["width"] <= 390
        assert band["width"] > 0 and svg["x"] <= band["x"] and \
            band["x"] + band["width"] <= svg["x"] + svg["width"] + 0.5
    finally:
        tab.close()
