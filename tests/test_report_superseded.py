"""An HTML report made by an earlier honest version, whose summary a rule since changed
draws otherwise, still verifies (``projections.report_superseded``): ``verify-proof``
accepts a page that is exactly its proven report rendered by the current rules or by a
superseded one, and says which; any other page is still "altered".

The pages (``tests/data/report_divergence1_html``, made at e447492^ by its ``gen.sh``)
draw two divergences the current rule does not: telegram.org observed reachable in Delhi
(IN-DL) under Jammu and Kashmir's order (IN-JK), "reachable while blocked" then, none now;
t.me observed unreachable in Delhi after Jammu and Kashmir lifted it, "unreachable after
lift" then, "unexplained" now."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli import cli
from projections.proof import ReportFailure, check_page, check_report, embedded_report
from projections.report_html import render_html
from projections.report_superseded import SUPERSEDED
from projections.report_times import Clock, parse_zone

EARLIER = Path(__file__).resolve().parent / "data" / "report_divergence1_html"
PAGES = ["telegram.html", "telegram-2019.html", "jk2.html"]


def _page(name: str) -> tuple[str, dict]:
    page = (EARLIER / name).read_text()
    return page, json.loads(embedded_report(page))


def _verify(runner, path: Path):
    return runner.invoke(cli, ["verify-proof", str(path), "--public-key",
                               str(EARLIER / "alice.pub")], catch_exceptions=False)


@pytest.mark.parametrize("name", PAGES)
def test_a_page_of_the_earlier_divergence_rule_verifies_and_says_so(runner, name):
    """Failed before: exit 3, 'the page differs from what its proven report renders to'
    for an honest page of the release before the rule changed."""
    result = _verify(runner, EARLIER / name)
    assert result.exit_code == 0, result.output
    assert ("the page is exactly what the proven report renders to by an earlier "
            "version's rules (" + SUPERSEDED["divergence-1"] + ")") in result.output
    assert check_report(json.loads((EARLIER / "telegram.json").read_text())) == 6


@pytest.mark.parametrize("name", PAGES)
def test_the_rule_did_change_for_these_pages(name):
    """The pages are not what the current rules draw (else the test above proves
    nothing), and they are what the earlier rule draws."""
    page, report = _page(name)
    zone = Clock(parse_zone("Asia/Kolkata" if "2019" in name else None))
    paper = "a4" if "2019" in name else None
    assert render_html(report, clock=zone, paper=paper) != page
    assert render_html(report, clock=zone, paper=paper, rule="divergence-1") == page
    assert check_page(page, report) == SUPERSEDED["divergence-1"]


def test_a_page_by_the_current_rules_says_nothing_of_earlier_ones(runner, tmp_path):
    _, report = _page("telegram.html")
    current = render_html(report)
    assert check_page(current, report) is None
    out = tmp_path / "current.html"
    out.write_text(current)
    result = _verify(runner, out)
    assert result.exit_code == 0, result.output
    assert "earlier version" not in result.output
    assert "the page is exactly what the proven report renders to" in result.output


@pytest.mark.parametrize("edit", [
    # the earlier rule's label, changed to the current rule's word: drawn by neither
    lambda p: p.replace(">unreachable after lift</text>", ">unexplained</text>", 1),
    # the earlier rule's line left out, the rest the earlier rule's: drawn by neither
    lambda p: p.replace("(reachable while blocked, on AS9829", "(reachable, on AS9829", 1),
    # a word of the page outside the summary
    lambda p: p.replace("Provenance report", "Provenance rep0rt", 1),
])
def test_an_edited_earlier_page_is_still_altered(runner, tmp_path, edit):
    page, report = _page("telegram.html")
    edited = edit(page)
    assert edited != page
    with pytest.raises(ReportFailure, match="the page differs from what its proven report"):
        check_page(edited, report)
    out = tmp_path / "edited.html"
    out.write_text(edited)
    result = _verify(runner, out)
    assert result.exit_code == 3, result.output
    assert "the page differs from what its proven report renders to" in result.output


def test_the_earlier_rule_is_not_taken_for_a_report_for_one_jurisdiction():
    """Reports for one jurisdiction changed in more than this rule since; the earlier
    divergence rule is only ever accepted for a report for all."""
    _, report = _page("telegram.html")
    one = {**report, "jurisdiction": "IN"}
    earlier = render_html(one, rule="divergence-1")
    assert earlier != render_html(one)
    with pytest.raises(ReportFailure, match="the page differs"):
        check_page(earlier, one)
