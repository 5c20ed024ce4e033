"""The rules an earlier version drew a report's summary by, kept so that ``verify-proof``
still recognises a page that version made (``proof.check_page``).

An HTML report is proven by rendering its proven JSON report again and comparing the page
byte for byte. A change of a rule that decides what the summary draws (not what the
report proves: its events, proofs and JSON fields are the same) would make every honest
page made before it fail as "altered". So each rule replaced in what a report for all
draws is kept here, named, and ``check_page`` accepts a page that is exactly the render of
its proven report by the current rules or by one of these, saying which. Anything else
still fails: a page that is neither is not what any version of blockledger made of those
events.

``divergence-1``: before an observation was compared only with the orders that bind where
it was made (regional orders, ``projections.status.diverges``), it diverged from any order
naming its target, wherever that order bound: a reachable ``telegram.org`` observed in
Delhi (IN-DL) was "reachable while blocked" under Jammu and Kashmir's order (IN-JK).

A superseded rule is accepted only for a report that says, in what its signature covers,
that it was made before the rule was replaced (``UNTIL``): its ``generated_at``, and the
time of the checkpoint it cites (which a report made then cannot be later than). Without
that, anyone holding a report made since could render it by the earlier rule and show a
divergence the current rules do not draw, or hide one they do, on a page that verifies.
An unsigned report, or one made after, is checked by the current rules only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from attrs import frozen

from domain.fact import Fact
from domain.timeline import OrderState
from projections.book import Book

#: The rule of the current version (what ``summarise`` draws without being told).
CURRENT = "current"
#: Each superseded rule, and what it drew otherwise, in words for ``verify-proof``.
SUPERSEDED = {
    "divergence-1": (
        "the divergence rule of versions before regional orders: an observation then "
        "differed from any order that held its target, wherever the order bound; this "
        "version compares it only with the orders that bind where it was made"),
}
#: When the regional divergence rule replaced ``divergence-1``: the commit time of
#: e447492 (``git show -s --format=%cI e447492``). A version before it drew
#: ``divergence-1``, so only a report signed as made before this instant can honestly
#: carry a page drawn by it.
RULE_CHANGED = datetime(2026, 12, 6, 18, 51, 36, tzinfo=UTC)
#: Each superseded rule, and the instant after which no version drew it.
UNTIL = {"divergence-1": RULE_CHANGED}


@frozen
class Earlier:
    """A page accepted as drawn by a superseded rule (``proof.check_page``): which, when
    the report says it was made, and, per target, what the page draws and what the
    current rules draw instead (``"none"``: no divergence)."""

    rule: str  # CURRENT: the current rules, drawn in an earlier ``layout``
    generated_at: str | None
    differences: tuple[tuple[str, str, str], ...]
    #: The earlier version's layout it was drawn in (``report_html.LAYOUTS``), or None
    #: for the current one.
    layout: int | None = None

    @property
    def words(self) -> str:
        return SUPERSEDED.get(self.rule, "the current rules")

    def said(self) -> str:
        """What ``verify-proof`` says of the page, after "renders to"."""
        drawn = ""
        if self.layout is not None:
            from projections.report_html import LAYOUT

            less = "; ".join(layout.less for number, layout in sorted(LAYOUT.items())
                             if number >= self.layout and layout.less)
            drawn = (f" in an earlier version's layout ({self.layout}: the same report, "
                     f"drawn with less: {less})")
        if self.rule == CURRENT:
            return drawn.strip()
        differs = "; ".join(f"{target}: page {page}, current rules {now}"
                            for target, page, now in self.differences)
        return (f"by an earlier version's rules ({self.words}){drawn}, as the report says "
                f"it was made at {self.generated_at}, before that rule was replaced "
                f"({UNTIL[self.rule].strftime('%Y-%m-%dT%H:%M:%SZ')}); what the page draws "
                f"otherwise than the current rules: {differs or 'nothing per target'}")

    def to_json(self) -> dict[str, object]:
        replaced = UNTIL.get(self.rule)
        if replaced is None and self.layout is not None:  # (the current rules, an older layout)
            from projections.report_html import LAYOUT

            replaced = LAYOUT[self.layout].replaced
        return {"rule": self.rule, "words": self.words, "generated_at": self.generated_at,
                "replaced_at": replaced.strftime("%Y-%m-%dT%H:%M:%SZ") if replaced else None,
                "layout": self.layout,
                "differences": [{"target": t, "page": p, "current": c}
                                for t, p, c in self.differences]}


def lane_divergence(state: OrderState, fact: Fact,
                    others: Callable[[], list[OrderState]]) -> str | None:
    """``divergence-1`` of an observation recorded on an order (its mark on the order's
    lane; ``state``: the order's fold up to it): reachable while this order blocked the
    target; unreachable while it did not and none of ``others()`` (the platforms' other
    orders then, as ``report_orders`` selects them for the current rule) did."""
    target = fact.data.target
    if fact.data.accessible and target in state.blocked:
        return "reachable while blocked"
    if not fact.data.accessible and target not in state.blocked:
        held = any(target in other.blocked for other in others())
        return None if held else "unreachable after lift"
    return None


def platform_divergence(book: Book, platform: str, at: datetime) -> dict[str, str]:
    """``divergence-1`` of platform ``platform``'s status at ``at`` (a report for all):
    each target whose latest observation contradicts the orders naming it as they were
    then, and how, in the status's order of targets."""
    registered = book.state("platform", platform, at)
    orders = [s for s in (book.order(platform, r, at) for r in book.related(platform, "order"))
              if isinstance(s, OrderState)]
    latest: dict[str, Fact] = {}
    for subject in [*orders, registered]:
        for target, fact in subject.observed.items():
            seen = latest.get(target)
            if seen is None or fact.occurred_at.instant >= seen.occurred_at.instant:
                latest[target] = fact
    out = {}
    for target, fact in latest.items():
        then = [s for s in (book.order(platform, o.ref, fact.occurred_at.instant)
                            for o in orders if target in o.targets)
                if isinstance(s, OrderState)]
        held = any(target in s.blocked for s in then)
        if fact.data.accessible and held:
            out[target] = "reachable-while-blocked"
        elif not fact.data.accessible and not held:
            out[target] = "unreachable-after-lift" if then else "unexplained"
    order = [t for t in registered.targets if t in out] + sorted(
        set(out) - set(registered.targets))
    return {t: out[t] for t in order}
