"""Hosts and registrable domains: what a measured URL names, and which platform holds it.

Foreign data names places on the web by URL or host; the ledger's platforms hold targets
(``domain.identifiers``). This module bridges the two, for every importer of field data:

- ``host_of(url)``: the host of a URL, in the ledger's one spelling of a target (IDNA 2008
  A-labels, lower case; an IP address as ``ipaddress`` writes it);
- ``registrable(host)``: the registrable domain of a host (``web.telegram.org`` ->
  ``telegram.org``, ``www.example.co.uk`` -> ``example.co.uk``) by the Public Suffix List,
  ICANN and private sections both (``foo.blogspot.com`` is its own site: its owner is not
  Blogspot's). The list is the one the ``publicsuffixlist`` package bundles: it is never
  fetched, so an import gives the same answer offline and on every run of one release;
- ``platform_slug(domain)``: the platform reference a registered domain gets;
- ``new_platform(home)``: the platform an importer registers for a target no platform
  holds (its registrable domain's, else one of the address's, network's or name's own);
- ``candidates(host)``, ``parents(host)``: the targets that may hold a host, in the order
  they are tried (the rules of matching, below).

**The rules of matching** a measured host to a platform's target, at the measurement's
valid time: the host itself first (``web.telegram.org`` held as such); else its nearest
parent domain held by a platform, up to and including its registrable domain
(``web.telegram.org`` on a platform that holds ``telegram.org``), never above it: a
platform that holds a public suffix (``co.uk``) or a top-level domain holds no host under
it. An IP address matches only itself. The observation is then of the held target (the
rules let a platform be observed only at a target it holds), and its source keeps the URL
measured, so that the subdomain is never lost.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from functools import cache, lru_cache
from typing import Any
from urllib.parse import urlsplit

from domain.errors import BadInput
from domain.identifiers import check_target, clean_target
from domain.values import shown

#: The longest URL taken (no measured input is near it; a hostile one is refused unread).
MAX_URL = 4_000
#: The longest platform reference (``domain.values.SLUG``).
MAX_SLUG = 100


@cache
def _list() -> Any:
    """The Public Suffix List bundled with ``publicsuffixlist`` (read once, on first use:
    about 0.1 s, paid only by a command that needs it)."""
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()


def host_of(url: object, field: str = "input") -> str:
    """The host ``url`` reaches, as a target (``BadInput`` naming ``field`` otherwise)."""
    if url.__class__ is not str:
        raise BadInput(f"expected a URL, got {shown(url)}", field=field)
    if len(url) > MAX_URL:  # type: ignore[arg-type]
        raise BadInput(f"a URL longer than {MAX_URL:,} characters", field=field)
    return _host(url, field)  # type: ignore[arg-type]


@lru_cache(maxsize=65_536)
def _host(url: str, field: str) -> str:
    # Measured URLs recur (a test list is measured again and again): each is parsed once,
    # and its checked host kept, for as many URLs as the cache holds.
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError as error:  # an unbalanced [ or a bad port
        raise BadInput(f"{shown(url)} is not a URL ({error})", field=field) from None
    if parts.scheme not in ("http", "https") or not host:
        raise BadInput(f"{shown(url)} is not an http:// or https:// URL with a host",
                       field=field)
    target = clean_target(host)
    return target if target is not None else check_target(host, field)


def registrable(host: str) -> str | None:
    """The registrable domain of ``host`` (a target), or None: an IP address, an app id,
    a public suffix itself (``co.uk``), or a name under no known suffix."""
    if _is_address(host) or host.startswith("app:"):
        return None
    return _registrable(host)


#: Hosts whose registrable domain and parents are remembered: a registry's hosts are
#: mostly each asked about once or twice, so unbounded caches held one entry for each of
#: a first snapshot's 500,000 domains (about 70 MB) for as long as its import ran.
CACHED = 65_536


@lru_cache(maxsize=CACHED)
def _registrable(host: str) -> str | None:
    return _list().privatesuffix(host)


def platform_slug(domain: str) -> str:
    """The reference of the platform registered for ``domain``: the domain itself (an
    A-label name is a slug), shortened to ``MAX_SLUG`` characters with a digest of the
    whole when longer, so that two long names never share one."""
    if len(domain) <= MAX_SLUG:
        return domain
    digest = hashlib.sha256(domain.encode()).hexdigest()[:12]
    return f"{domain[:MAX_SLUG - 13].rstrip('.-')}-{digest}"


def candidates(host: str) -> list[str]:
    """The targets that may hold ``host``, in the order they are tried: the host, then
    each parent domain up to its registrable domain (the rules of matching, above)."""
    return [host, *parents(host)]


def parents(host: str) -> tuple[str, ...]:
    """The parent domains of ``host`` that may hold it, nearest first, up to its registrable
    domain: none for an IP address, an app id, or a public suffix."""
    if _is_address(host) or host.startswith("app:"):
        return ()
    return _parents(host)


@lru_cache(maxsize=CACHED)
def _parents(host: str) -> tuple[str, ...]:
    top = _registrable(host)
    if top is None or top == host or not host.endswith("." + top):
        return ()
    out = []
    name = host
    while name != top:
        name = name.split(".", 1)[1]
        out.append(name)
    return tuple(out)


#: An IPv4 address as ``ipaddress`` writes it (no leading zeros): an address, unparsed
#: (half a registry's targets; a plan asks about each of them).
_IPV4 = re.compile(r"(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}"
                   r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)", re.ASCII)


def _is_address(host: str) -> bool:
    if ":" in host:
        return True
    if not host.rpartition(".")[2].isdigit():
        return False
    if _IPV4.fullmatch(host):
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


#: A character that is in no IPv4 address or network (digits, dots, a slash and a prefix or
#: mask): with no colon (no IPv6 one), ``ip_network`` refuses a string holding one.
_NOT_DOTTED = re.compile(r"[^0-9./]")


def new_platform(home: str) -> str:
    """The platform registered for a target no platform holds: its registrable domain's,
    else one of its own (an address, a network, a name under no known suffix). A home with
    a character no address or network is written with (a domain name) is never parsed as
    one: ``ip_network`` raising for each of a first snapshot's domains was a fifth of its
    diff."""
    try:
        if ":" not in home and _NOT_DOTTED.search(home):
            raise ValueError(home)
        network = ipaddress.ip_network(home, strict=False)
    except ValueError:
        domain = registrable(home)
        slug = platform_slug(domain if domain is not None else home.replace(":", "-"))
        return home if slug == home else slug  # one string for both, in a first snapshot
    kind = "net" if "/" in home else "ip"
    shown = str(network.network_address if kind == "ip" else network)
    return f"{kind}-{shown.replace(':', '.').replace('/', '-')}"[:100]
