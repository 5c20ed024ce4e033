"""Measurements matched to the platforms holding their hosts: ``Conversion``, from the
measurements read (``sources.measurements``) to the facts handed to the one import path
(``projections.importing``), counting what is skipped and why.

A measurement becomes an observation (``sources.ooni``) of the platform that held its host
at its time (``sources.holders``: the host itself, else its nearest parent domain held,
up to its registrable domain), unless:

- no platform holds the host, then or later: counted and listed (``unknown``);
- several platforms held it then (``ambiguous-host``): which one was observed cannot be
  told;
- nobody held it then, but a platform does later (``not-held-then``): the later holder
  (perhaps not the one that held it before) was not what was measured;
- the holder shares its reference with an order (``platform-named-like-an-order``);
- it was reachable and matched through a parent domain (``reachable-subdomain``): a
  subdomain reached (a CDN's, say) says nothing of the name its platform holds and orders
  list; an unreachable one is recorded at the parent, as blocking at the platform's
  domain (its source names the URL measured);
- it was met before, in this import or in the ledger (``sources.ooni_repeats``): already
  present, or a repeated measurement with other content (``repeated-measurement``).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from domain.errors import BadInput
from domain.fact import Fact
from sources.domains import platform_slug, registrable
from sources.holders import AMBIGUOUS, Held, Holders
from sources.measurements import Place
from sources.ooni import (
    _SIZE_BOUND,
    Measurement,
    _id_text,
    _observation_digest,
    measurement,
    observation_fact,
    registration,
)
from sources.ooni_repeats import Lookup, Repeats, nowhere

#: Why a measurement was skipped here (the summary's keys; ``sources.ooni`` has those of
#: the measurement itself).
AMBIGUOUS_HOST, ORDER_NAMED = "ambiguous-host", "platform-named-like-an-order"
NOT_HELD_THEN, REACHABLE_SUBDOMAIN = "not-held-then", "reachable-subdomain"
REPEATED = "repeated-measurement"
#: ``_not_observed``: no platform holds the host (counted and listed apart).
UNKNOWN = "unknown-host"
#: How many unknown hosts are kept by name (more are only counted).
KEPT_HOSTS = 100_000
#: Observations checked against those met before (``sources.ooni_repeats``) at a time.
CHUNK = 5_000


class Conversion:
    """Measurements to facts, counting what is skipped and which hosts no platform holds.

    For ``--register``, platforms for the registrable domains of hosts nobody holds are
    planned from a first reading of the measurements (``plan``) and handed out first
    (``registrations``), before the observations (``facts``) of a second reading.
    """

    def __init__(self, holders: Holders, lookup: Lookup = nowhere):
        self.holders = holders
        self.repeats = Repeats(observation_fact, lookup)
        #: platform -> the countries of its observations (``probe_cc``), how many each
        self.jurisdictions: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.measurements = 0
        self.skipped: Counter[str] = Counter()
        self.unknown: Counter[str] = Counter()
        self.unknown_measurements = 0
        self.by_parent = 0
        self.registered: list[str] = []
        self._planned: dict[str, tuple[Place, Measurement]] = {}

    def plan(self, read: Iterable[tuple[Place, Any]]) -> None:
        """First reading, for ``--register``: every measurement checked, and for each
        registrable domain of a host nobody holds at any time, its earliest measurement."""
        planned = self._planned
        for place, obj in read:
            m = _located(place, obj)
            if m.__class__ is str or self.holders.ever_held(m.host):  # type: ignore[union-attr]
                continue
            domain = registrable(m.host)  # type: ignore[union-attr]
            if domain is None:
                continue
            earlier = planned.get(domain)
            if earlier is None or (m.at, m.report_id) < (earlier[1].at,  # type: ignore[union-attr]
                                                          earlier[1].report_id):
                planned[domain] = (place, m)  # type: ignore[assignment]

    def registrations(self) -> Iterator[tuple[Place, Fact]]:
        """The planned registrations, by domain, each taken into the holders: a domain
        whose platform reference is taken already stays unknown."""
        for domain in sorted(self._planned):
            place, first = self._planned[domain]
            slug = platform_slug(domain)
            if slug in self.holders.platforms or self.holders.is_order(slug):
                continue
            fact = _fact(place, registration(domain, first))
            self.holders.add_platform(slug, [fact])
            self.registered.append(slug)
            yield place, fact
        self._planned.clear()

    def facts(self, read: Iterable[tuple[Place, Any]]) -> Iterator[tuple[Place, Fact]]:
        """The observations of the measurements ``read``, each with where it was read:
        a chunk at a time, each measurement met before (``repeats``) left out."""
        holders = self.holders
        chunk: list[tuple[Place, Measurement, Held, bytes, str]] = []
        for place, obj in read:
            self.measurements += 1
            m = _located(place, obj)
            if m.__class__ is str:
                self.skipped[m] += 1  # type: ignore[index]
                continue
            found = holders.find(m.host, m.at)  # type: ignore[union-attr]
            why = _not_observed(found, m, holders)  # type: ignore[arg-type]
            if why is not None:
                if why == UNKNOWN:
                    self.unknown_measurements += 1
                    if m.host in self.unknown or len(self.unknown) < KEPT_HOSTS:  # type: ignore[union-attr]
                        self.unknown[m.host] += 1  # type: ignore[union-attr]
                else:
                    self.skipped[why] += 1
                continue
            digest = _observation_digest(m.report_id, m.input)  # type: ignore[union-attr]
            chunk.append((place, m, found, digest, _id_text(digest)))  # type: ignore[arg-type]
            if len(chunk) == CHUNK:
                yield from self._observed(chunk)
                chunk = []
        yield from self._observed(chunk)

    def _observed(self, chunk: list[tuple[Place, Measurement, Held, bytes, str]],
                  ) -> Iterator[tuple[Place, Fact]]:
        for place, m, found, _, text in self.repeats.fresh(chunk) if chunk else ():
            self.by_parent += found.by_parent
            if m.jurisdiction is not None:
                self.jurisdictions[found.platform][m.jurisdiction] += 1
            try:
                yield place, observation_fact(m, found, text)
            except BadInput as error:
                raise error.at_line(place) from None  # type: ignore[arg-type]


def _not_observed(found: Held | str | None, m: Measurement, holders: Holders) -> str | None:
    """Why the measurement ``m`` of a host found so is no observation (``UNKNOWN``: no
    platform holds it, then or later), or None."""
    if found is None:
        return UNKNOWN
    if found is AMBIGUOUS:
        return AMBIGUOUS_HOST
    if found.later:  # type: ignore[union-attr]
        # Nobody held it then; whoever holds it later (perhaps not the one who held it
        # before) says nothing of what was measured.
        return NOT_HELD_THEN
    if holders.is_order(found.platform):  # type: ignore[union-attr]
        return ORDER_NAMED
    if m.accessible and found.by_parent:  # type: ignore[union-attr]
        # A reachable subdomain (a CDN's, say) says nothing of the name its platform holds
        # and an order lists; an unreachable one is blocking at the platform's domain.
        return REACHABLE_SUBDOMAIN
    return None


def _located(place: Place, obj: Any) -> Measurement | str:
    try:
        return measurement(obj)
    except BadInput as error:
        raise error.at_line(place) from None  # type: ignore[arg-type]


def _fact(place: Place, obj: dict[str, Any]) -> Fact:
    try:
        return Fact.from_json(obj, size=_SIZE_BOUND)
    except BadInput as error:
        raise error.at_line(place) from None  # type: ignore[arg-type]
