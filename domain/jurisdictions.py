"""Jurisdictions: which state an order binds and where an observation was made.

A jurisdiction is an ISO 3166-1 alpha-2 code (``BR``), or an ISO 3166-2 subdivision
(``IN-JK``) for a regional order. Answers are per country: a subdivision's orders count in
its country's answer, flagged as regional, and the answer for a subdivision holds its own
orders and its country's national ones (a national order binds every region of it).

Where an event names none, the ledger's default applies: the ``jurisdiction`` of its one
``jurisdiction-default`` event (subject ``ledger``, written by ``init --jurisdiction``; a
correction changes it). The default is a fact of the ledger like any other, hashed, chained
and signed, so that no edit of a setting outside the log can move an order to another
state; it applies to every event that names none, recorded before or after it, as known at
the record time asked (``--as-known-at`` before it: no default).

An observation recorded on an order counts where the order does (its own
``jurisdiction``, if given, must be of the order's country); an observation of a platform
counts where it was made (its own, else the default).
"""

from __future__ import annotations

from domain.fact import Fact
from domain.timeline import STATES, Broken, SubjectState

#: The one subject of kind ``ledger``: the ledger's own settings.
LEDGER = "ledger"


#: Codes ISO 3166 reserves that people type for a country (the right code beside them).
_TYPED = {"UK": "GB", "EL": "GR", "EU": None, "UN": None}


def check_country(code: str) -> str | None:
    """Why the country part of ``code`` is not an ISO 3166-1 alpha-2 code of a country,
    current or former (ISO 3166-3), or None when it is; ``XK`` (Kosovo, user-assigned but
    used by every registry and measurement platform) is one. A subdivision's own part is
    not checked: subdivision codes change over time, and a ledger holds old orders."""
    import pycountry  # only when a code is checked

    name = country(code)
    if name == "XK" or pycountry.countries.get(alpha_2=name) is not None or any(
            c.alpha_2 == name for c in pycountry.historic_countries):
        return None
    if name in _TYPED:
        right = _TYPED[name]
        return (f"{name} is reserved in ISO 3166, not a country's code"
                + (f" (that country is {right})" if right else ""))
    return f"{name} is not an ISO 3166-1 alpha-2 code of a country"


def country(code: str) -> str:
    """The country of a jurisdiction code (``IN-JK`` -> ``IN``)."""
    return code.split("-", 1)[0]


def is_regional(code: str | None) -> bool:
    return code is not None and "-" in code


def binds(code: str | None, asked: str) -> bool:
    """Whether what is of jurisdiction ``code`` counts in the answer for ``asked``: the
    same code; a subdivision in its country's answer; a national order in the answer for
    one of its subdivisions. Unknown (None) counts in no jurisdiction's answer."""
    if code is None:
        return False
    if code == asked:
        return True
    if "-" in asked:
        return code == country(asked)
    return country(code) == asked


def covers(order: str | None, place: str | None) -> bool:
    """Whether an order of jurisdiction ``order`` surely binds the place ``place`` where an
    observation was made: the same code, or a national order and a place in its country
    (a regional order binds neither another region nor its whole country). Unknown
    (None) on either side: every order is compared with every observation, as before
    jurisdictions."""
    if order is None or place is None:
        return True
    return order == place or ("-" not in order and country(place) == order)


def may_cover(order: str | None, place: str | None) -> bool:
    """Whether it may bind there: ``covers``, or a regional order and a place given as
    its whole country (the observation may have been made in that region)."""
    return covers(order, place) or (is_regional(order) and place == country(order or ""))


class LedgerState(SubjectState):
    """The ledger's settings: its default jurisdiction."""

    kind = "ledger"

    def __init__(self, ref: str):
        super().__init__(ref)
        self.jurisdiction: str | None = None

    def _check(self, fact: Fact) -> None:
        if fact.kind.creates and fact.subject != LEDGER:
            raise Broken(fact, f"the ledger's settings are recorded on the subject "
                               f"{LEDGER!r}, not {fact.subject!r}")

    def _apply(self, fact: Fact) -> None:
        if fact.type == "jurisdiction-default":
            self.jurisdiction = fact.data.jurisdiction


STATES["ledger"] = LedgerState
