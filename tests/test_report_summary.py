"""The report's summary (each order's intervals in force, the platform's course) and its
times in a zone: folded by the ledger's own code from the report's events."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from markupsafe import escape as markup_escape

from domain.errors import BadInput
from projections.report_orders import period_words
from projections.report_render import render_markdown
from projections.report_summary import summarise
from projections.report_times import Clock, parse_zone
from tests.clitools import run


def _event(type_: str, subject: str, at: str, data: dict, n: int, **extra) -> dict:
    return {"id": f"00000000-0000-4000-8000-{n:012d}", "type": type_, "subject": subject,
            "occurred_at": at, "sources": [{"title": "s"}], "data": data, "position": n,
            "summary": type_, "corrected_by": [], "retracted_by": [], "disputed_by": [],
            **extra}


def report(*events: dict, as_of: str | None = None) -> dict:
    return {"report": "provenance", "subject": "chatapp", "as_of": as_of,
            "generated_at": "2024-01-01T00:00:00+00:00", "events": list(events),
            "verification": {"ok": True, "events": len(events)}}


REGISTERED = _event("platform-registered", "chatapp", "2020-01-01",
                    {"name": "ChatApp", "targets": ["a.example", "b.example"]}, 1)
BLOCKED = _event("blocked", "o-1", "2020-02-01T09:00:00+07:00",
                 {"platform": "chatapp", "authority": "Ministry", "reasons": ["x"],
                  "targets": ["a.example", "b.example"], "legal_basis": "Art. 40",
                  "instrument": "Decree 1"}, 2)


class TestIntervals:
    def test_a_temporary_lift_ends_by_itself(self):
        """A lift until T: in force, lifted for a while, in force again from T."""
        summary = summarise(report(REGISTERED, BLOCKED, _event(
            "unblocked", "o-1", "2020-03-01", {"until": "2020-03-15"}, 3)))
        order = summary.orders[0]
        assert [(p.state, p.start_text, p.end_text) for p in order.periods] == [
            ("in-effect", "2020-02-01T09:00:00+07:00", "2020-03-01"),
            ("temporarily-lifted", "2020-03-01", "2020-03-15"),
            ("in-effect", "2020-03-15", None)]
        assert order.state == "in-effect" and summary.state == "blocked"
        words = period_words(order.periods[1], Clock(parse_zone("Asia/Jakarta")), 2)
        assert words == ("lifted for a while: 1 Mar 2020 → 15 Mar 2020 (none blocked; the "
                         "block came back by itself at its end)")

    def test_a_temporary_lift_made_permanent_says_no_more(self):
        """Lifted for a while, then for good before its end: the interval ends with the
        permanent lift, and does not say the block came back."""
        summary = summarise(report(REGISTERED, BLOCKED, _event(
            "unblocked", "o-1", "2020-03-01", {"until": "2020-03-15"}, 3), _event(
            "unblocked", "o-1", "2020-03-05", {}, 4)))
        periods = summary.orders[0].periods
        assert [(p.state, p.end_text) for p in periods] == [
            ("in-effect", "2020-03-01"), ("temporarily-lifted", "2020-03-05")]
        assert "came back" not in period_words(periods[1], Clock(), 2)
        assert summary.orders[0].state == "lifted"

    def test_a_partial_lift_and_the_platforms_course(self):
        """Half lifted: in force for some targets; the platform partially blocked."""
        summary = summarise(report(REGISTERED, BLOCKED, _event(
            "unblocked", "o-1", "2020-04-01", {"targets": ["a.example"]}, 3), _event(
            "unblocked", "o-1", "2020-05-01", {}, 4)))
        periods = summary.orders[0].periods
        assert [(p.state, p.blocked) for p in periods] == [
            ("in-effect", ("a.example", "b.example")), ("partially-lifted", ("b.example",))]
        assert periods[-1].end_text == "2020-05-01"
        assert [(c[1], c[3], c[4]) for c in summary.course] == [
            ("2020-02-01T09:00:00+07:00", "2020-04-01", "blocked"),
            ("2020-04-01", "2020-05-01", "partially-blocked"),
            ("2020-05-01", None, "accessible")]
        assert summary.orders[0].marks[-1].word == "lifted"
        assert summary.orders[0].marks[1].word == "lifted for 1 target"

    def test_as_of_stops_the_intervals_there(self):
        """A report as of a date: what was in force then, an interval still open."""
        summary = summarise(report(REGISTERED, BLOCKED, as_of="2020-02-10"))
        assert summary.orders[0].periods[0].end is None
        assert summary.at_text == "2020-02-10"

    def test_a_correction_and_a_retraction_count_as_the_report_states(self):
        """``current`` values are folded, retracted events are not."""
        moved = dict(BLOCKED, current={"occurred_at": "2020-02-02T09:00:00+07:00",
                                       "data": BLOCKED["data"]})
        lift = _event("unblocked", "o-1", "2020-03-01", {}, 3,
                      retracted_by=["00000000-0000-4000-8000-000000000009"])
        order = summarise(report(REGISTERED, moved, lift)).orders[0]
        assert [(p.start_text, p.end) for p in order.periods] == [
            ("2020-02-02T09:00:00+07:00", None)]

    def test_observations_are_marked_where_they_diverge_from_the_orders(self):
        """Reachable while blocked is marked; unreachable after one order's lift is not
        while another order still holds the target, and is once none does."""
        second = _event("blocked", "o-2", "2020-02-10", dict(BLOCKED["data"],
                                                           targets=["a.example"]), 3)
        lift = _event("unblocked", "o-1", "2020-03-01", {}, 4)

        def seen(n: int, at: str, target: str, accessible: bool) -> dict:
            return _event("access-observed", "o-1", at, {"target": target,
                                                         "accessible": accessible}, n)

        summary = summarise(report(
            REGISTERED, BLOCKED, second, lift, seen(5, "2020-02-05", "a.example", True),
            seen(6, "2020-03-05", "a.example", False),
            seen(7, "2020-03-06", "b.example", False)))
        marks = {m.number: m.divergent for m in summary.orders[0].marks
                 if m.type == "access-observed"}
        assert marks == {5: "reachable while blocked", 7: "unreachable after lift"}

    def test_a_report_that_cannot_be_folded_says_so(self):
        """Events that are not facts: the summary names the problem, the page renders."""
        broken = report(REGISTERED, dict(BLOCKED, data={"targets": 5}))
        assert "could not be folded" in (summarise(broken).problem or "")
        assert "could not be folded" in render_markdown(broken)


class TestTimes:
    @pytest.mark.parametrize(("zone", "value", "shown"), [
        ("UTC", "2017-07-14T11:00:00+07:00", "14 Jul 2017 04:00 UTC"),
        ("Asia/Jakarta", "2017-07-14T04:00:00Z", "14 Jul 2017 11:00 WIB"),
        ("Europe/Berlin", "2017-07-14T04:00:00+00:00", "14 Jul 2017 06:00 CEST"),
        ("Europe/Berlin", "2017-01-14T04:00:00+00:00", "14 Jan 2017 05:00 CET"),
        ("Asia/Dubai", "2017-07-14T04:00:00+00:00", "14 Jul 2017 08:00 UTC+04:00"),
        ("Asia/Jakarta", "2017-07-14", "14 Jul 2017"),  # a day stays a day
        ("Asia/Jakarta", "2026-12-06T11:28:52.432666+00:00", "6 Dec 2026 18:28 WIB"),
        ("Asia/Jakarta", "not a time", "not a time"),
    ])
    def test_to_the_minute_with_the_zone_named(self, zone, value, shown):
        assert Clock(parse_zone(zone)).text(value) == shown

    def test_the_zone_is_described(self):
        at = datetime(2017, 7, 1, tzinfo=UTC)
        assert Clock(parse_zone("Asia/Jakarta")).described(at) == \
            "Asia/Jakarta (WIB, UTC+07:00)"
        assert Clock().described(at) == "UTC"

    @pytest.mark.parametrize("name", ["Mars/Olympus", "../../etc/passwd", "Asia/", "x" * 300])
    def test_a_bad_zone_is_bad_input(self, name):
        with pytest.raises(BadInput, match="unknown time zone"):
            parse_zone(name)


def test_the_intervals_agree_with_status_as_of(runner, sqlite_path, example):
    """Inside each interval the summary gives, ``status --as-of`` says the same."""
    assert run(runner, sqlite_path, "import", str(example)).exit_code == 0
    result = run(runner, sqlite_path, "report", "provenance", "telegram", "--format", "json")
    summary = summarise(json.loads(result.stdout))
    (order,) = summary.orders
    (period,) = order.periods
    middle = period.start + (period.end - period.start) / 2
    status = run(runner, sqlite_path, "status", "telegram", "--as-of", middle.isoformat(),
                 "--json")
    assert json.loads(status.stdout)["orders"][0]["state"] == period.state
    after = run(runner, sqlite_path, "status", "telegram", "--as-of", "2017-08-10",
                "--json")
    assert json.loads(after.stdout)["orders"][0]["state"] == "lifted"


@pytest.mark.parametrize("payload", ['<script>alert(1)</script>', '"><img src=x onerror=1>',
                                     '</text></svg><b>x</b>', '";}body{display:none}'])
def test_hostile_text_in_the_summary_and_timeline_is_escaped(payload):
    """Free text the summary and timeline show (name, authority, instrument, legal basis,
    reasons, network) is escaped by the templates' autoescaping."""
    from html.parser import HTMLParser

    from projections.report_html import render_html

    def hostile(text: str) -> dict:
        registered = dict(REGISTERED, data=dict(REGISTERED["data"], name=text))
        blocked = dict(BLOCKED, data=dict(BLOCKED["data"], authority=text, instrument=text,
                                          legal_basis=text, reasons=[text]))
        seen = _event("access-observed", "o-1", "2020-02-05",
                      {"target": "a.example", "accessible": True, "network": text}, 3)
        return report(registered, blocked, seen)

    class Tags(HTMLParser):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.tags: list[str] = []
            self.feed(text)

        def handle_starttag(self, tag: str, attrs: list) -> None:
            self.tags.append(tag)

    assert summarise(hostile(payload)).problem is None
    text = render_html(hostile(payload))
    assert Tags(text).tags == Tags(render_html(hostile("harmless words"))).tags
    assert text.count("</svg>") == 1 and "<img" not in text and "<b>x" not in text
    assert "body{display:none}" not in text.split("</style>")[0]
    assert str(markup_escape(payload)) in text


@pytest.mark.parametrize("zone, at, named", [
    ("Europe/Istanbul", datetime(2020, 1, 1, tzinfo=UTC), "Europe/Istanbul (UTC+03:00)"),
    ("Asia/Jakarta", datetime(2020, 1, 1, tzinfo=UTC), "Asia/Jakarta (WIB, UTC+07:00)"),
    ("UTC", None, "UTC"),
])
def test_a_zone_is_named_with_its_offset_once(zone, at, named):
    """A zone whose abbreviation is only its offset (Istanbul's "+03") names the offset
    once (before: "Europe/Istanbul (UTC+03:00, UTC+03:00)")."""
    assert Clock(parse_zone(zone)).described(at) == named
