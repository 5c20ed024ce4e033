"""Targets: what a platform is reached at and a block order names, one spelling each.

A target is one of:

- a **domain name**, IDNA 2008 (the ``idna`` package, with the UTS 46 mapping that
  lower-cases it), stored as lower-case A-labels without a trailing dot: ``T.ME.`` is
  ``t.me``, ``Bücher.example`` is ``xn--bcher-kva.example``. Refused: what IDNA refuses (an
  underscore, ``*``, a label starting or ending with a hyphen, an emoji), an empty label, a
  label over 63 or a name over 253 characters (as A-labels), and a last label of digits
  alone (``192.000.2.1`` is no IP address, and no top-level domain is all digits);
- an **IP address or network** (``ipaddress``), stored as ``ipaddress`` writes it:
  ``192.0.2.1``, ``2001:db8::/32`` (``2001:DB8:0::/32`` too). A network whose host bits are
  set is refused (``192.0.2.1/24``: did you mean ``192.0.2.0/24``?), and a network of one
  address is that address (``192.0.2.1/32`` is ``192.0.2.1``);
- an **app id**: ``app:android:PACKAGE``, a Java package name as Google Play spells it
  (``app:android:org.telegram.messenger``, case kept: package names are case-sensitive);
  ``app:ios:idDIGITS``, the App Store id as its address spells it
  (apps.apple.com/app/id686449807 is ``app:ios:id686449807``; ``app:ios:686449807`` and
  ``APP:iOS:ID686449807`` are written so too).

A bare name is a domain name: ``org.telegram.messenger`` is a valid one, and nothing in its
spelling says it is an app, so it is kept as the domain name it reads as (lower-cased), and
ledgers that listed Android packages bare keep the same targets. Name an app with ``app:``.

Every target is an identifier first (``domain.values.check_identifier``): no invisible
character (``t.me\\u200b``), no compatibility look-alike (a full-width ``\\uff54``), and no label
mixing scripts (``telegram.m\\u0435``, with a Cyrillic e, is refused; ``пример.рф`` is fine,
stored ``xn--e1afmkfd.xn--p1ai``). A dot other than ``.`` (``\\u3002``) is refused too, where
UTS 46 would quietly read it as one. A name whose script needs a zero-width joiner or
non-joiner (IDNA 2008 allows them in context: Persian, Indic scripts) is given as its A-label,
which shows the joiner for what it is; its labels are checked for mixed scripts all the same.

Only new input is checked: a stored target is read as it was written (``FieldSpec.load``),
so ledgers written before these rules open and answer as before.
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache

from domain.errors import BadInput
from domain.values import (
    MAX_TEXT,
    character_problem,
    check_text,
    identifier_problem,
    script_problem,
    shown,
)

#: What a refusal reminds the user a target may be.
FORMS = ("a target is a domain name (t.me), an IP address or network (192.0.2.1, "
         "2001:db8::/32) or an app id (app:android:org.telegram.messenger, "
         "app:ios:id686449807)")
#: The longest domain name, in A-labels, without the trailing dot (RFC 1035, 1123).
MAX_DOMAIN = 253

_APP = re.compile(r"app:([^:]*):(.*)", re.IGNORECASE | re.DOTALL)
_ANDROID = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)+")
_IOS = re.compile(r"(?:id)?([1-9][0-9]{0,14})", re.IGNORECASE)
_IPV4ISH = re.compile(r"[0-9.]+")
#: A host name of letters, digits and hyphens (RFC 1123), in lower case, which IDNA takes as
#: it is (unless a label has "--", as an A-label does): most targets, checked without IDNA.
_LDH = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)(?:\.(?!-)[a-z0-9-]{1,63}(?<!-))*")
#: Texts longer than this (no target is, with its spaces) are checked without the cache.
_CACHED_UP_TO = 1_000
#: Full stops other than U+002E that UTS 46 maps to one (the full-width ones are
#: compatibility characters, refused as such).
_OTHER_DOTS = re.compile("[\u3002\uff0e\uff61]")


class _NotATarget(Exception):
    """Why a text is no target (turned into ``BadInput`` naming the field)."""


def check_target(value: object, field: str) -> str:
    """The target ``value`` names, in its one stored spelling (see the module's docs), or
    ``BadInput`` naming ``field`` and saying what is wrong with it."""
    target = clean_target(value)
    if target is not None:
        return target
    text = check_text(value, field, multiline=False)  # not one line of text: says why
    try:
        return _normalized(text)
    except _NotATarget as why:
        raise BadInput(f"{shown(text)} {why}", field=field) from None


def displayed(identifier: str) -> str:
    """How to show a stored target or operator's name, which may predate these rules: as it
    is if it could be typed today (every stored target is ASCII now), else with everything
    outside ASCII escaped, so that a look-alike shows as what it is: a ledger's old
    ``t.me\u200b`` or ``telegram.m\u0435`` is not shown as ``t.me`` or ``telegram.me``."""
    if identifier.isprintable() and not identifier_problem(identifier):
        return identifier
    return ascii(identifier)[1:-1]


def clean_target(value: object) -> str | None:
    """``check_target`` without the error: the target's stored spelling, or None. (Hot paths,
    a bulk import's many targets, call it directly; the same targets recur, so it caches.)"""
    if value.__class__ is not str:
        return None
    if value.isascii():
        name = value.strip().lower()  # type: ignore[attr-defined]
        name = name[:-1] if name.endswith(".") else name
        if (_LDH.fullmatch(name) and "--" not in name and len(name) <= MAX_DOMAIN
                and not name.rpartition(".")[2].isdigit()):
            return name
    if len(value) > _CACHED_UP_TO:  # no target is so long: hostile text is not kept
        return _cleaned.__wrapped__(value)  # type: ignore[arg-type]
    return _cleaned(value)  # type: ignore[arg-type]


@lru_cache(maxsize=4096)
def _cleaned(value: str) -> str | None:
    text = value.strip()
    if not text or len(text) > MAX_TEXT:
        return None
    try:
        return _normalized(text)
    except _NotATarget:
        return None


def _normalized(text: str) -> str:
    """The stored spelling of the stripped one-line ``text``, or ``_NotATarget``."""
    problem = character_problem(text)
    if problem:
        if "\u200c" in text or "\u200d" in text:
            problem += " (a domain name that needs a joiner is given as its A-label, xn--...)"
        raise _NotATarget(problem)
    app = _APP.fullmatch(text)
    if app:
        return _app(app.group(1).lower(), app.group(2))
    if "/" in text or ":" in text or _IPV4ISH.fullmatch(text):
        return _ip(text)
    return _domain(text)


def _app(platform: str, name: str) -> str:
    if platform == "android":
        if not _ANDROID.fullmatch(name) or len(name) > MAX_DOMAIN:
            raise _NotATarget("is not an Android app id: after app:android: give the package "
                              "name, dot-separated names of letters, digits and '_', each "
                              "starting with a letter (org.telegram.messenger)")
        return f"app:android:{name}"
    if platform == "ios":
        found = _IOS.fullmatch(name)
        if not found:
            raise _NotATarget("is not an iOS app id: after app:ios: give the App Store id, "
                              "as in its address apps.apple.com/app/id686449807 "
                              "(id686449807 or 686449807)")
        return f"app:ios:id{found.group(1)}"
    raise _NotATarget(f"names no app store: {FORMS}")


def _ip(text: str) -> str:
    if "://" in text:
        raise _NotATarget("is a URL: give the domain name or IP address it reaches")
    try:
        if "/" in text:
            network = ipaddress.ip_network(text)
            if network.num_addresses == 1:
                return str(network.network_address)
            return str(network)
        address = ipaddress.ip_address(text)
    except ValueError as error:
        reason = str(error).replace(repr(text), "it").replace(text, "it")
        if "has host bits set" in reason:
            network = ipaddress.ip_network(text, strict=False)
            raise _NotATarget(f"has host bits set: did you mean {network}?") from None
        raise _NotATarget(f"is not an IP address or network ({shown(reason)[1:-1]}); "
                          f"{FORMS}") from None
    if getattr(address, "scope_id", None):
        raise _NotATarget("names a link-local zone (%...): no target is one host's link")
    return str(address)


def _domain(text: str) -> str:
    import idna  # (imported where a name is checked: reads never check one)

    name = text[:-1] if text.endswith(".") else text
    if _OTHER_DOTS.search(name):
        raise _NotATarget("holds a full stop other than '.': write the name with '.'")
    if not name or "" in name.split("."):
        raise _NotATarget("has an empty label (two dots in a row, or a dot at the start)")
    try:
        encoded = idna.encode(name, uts46=True, transitional=False).decode("ascii")
    except idna.IDNAError as error:
        if str(error) == "Domain too long":
            raise _NotATarget(f"is a domain name longer than {MAX_DOMAIN} characters "
                              "(as A-labels)") from None
        raise _NotATarget(f"is not a domain name: IDNA 2008 refuses it "
                          f"({shown(str(error))[1:-1]}); {FORMS}") from None
    if len(encoded) > MAX_DOMAIN:  # IDNA allows one more, for a trailing dot
        raise _NotATarget(f"is a domain name longer than {MAX_DOMAIN} characters "
                          "(as A-labels)")
    labels = encoded.split(".")
    if labels[-1].isdigit():
        raise _NotATarget("is not an IP address, and no domain name ends in a label of "
                          "digits alone")
    for label in labels:
        if label.startswith("xn--"):  # scripts may differ from label to label, not within one
            problem = script_problem(idna.decode(label))
            if problem:
                raise _NotATarget(f"has a label, {label}, that {problem}")
    return encoded
