"""OONI measurements as the ledger's facts: each Web Connectivity measurement an
``access-observed`` of the platform that held the measured host then.

The format is OONI's (``ooni/spec``: ``data-formats/df-000-base.md`` for the envelope,
``nettests/ts-017-web-connectivity.md`` for ``test_keys``). What each field becomes:

==============================  =====================================================
``test_name``                   only ``web_connectivity`` is read; others are skipped
                                (counted, ``other-test``)
``input`` (a URL)               its host, matched to a platform's target
                                (``sources.domains``): the observation's ``target``.
                                A URL with userinfo or a backslash in its authority is
                                skipped (``ambiguous-url``): ``urllib`` and browsers
                                read different hosts in it
``test_keys.accessible``        ``accessible``; ``null`` (OONI could not tell) is
                                skipped (``accessible-null``)
``test_keys.blocking``          ``method`` of an unreachable target: ``dns``,
                                ``tcp_ip``, ``http-failure``, ``http-diff`` as they
                                are; any other value ``other``. ``false`` with
                                ``accessible`` false is OONI's "expected failure" (the
                                site failed for its control measurement too: down, not
                                blocked), skipped (``site-down``): recording it as
                                unreachable would report censorship where OONI saw none.
                                A reachable target has no method.
``probe_asn``, ``probe_network_name``  ``network``: ``AS13285 (TalkTalk Communications
                                Limited)``; ``AS0`` (not shared) gives none
``probe_cc``                    ``jurisdiction`` (a country's ISO 3166 code, else bad
                                input naming ``probe_cc``); ``ZZ`` (the probe's owner did not
                                share it) is skipped (``country-not-shared``): an
                                observation says where it was made, or it is evidence
                                about no jurisdiction's blocking (and a ledger's default
                                jurisdiction would claim it)
``measurement_start_time``      ``occurred_at``, UTC (``2017-07-20 08:15:02``)
``report_id`` and ``input``     the source: the measurement's OONI Explorer address,
                                titled with both, quoting the two test keys read; and
                                the event's id, uuid5 of the pair, so that importing a
                                measurement again adds nothing
==============================  =====================================================

Nothing here writes: ``sources.ooni_conversion.Conversion.facts`` hands ``(place,
fact)`` pairs, each the fact the interchange format's ``Fact.from_json`` makes of the
observation's interchange object (``observation``; its data validated by the type's one
declaration), to the one import path (``projections.importing``).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, NamedTuple
from urllib.parse import quote

import orjson

from domain.declaration import REGISTRY
from domain.errors import BadInput
from domain.fact import Fact
from domain.jurisdictions import check_country
from domain.values import NAMESPACE, Source, When, clean_text, json_kind, shown
from sources.domains import MAX_URL, host_of, platform_slug
from sources.holders import Held

WEB_CONNECTIVITY = "web_connectivity"
#: OONI's ``blocking`` values that are a method of the vocabulary as they are.
METHODS = frozenset({"dns", "tcp_ip", "http-failure", "http-diff"})
EXPLORER = "https://explorer.ooni.org/measurement/"
#: The ids of observations (uuid5 of report_id and input) and of registrations.
OBSERVATIONS = uuid.uuid5(NAMESPACE, "ooni measurement")
REGISTRATIONS = uuid.uuid5(NAMESPACE, "ooni registered domain")
_OBSERVATIONS_BYTES = OBSERVATIONS.bytes
_ACCESS = REGISTRY["access-observed"]
#: Why a measurement was skipped (the summary's keys).
OTHER_TEST, ACCESSIBLE_NULL, SITE_DOWN = "other-test", "accessible-null", "site-down"
COUNTRY_NOT_SHARED, AMBIGUOUS_URL = "country-not-shared", "ambiguous-url"
#: The fields read: each may be given once in its object (``measurements.read_objects``).
READ = ("test_name", "test_keys", "accessible", "blocking", "report_id", "input",
        "measurement_start_time", "probe_asn", "probe_cc", "probe_network_name")
MAX_REPORT_ID = 200
MAX_NETWORK_NAME = 200
_TIME = re.compile(r"(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)Z?")
_ASN = re.compile(r"AS(0|[1-9][0-9]{0,9})")
_CC = re.compile(r"[A-Z]{2}")
#: Where a URL's authority ends, for ``urllib`` (``/?#``).
_AUTHORITY_END = re.compile(r"[/?#]")
#: A report_id as OONI writes them: nothing in it to percent-encode.
_PLAIN = re.compile(r"[A-Za-z0-9_.~-]+")
#: Observations stay far below the interchange format's limit on an event's size: the
#: URL and texts are bounded above (the input at 4,000 characters), so no dump is needed
#: to measure one (``Fact.from_json``'s ``size``).
_SIZE_BOUND = 200_000


class Measurement(NamedTuple):
    """What the ledger reads of one Web Connectivity measurement (a named tuple: one is
    built per measurement, hundreds of thousands an import)."""

    report_id: str
    input: str
    host: str
    at: datetime
    accessible: bool
    method: str | None
    network: str | None
    jurisdiction: str | None
    blocking: Any  # as OONI gave it, for the source's quote


def measurement(obj: Any) -> Measurement | str:
    """The measurement ``obj`` holds, or why it is skipped; ``BadInput`` naming the field
    of a malformed one. A measurement of another test is only checked for its name."""
    if obj.__class__ is not dict:
        raise BadInput(f"expected a JSON object (a measurement), got {json_kind(obj)}")
    test = obj.get("test_name")
    if test.__class__ is not str:
        raise BadInput(f"expected the test's name, got {json_kind(test)}", field="test_name")
    if test != WEB_CONNECTIVITY:
        return OTHER_TEST
    keys = obj.get("test_keys")
    if keys.__class__ is not dict:
        raise BadInput(f"expected an object, got {json_kind(keys)}", field="test_keys")
    accessible = keys.get("accessible")
    if accessible is None:
        return ACCESSIBLE_NULL
    if accessible.__class__ is not bool:
        raise BadInput(f"expected true, false or null, got {json_kind(accessible)}",
                       field="test_keys.accessible")
    blocking = keys.get("blocking")
    if blocking is not None and blocking.__class__ is not bool and (
            blocking.__class__ is not str or clean_text(blocking, False, 100) is None):
        raise BadInput(f"expected a string, false or null, got {shown(blocking)}",
                       field="test_keys.blocking")
    if not accessible and blocking is False:
        return SITE_DOWN
    jurisdiction = _jurisdiction(obj.get("probe_cc"))
    if jurisdiction is None:
        return COUNTRY_NOT_SHARED
    report_id = _text(obj.get("report_id"), "report_id", MAX_REPORT_ID)
    url = _text(obj.get("input"), "input", MAX_URL)
    if ("@" in url or "\\" in url) and _ambiguous(url):
        return AMBIGUOUS_URL
    return Measurement(
        report_id,
        url,
        host_of(url),
        _time(obj.get("measurement_start_time")),
        accessible,
        None if accessible else (blocking if blocking in METHODS else "other"),
        _network(obj.get("probe_asn"), obj.get("probe_network_name")),
        jurisdiction,
        blocking,
    )


def _text(value: Any, field: str, limit: int) -> str:
    text = clean_text(value, False, limit)
    if text is None:
        if value.__class__ is not str:
            raise BadInput(f"expected a string, got {json_kind(value)}", field=field)
        if len(value) > limit:
            raise BadInput(f"longer than {limit:,} characters", field=field)
        raise BadInput(f"{shown(value)} is empty or holds a control character", field=field)
    return text


def _time(value: Any) -> datetime:
    found = _TIME.fullmatch(value) if value.__class__ is str else None
    if found is None:
        raise BadInput(f"expected a UTC time as OONI writes it (2017-07-20 08:15:02), got "
                       f"{shown(value)}", field="measurement_start_time")
    try:
        return datetime(*map(int, found.groups()), tzinfo=UTC)  # type: ignore[misc]
    except ValueError as error:
        raise BadInput(f"{shown(value)} is not a time ({error})",
                       field="measurement_start_time") from None


def _network(asn: Any, name: Any) -> str | None:
    if asn.__class__ is str and (name is None or name.__class__ is str):
        return _network_text(asn, name)
    return _network_text.__wrapped__(asn, name)


@lru_cache(maxsize=4096)
def _network_text(asn: Any, name: Any) -> str | None:
    # A handful of networks measure a country: each is checked and written once.
    if asn.__class__ is not str or not _ASN.fullmatch(asn):
        raise BadInput(f"expected an AS number (AS13285), got {shown(asn)}", field="probe_asn")
    if asn == "AS0":  # the probe's owner did not share it
        return None
    if name is None or name == "":
        return asn
    return f"{asn} ({_text(name, 'probe_network_name', MAX_NETWORK_NAME)})"


def _ambiguous(url: str) -> bool:
    """Whether the authority of ``url`` holds userinfo or a backslash: read differently by
    ``urllib`` (``https://evil.example\\@web.telegram.org/``: web.telegram.org) and by
    browsers (WHATWG: a backslash ends the host, evil.example), so which host was
    measured cannot be told."""
    rest = url.partition("://")[2]
    authority = _AUTHORITY_END.split(rest, 1)[0]
    return "@" in authority or "\\" in authority


def _jurisdiction(cc: Any) -> str | None:
    if cc.__class__ is not str or not _CC.fullmatch(cc):
        raise BadInput(f"expected a country code (two capital letters), got {shown(cc)}",
                       field="probe_cc")
    return None if cc == "ZZ" else _country(cc)


@lru_cache(maxsize=512)
def _country(cc: str) -> str:
    # Checked here, so that a wrong code is named by OONI's field, not the event's.
    why = check_country(cc)
    if why is not None:
        raise BadInput(f"{shown(cc)} is not a country code: {why}", field="probe_cc")
    return cc


def explorer_url(report_id: str, url: str) -> str:
    """The measurement's page on OONI Explorer, every character of both parts that could
    change the address's meaning percent-encoded."""
    rid = report_id if _PLAIN.fullmatch(report_id) else quote(report_id, safe="")
    return f"{EXPLORER}{rid}?input={_quoted(url)}"


@lru_cache(maxsize=65_536)
def _quoted(url: str) -> str:
    # A measured URL recurs (a test list measured again and again): quoted once.
    return quote(url, safe="")


def source(m: Measurement) -> dict[str, str]:
    """The measurement as a citation: its Explorer address, its report_id and input, and
    the two test keys the observation reads."""
    quoted = _QUOTES.get((m.accessible, m.blocking)) if m.blocking.__class__ is not str else (
        None)
    return {"url": explorer_url(m.report_id, m.input),
            "title": f"OONI Web Connectivity measurement, report_id {m.report_id}, "
                     f"input {m.input}",
            "quote": quoted or _quote(m.accessible, m.blocking)}


def _quote(accessible: bool, blocking: Any) -> str:
    return (f"test_keys.accessible: {orjson.dumps(accessible).decode()}, "
            f"test_keys.blocking: {orjson.dumps(blocking).decode()}")


_QUOTES = {(a, b): _quote(a, b) for a in (True, False) for b in (True, False, None)}


def observation_id(report_id: str, url: str) -> uuid.UUID:
    """The id of the observation of one measurement: the same on every import (uuid5 of
    the JSON array ``[report_id, input]``)."""
    return uuid.uuid5(OBSERVATIONS, orjson.dumps([report_id, url]).decode())


def _observation_id_text(report_id: str, url: str) -> str:
    """``str(observation_id(...))``, without building the UUID."""
    return _id_text(_observation_digest(report_id, url))


def _observation_digest(report_id: str, url: str) -> bytes:
    """The 16 bytes of ``observation_id(...)`` (RFC 4122 name-based, SHA-1: the version
    and variant bits set in the digest's first 16 bytes)."""
    digest = bytearray(hashlib.sha1(_OBSERVATIONS_BYTES + orjson.dumps([report_id, url]),
                                    usedforsecurity=False).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    return bytes(digest)


def _id_text(digest: bytes) -> str:
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def observation(m: Measurement, held: Held) -> dict[str, Any]:
    """The interchange object of the observation ``m`` makes of ``held``'s target."""
    return {"id": _observation_id_text(m.report_id, m.input), "type": "access-observed",
            "subject": held.platform, "occurred_at": m.at.isoformat(),
            "sources": [source(m)], "data": _data(m, held)}


def _data(m: Measurement, held: Held) -> dict[str, Any]:
    data: dict[str, Any] = {"target": held.target, "accessible": m.accessible}
    if m.network is not None:
        data["network"] = m.network
    if m.jurisdiction is not None:
        data["jurisdiction"] = m.jurisdiction
    if m.method is not None:
        data["method"] = m.method
    return data


def observation_fact(m: Measurement, held: Held, id_text: str | None = None) -> Fact:
    """``Fact.from_json(observation(m, held))``, built without writing the object out and
    reading it back: its data validated by the type's declaration as the interchange
    format validates it (``EventType.parse``); its envelope made of parts checked by
    ``measurement`` (the id a uuid5, the subject a platform's reference, a UTC time, a
    source of checked texts, far below the size limit). tests/test_import_ooni.py proves
    the two equal on every fixture."""
    if id_text is None:
        id_text = _observation_id_text(m.report_id, m.input)
    return Fact(uuid.UUID(id_text), "access-observed",
                held.platform, When(m.at.isoformat(), m.at, False), (Source(**source(m)),),
                _ACCESS.parse(_data(m, held)))


def registration(domain: str, first: Measurement) -> dict[str, Any]:
    """The interchange object registering a platform for ``domain``, as of the earliest
    measurement of it (``first``): no later than that, it existed."""
    return {"id": str(uuid.uuid5(REGISTRATIONS, domain)), "type": "platform-registered",
            "subject": platform_slug(domain), "occurred_at": first.at.isoformat(),
            "sources": [{**source(first), "title": f"Registered by blockledger import-ooni "
                         f"--register: {domain}, first measured in OONI report_id "
                         f"{first.report_id}, input {first.input}"}],
            "data": {"name": domain, "targets": [domain]}}
