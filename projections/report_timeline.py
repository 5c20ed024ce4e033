"""The report's timeline as geometry: one lane per order with bands where it was in force,
labelled marks for the key events, and an axis that cuts out long quiet gaps.

Pure arithmetic on a ``report_summary.Summary``; the template draws it (as inline SVG, so
the page needs no script and prints as it shows). Labels that would overlap are left out
(the mark stays, with its tooltip and its link to the event), so the picture stays
readable with many orders and hundreds of events.
"""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta
from itertools import pairwise

from attrs import field, frozen

from projections.report_orders import LABELLED, STATE_WORDS, Mark
from projections.report_summary import Summary
from projections.report_times import Clock

WIDTH, LEFT, RIGHT = 980.0, 200.0, 965.0  # the SVG's user units; the plot is LEFT..RIGHT
AXIS_H, LANE_H, BAND_H = 46.0, 74.0, 16.0
BREAK_W, SEG_PAD, MIN_SEG = 34.0, 10.0, 70.0
CHAR_W = 6.1  # of the 11px label font, for the overlap test
BAND_CHAR_W = 5.3  # of the 10px font of the dates written in a band
LABEL_GAP = 6.0


@frozen
class Band:
    x1: float
    x2: float
    state: str
    title: str
    text: str | None = None  # its dates, written in the band where they fit


@frozen
class Placed:
    x: float
    type: str
    number: int
    title: str
    label: str | None = None
    row: int = 0  # 0, 1: above the band; -1, -2: below it
    divergent: bool = False
    end_anchored: bool = False  # the label ends at the mark (near the right edge)


@frozen
class Lane:
    title: str
    subtitle: str
    y: float  # the band's top
    kind: str  # order, request, platform
    bands: list[Band] = field(factory=list)
    marks: list[Placed] = field(factory=list)


@frozen
class Timeline:
    width: float
    height: float
    left: float
    right: float
    ticks: list[tuple[float, str]]
    breaks: list[tuple[float, float, str]]
    lanes: list[Lane]
    now_x: float | None
    now_label: str


class Scale:
    """Instants to x, linear within each stretch of activity, a fixed break between."""

    def __init__(self, instants: list[datetime], left: float, right: float):
        points = sorted(set(instants))
        total = (points[-1] - points[0]).total_seconds() if points else 0.0
        segs: list[list[datetime]] = [[points[0]]] if points else []
        for a, b in pairwise(points):
            gap = (b - a).total_seconds()
            if gap > 60 * 86400 and gap > 0.12 * total:
                segs.append([b])
            else:
                segs[-1].append(b)
        self.segments: list[tuple[datetime, datetime, float, float]] = []
        spans = [(s[-1] - s[0]).total_seconds() for s in segs]
        room = right - left - BREAK_W * max(0, len(segs) - 1)
        spare = max(0.0, room - MIN_SEG * len(segs))
        cursor = left
        for seg, span in zip(segs, spans, strict=True):
            width = MIN_SEG + (spare * span / sum(spans) if sum(spans) else spare / len(segs))
            self.segments.append((seg[0], seg[-1], cursor, cursor + width))
            cursor += width + BREAK_W

    def x(self, t: datetime) -> float:
        segs = self.segments
        for i, (t0, t1, x0, x1) in enumerate(segs):
            if t <= t1 or i == len(segs) - 1:
                if t < t0:  # in the break before this segment
                    p0, p1, px0 = segs[i - 1][1], t0, segs[i - 1][3]
                    return px0 + BREAK_W * (t - p0).total_seconds() / max(
                        1.0, (p1 - p0).total_seconds())
                span = (t1 - t0).total_seconds()
                inner = (x1 - x0 - 2 * SEG_PAD)
                frac = (t - t0).total_seconds() / span if span else 0.5
                return x0 + SEG_PAD + inner * min(1.0, max(0.0, frac))
        return segs[0][2] if segs else LEFT

    def breaks(self) -> list[tuple[float, float, str]]:
        return [(a[3], b[2], _gap(b[0] - a[1])) for a, b in pairwise(self.segments)]


def _day(clock: Clock, instant: datetime) -> str:
    local = clock.moment(instant)
    return f"{local.day} {local:%b %Y}"


def _gap(delta: timedelta) -> str:
    days = delta.days
    if days >= 730:
        return f"{days / 365.25:.0f} years"
    return f"{round(days / 30.44)} months" if days >= 60 else f"{days} days"


def _ticks(scale: Scale, clock: Clock) -> list[tuple[float, str]]:
    out: list[tuple[float, str]] = []
    for t0, t1, x0, x1 in scale.segments:
        days = max((t1 - t0).total_seconds() / 86400, 1e-9)
        per_day = (x1 - x0 - 2 * SEG_PAD) / days
        step = next((s for s in (1, 7, 30, 91, 365, 1826) if s * per_day >= 60), 3652)
        local0, local1 = clock.moment(t0), clock.moment(t1)
        day = local0.replace(hour=0, minute=0, second=0, microsecond=0)
        if step >= 30:
            day = day.replace(day=1)
        if step >= 365:
            day = day.replace(month=1)
        first = True
        while day <= local1:
            if day >= local0:
                x = scale.x(day)
                label = (f"{day.year}" if step >= 365 else f"{day:%b %Y}" if step >= 30
                         else f"{day.day} {day:%b}" + (f" {day.year}" if first else ""))
                if _room(out, x, label):
                    out.append((x, label))
                    first = False
            day = _advance(day, step)
        if first:  # no tick fell in it (one instant): name its day
            local = clock.moment(t0)
            label = f"{local.day} {local:%b %Y}"
            if _room(out, scale.x(t0), label):
                out.append((scale.x(t0), label))
    return out


def _room(ticks: list[tuple[float, str]], x: float, label: str) -> bool:
    """Whether a tick label centred at ``x`` clears the last one and the plot's edges."""
    half = CHAR_W * 0.95 * len(label) / 2
    if x - half < LEFT - 20 or x + half > WIDTH - 2:
        return False
    if not ticks:
        return True
    last_x, last = ticks[-1]
    return x - half > last_x + CHAR_W * 0.95 * len(last) / 2 + 8


def _advance(day: datetime, step: int) -> datetime:
    if step < 30:
        return day + timedelta(days=step)
    months = {30: 1, 91: 3, 365: 12, 1826: 60}.get(step, 120)
    month = day.month - 1 + months
    year = day.year + month // 12
    return day.replace(year=year, month=month % 12 + 1,
                       day=min(day.day, calendar.monthrange(year, month % 12 + 1)[1]))


def _place(scale: Scale, marks: list[Mark], clock: Clock, banded: bool,
           labelled: frozenset[str] = LABELLED) -> list[Placed]:
    """Marks with labels where there is room: two rows above the band, one below for
    observations that diverge from the order; a lane without bands (a request's, the
    platform's) has two rows below for its labels too."""
    ends = {0: -1e9, 1: -1e9, -1: -1e9, -2: -1e9}
    rows = (0, 1) if banded else (0, -1, 1, -2)
    out = []
    for m in sorted(marks, key=lambda m: (m.at, m.number)):
        x = scale.x(m.at)
        title = f"{m.number}. {clock.when(m.at, m.text)}: {m.summary}"
        if m.divergent:
            word = m.divergent
            row: int | None = -1 if x >= ends[-1] + LABEL_GAP else None
        elif m.type in labelled:
            word = m.word
            row = next((r for r in rows if x >= ends[r] + LABEL_GAP), None)
        else:
            out.append(Placed(x, m.type, m.number, title))
            continue
        width = CHAR_W * len(word) + 8
        end_anchored = x + width > WIDTH - 2
        if end_anchored and row is not None:
            # at the right edge the label runs leftwards from the mark: it must clear the
            # previous label of its row on that side
            room = (-1,) if m.divergent else rows
            row = next((r for r in room if x - width >= ends[r] + LABEL_GAP), None)
        if row is None:
            out.append(Placed(x, m.type, m.number, title, divergent=bool(m.divergent)))
            continue
        ends[row] = x if end_anchored else x + width
        out.append(Placed(x, m.type, m.number, title, word, row, bool(m.divergent),
                          end_anchored))
    return out


def timeline(summary: Summary, clock: Clock, labelled: frozenset[str] = LABELLED, *,
             reach: bool = True) -> Timeline | None:
    """The geometry of ``summary``'s timeline, marks of the ``labelled`` types with their
    words; None when it has nothing to draw. With ``reach`` the axis runs on to the
    report's time wherever it is (far after the events, past a break: a block still in
    force reaches a dated mark); without, as layout 2 drew it, only when it is near."""
    instants: list[datetime] = []
    for o in summary.orders:
        instants += [m.at for m in o.marks] + [p.start for p in o.periods]
        instants += [p.end for p in o.periods if p.end is not None]
    for r in summary.requests:
        instants += [m.at for m in r.marks]
    instants += [m.at for m in summary.notices]
    instants = [t for t in instants if t <= summary.at]
    if not instants:
        return None
    # The report's time joins the axis: far after the events (a report made years later),
    # past a break, in a stretch of its own. (Layout 2 left it out when it was far, so as
    # not to squeeze the events; bands still open ran to the edge, with no date there.)
    last = max(instants)
    near = reach or (summary.at - last) <= max(timedelta(days=60),
                                               0.12 * (summary.at - min(instants)))
    if near:
        instants.append(summary.at)
    if len(set(instants)) < 2:
        instants.append(max(instants) + timedelta(days=1))
    scale = Scale(instants, LEFT, RIGHT)
    lanes: list[Lane] = []
    y = AXIS_H + 2 * 14 + 14

    def add(title: str, subtitle: str, kind: str, bands: list[Band], marks: list[Mark]) -> None:
        nonlocal y
        lanes.append(Lane(title, subtitle, y, kind, bands,
                          _place(scale, marks, clock, kind == "order", labelled)))
        y += LANE_H

    if summary.notices:
        add(summary.subject, "notices and statements", "platform", [], summary.notices)
    for o in summary.orders:
        bands = []
        for p in o.periods:
            x1 = scale.x(p.start)
            x2 = scale.x(p.end) if p.end is not None else (
                scale.x(summary.at) if near else RIGHT)
            until = f" (until {clock.instant(p.until)})" if p.until else ""
            dates = (f"{_day(clock, p.start)} → "
                     f"{_day(clock, p.end) if p.end is not None else 'the report time'}")
            fits = p.state != "temporarily-lifted" and (
                len(dates) * BAND_CHAR_W + 8 < x2 - x1)
            bands.append(Band(x1, max(x2, x1 + 2), p.state, (

                f"{STATE_WORDS.get(p.state, p.state)}{until}: {clock.when(p.start, p.start_text)}"
                f" → {clock.when(p.end, p.end_text) if p.end else 'still at the report time'}"
                f"; {len(p.blocked)} of {len(o.targets)} targets blocked"),
                dates if fits else None))
        add(o.ref, o.authority, "order", bands, o.marks)
    for r in summary.requests:
        add(r.ref, f"request: {r.state or '?'}", "request", [], r.marks)
    height = (y - LANE_H + BAND_H + 34 if lanes else y) + (14 if reach else 0)
    # (layout 3: the report's time on a line of its own, under the lanes' lowest labels
    # and the breaks' lengths, with which it collided near the right edge)
    return Timeline(WIDTH, height, LEFT, RIGHT,
                    _ticks(scale, clock), scale.breaks(), lanes,
                    scale.x(summary.at) if near else None,
                    clock.when(summary.at, summary.at_text))
