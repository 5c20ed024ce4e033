"""The HTML report names the court whose ruling began an interval, labels the ruling on
the timeline and styles the bands a court set aside (layout 2); and ``verify-proof`` still
checks a page drawn in layout 1, as versions before did (``report_html.LAYOUTS``), saying
so. A walkthrough found Turkey's Constitutional Court drawn as an unlabelled dot, the
overturned interval as an unexplained black band, and the court named nowhere on page 1."""

from __future__ import annotations

import json
import re

import pytest

from cli import cli
from projections.proof import embedded_report
from projections.report_html import LAYOUT, LAYOUTS, render_html
from projections.report_times import Clock, parse_zone
from tests.clitools import run

TURKEY = "turkey-wikipedia-2017.jsonl"


@pytest.fixture
def turkey(runner, sqlite_path, tmp_path):
    from tests.test_case_india import EXAMPLES

    assert run(runner, sqlite_path, "import", str(EXAMPLES / TURKEY)).exit_code == 0
    assert run(runner, sqlite_path, "checkpoint").exit_code == 0
    page = tmp_path / "tr.html"
    made = run(runner, sqlite_path, "report", "provenance", "wikipedia", "--format", "html",
               "--tz", "Europe/Istanbul", "-o", str(page))
    assert made.exit_code == 0, made.output
    return page


@pytest.fixture
def not_yet_replaced(monkeypatch):
    """The earlier layouts as a version that drew them saw them, not yet replaced: the
    reports these tests make are made now, after the real replacements, and an earlier
    layout is taken only for a report made before it was replaced (the real times are
    held in test_a_page_drawn_now_in_a_replaced_layout_is_not_an_earlier_versions)."""
    import attrs

    from projections import report_html

    later = __import__("datetime").datetime(2100, 1, 1, tzinfo=__import__("datetime").UTC)
    layouts = tuple(layout if layout.replaced is None else attrs.evolve(layout, replaced=later)
                    for layout in report_html.LAYOUTS)
    monkeypatch.setattr(report_html, "LAYOUTS", layouts)
    monkeypatch.setattr(report_html, "LAYOUT", {layout.number: layout for layout in layouts})
    return layouts


def _proof(runner, page):
    return runner.invoke(cli, ["verify-proof", str(page)], catch_exceptions=False)


def test_the_court_is_named_and_its_ruling_labelled(turkey):
    page = turkey.read_text()
    assert ("overturned: 15 Jan 2020 → still at the report&#39;s time (0 of 4 targets blocked; "
            "by Constitutional Court of Turkey, ruling of 26 Dec 2019, in effect from 15 Jan "
            "2020)") in page
    assert re.search(r'<text class="label l-ruling"[^>]*>overturned by court</text>', page)
    assert 'class="band b-overturned"' in page and "svg .b-suspended,svg .b-overturned{" in page
    assert "set aside by a court" in page and "court ruling" in page
    assert "Times are in Europe/Istanbul (UTC+03:00), to the minute" in page


def test_a_page_drawn_in_layout_1_still_verifies_and_says_so(runner, turkey, tmp_path,
                                                             not_yet_replaced):
    """What a version before drew for the same proven report: accepted, named."""
    report = json.loads(embedded_report(turkey.read_text()))
    older = tmp_path / "older.html"
    older.write_text(render_html(report, clock=Clock(parse_zone("Europe/Istanbul")),
                                 layout=LAYOUT[1]))
    text = older.read_text()
    assert "Constitutional Court" not in text.split("<h2>Ledger")[0].split("Orders")[1]
    assert "(UTC+03:00, UTC+03:00)" in text  # (as layout 1 named the zone)
    now = _proof(runner, turkey)
    assert now.exit_code == 0 and "earlier version's layout" not in now.output
    before = _proof(runner, older)
    assert before.exit_code == 0, before.output
    assert "the page is exactly what the proven report renders to in an earlier " \
           "version's layout (1" in before.output
    found = json.loads(runner.invoke(cli, ["verify-proof", str(older), "--format", "json"],
                                     catch_exceptions=False).output)
    assert found["page"]["rule"] == "current" and found["page"]["earlier"]["layout"] == 1


@pytest.mark.parametrize("layout", range(len(LAYOUTS)))
def test_an_edited_page_in_either_layout_is_altered(runner, turkey, tmp_path, layout):
    report = json.loads(embedded_report(turkey.read_text()))
    page = render_html(report, clock=Clock(parse_zone("Europe/Istanbul")),
                       layout=LAYOUTS[layout])
    edited = tmp_path / "edited.html"
    edited.write_text(page.replace("29 Apr 2017", "29 Apr 2018", 1))
    result = _proof(runner, edited)
    assert result.exit_code == 3
    assert "the page differs from what its proven report renders to" in result.output


def test_the_axis_reaches_the_report_time_far_after_the_events(runner, turkey, tmp_path,
                                                               not_yet_replaced):
    """Layout 3: the Turkish case ends in 2020 and the report is made now; the axis runs on
    past a break to a dated mark of the report's time, and the band still open (the order
    overturned) reaches it. Layout 2 ended the axis at the last event, the open band ran to
    the edge with no date there; a page drawn so still verifies and says layout 2."""
    page = turkey.read_text()
    svg = page[page.index("<svg"):page.index("</svg>")]
    assert re.search(r'<text class="now"[^>]*>report time: ', svg)
    now_x = float(re.search(r'<text class="now" x="([0-9.]+)"', svg).group(1)) + 3
    ends = [float(x) + float(w) for x, w in re.findall(
        r'<rect class="band b-[a-z-]+" x="([0-9.]+)" y="[0-9.]+" width="([0-9.]+)"', svg)]
    assert ends and max(ends) == pytest.approx(now_x, abs=0.2)
    report = json.loads(embedded_report(page))
    older = tmp_path / "layout2.html"
    older.write_text(render_html(report, clock=Clock(parse_zone("Europe/Istanbul")),
                                 layout=LAYOUT[2]))
    assert 'class="now"' not in older.read_text()
    before = _proof(runner, older)
    assert before.exit_code == 0, before.output
    assert "earlier version's layout (2: the same report, drawn with less: no report " \
           "time on the axis" in before.output and "no court named" not in before.output


def test_a_page_drawn_now_in_a_replaced_layout_is_not_an_earlier_versions(runner, turkey,
                                                                          tmp_path):
    """A report made after a layout was replaced, drawn in it, is no earlier version's
    page: refused as altered, saying why (review: any report was taken in any layout, so
    one made today could be shown without the court's name, as layout 1 drew it)."""
    report = json.loads(embedded_report(turkey.read_text()))
    for number, replaced in ((1, "2026-12-07T14:46:11Z"), (2, "2026-12-07T17:21:08Z")):
        page = tmp_path / f"layout{number}.html"
        page.write_text(render_html(report, clock=Clock(parse_zone("Europe/Istanbul")),
                                    layout=LAYOUT[number]))
        result = _proof(runner, page)
        assert result.exit_code == 3, result.output
        assert (f"it is what layout {number} draws, taken only for a report made before "
                f"that layout was replaced ({replaced}), and it says it was made at "
                f"{report['generated_at']}") in result.output


def test_an_honest_page_of_ones_own_templates_in_an_earlier_layout_verifies(
        runner, turkey, tmp_path, not_yet_replaced):
    """--template DIR: a page an earlier version drew with one's own templates (which read
    the layout's number) still verifies (review: only the current layout was tried, so
    such a page failed as altered)."""
    from pathlib import Path

    bundled = Path(__file__).resolve().parent.parent / "projections" / "templates"
    mine = tmp_path / "tpl"
    mine.mkdir()
    (mine / "report.html.j2").write_text((bundled / "report.html.j2").read_text()
                                         .replace("Provenance report", "Our provenance report"))
    report = json.loads(embedded_report(turkey.read_text()))
    page = tmp_path / "custom.html"
    page.write_text(render_html(report, clock=Clock(parse_zone("Europe/Istanbul")),
                                template_dir=str(mine), layout=LAYOUT[2]))
    result = runner.invoke(cli, ["verify-proof", str(page), "--template", str(mine)])
    assert result.exit_code == 0, result.output
    assert "earlier version's layout (2" in result.output


def test_a_report_made_now_with_its_times_written_back_is_refused(runner, turkey, tmp_path):
    """An unsigned report (the default) made now, its generated_at and its checkpoint's
    time written back before layout 1 was replaced, the fields derived from that time made
    again, drawn in layout 1: its proven events were recorded after the time its
    checkpoint claims, which no honest checkpoint is, so the page is refused (review)."""
    from projections.proof import STATEMENTS, _when
    from projections.provenance import Evidence, assemble

    report = json.loads(embedded_report(turkey.read_text()))
    assert report["report_signature"] == {"signed": False}
    old = report["checkpoint"]["time"]
    note = report["checkpoint"]["note"].replace(f"time {old}", "time 2026-12-07T10:00:00Z")
    ev = report["evidence"]
    made = assemble(Evidence(report["subject"], _when(report.get("as_of"), "as_of"),
                             _when(report.get("as_known_at"), "as_known_at"), note,
                             ev["records"], ev["index"], ev["checkpoints"]))
    forged = {**report, **{k: v for k, v in made.items() if k not in STATEMENTS},
              "generated_at": "2026-12-07T10:00:01+00:00"}
    for number in (1, 2):
        page = tmp_path / f"forged{number}.html"
        page.write_text(render_html(forged, clock=Clock(parse_zone("Europe/Istanbul")),
                                    layout=LAYOUT[number]))
        result = _proof(runner, page)
        assert result.exit_code == 3, result.output
        assert "is before an event it covers was recorded" in result.output
