"""A country's targets in force as a Citizen Lab test list (github.com/citizenlab/test-lists),
so that measurement probes (OONI) test exactly what was ordered.

The format is theirs, as their linter (``scripts/lint-lists.py``) checks it: the header
``url,category_code,category_description,date_added,source,notes``; ``url`` an http(s)
address whose path is not empty (``https://t.me/``), once per list; ``category_code`` one of
the codes of ``lists/00-LEGEND-new_category_codes.csv`` and ``category_description`` exactly
its description there; ``date_added`` ``YYYY-MM-DD``; no carriage return, newline, tab or
backslash in ``source`` or ``notes``.

Only a domain name can be a URL: an IP address, a network or an app id cannot, and is
counted as skipped. A target held by several orders (or platforms) is one row: the earliest
order (by when it was made, then reference) gives ``date_added``; the category is that of
the first order, in that sequence, whose reasons match a row of ``CATEGORIES``; ``notes``
names every order, ``REF (AUTHORITY)``, joined by ``; ``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from attrs import field, frozen

from domain.values import When
from projections.formats import Columns, spreadsheet_safe
from projections.intervals import Interval, Ordered

#: The header, exactly as Citizen Lab's lists have it.
HEADER = ("url", "category_code", "category_description", "date_added", "source", "notes")

#: What the list's ``source`` column says.
SOURCE = "blockledger"

#: The codes used here, with their descriptions as the legend
#: (``lists/00-LEGEND-new_category_codes.csv``) spells them, which the linter requires.
DESCRIPTIONS = {
    "MILX": "Terrorism and Militants",
    "HATE": "Hate Speech",
    "PORN": "Pornography",
    "GMB": "Gambling",
    "ALDR": "Alcohol & Drugs",
    "LGBT": "LGBT",
    "REL": "Religion",
    "HUMR": "Human Rights Issues",
    "POLR": "Political Criticism",
    "NEWS": "News Media",
    "ANON": "Anonymization and circumvention tools",
    "FILE": "File-sharing",
    "COMT": "Communication Tools",
    "GRP": "Social Networking",
    "DATE": "Online Dating",
    "HACK": "Hacking Tools",
    "MISC": "Miscellaneous content",
}

#: An order's reasons -> a category code: the first row with a term found in one of the
#: reasons, else ``MISC``. A term is a stem: it matches a word starting with it (case
#: ignored); a space or hyphen in a term matches a space, a hyphen or nothing
#: ("social media": social-media, socialmedia; "e-mail": email). The row's third part
#: holds whole words, matched only as such ("tor", not "torrent" nor "tortoise"). More
#: specific rows first: pornography before LGBT (the legend's LGBT excludes it), terrorism
#: before news or politics ("news that praises terrorism"). README's table is this one
#: (tests/test_export_test_list.py renders it and compares).
CATEGORIES: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("MILX", ("terror", "extremis", "radical", "militan", "separatis", "insurgen"), ()),
    ("HATE", ("hate speech", "hatred", "racis", "xenophob"), ()),
    ("PORN", ("porn", "obscen", "indecen", "sexually explicit"), ()),
    ("GMB", ("gambl", "casino", "betting", "lotter"), ()),
    ("ALDR", ("drug", "narcotic", "alcohol"), ()),
    ("LGBT", ("lgbt", "homosexual", "gay", "lesbian", "transgender", "queer"), ()),
    ("REL", ("relig", "blasphem"), ()),
    ("HUMR", ("human rights",), ()),
    ("POLR", ("politic", "opposition", "dissent", "criticism of", "insult"), ()),
    ("NEWS", ("news", "journalis", "media outlet"), ()),
    ("ANON", ("vpn", "circumvent", "anonymi", "proxy", "proxies"), ("tor",)),
    ("FILE", ("file shar", "torrent", "piracy", "pirated"), ()),
    ("COMT", ("messag", "voip", "chat", "e-mail"), ()),
    ("GRP", ("social network", "social media"), ()),
    ("DATE", ("dating",), ()),
    ("HACK", ("hack",), ()),
)


def _term(term: str) -> str:
    """The pattern of a term: its parts, a space or hyphen between them optional."""
    return "[- ]?".join(re.escape(part) for part in re.split(r"[- ]", term))


_PATTERNS = tuple(
    (code, re.compile(r"\b(?:" + "|".join(
        [*map(_term, stems), *(_term(word) + r"\b" for word in words)]) + ")",
        re.IGNORECASE))
    for code, stems, words in CATEGORIES)

#: A host name as the linter's URL pattern takes it: labels of letters, digits and hyphens,
#: at least two, the last of letters (2-6) or of 2 or more letters, digits, hyphens.
_HOST = re.compile(r"(?:[A-Z0-9](?:[A-Z0-9-]{0,61}[A-Z0-9])?\.)+"
                   r"(?:[A-Z]{2,6}|[A-Z0-9-]{2,})", re.IGNORECASE)
#: What the linter refuses in ``source`` and ``notes``.
_BAD = re.compile(r"[\r\n\t\\]")


def category(reasons: Iterable[str]) -> str:
    """The category code of an order's ``reasons`` (see ``CATEGORIES``)."""
    reasons = list(reasons)
    for code, pattern in _PATTERNS:
        if any(pattern.search(reason) for reason in reasons):
            return code
    return "MISC"


def kind_of(target: str) -> str:
    """``domain`` for a target a URL can name; else what it is: ``ip``, ``network``,
    ``app``, or ``other`` (a stored spelling no URL takes)."""
    if target.startswith("app:"):
        return "app"
    try:
        ipaddress.ip_address(target)
        return "ip"
    except ValueError:
        pass
    try:
        ipaddress.ip_network(target)
        return "network"
    except ValueError:
        pass
    return "domain" if _HOST.fullmatch(target) else "other"


def _day(when: When) -> str:
    """The date of ``when`` as it was written (in its own offset), ``YYYY-MM-DD``."""
    if when.day:
        return when.text
    try:
        return datetime.fromisoformat(when.text).date().isoformat()
    except ValueError:
        return when.instant.date().isoformat()


def _note(text: str) -> str:
    return _BAD.sub(" ", text)


@frozen
class Entry:
    """One row of the list: a URL and the orders that hold its target in force."""

    url: str
    orders: list[Ordered] = field(factory=list)

    def record(self) -> dict[str, Any]:
        orders = sorted(self.orders, key=lambda o: (o.made.instant, o.ref))
        code = next((c for c in (category(o.reasons) for o in orders) if c != "MISC"),
                    "MISC")
        return {"url": self.url, "category_code": code,
                "category_description": DESCRIPTIONS[code],
                "date_added": _day(orders[0].made),
                "source": SOURCE,
                "notes": _note("; ".join(f"{o.ref} ({o.authority})" for o in orders))}


#: The list's columns (each cell kept safe in a spreadsheet too: none should start a
#: formula, since a note starts with an order's reference).
TEST_LIST_COLUMNS: Columns = [(name, lambda r, name=name: spreadsheet_safe(r[name]))
                              for name in HEADER]


@frozen
class TestList:
    """The rows of a test list, by URL, and the targets that could not be URLs."""

    __test__ = False  # not a pytest class, whatever its name

    entries: list[Entry]
    skipped: dict[str, int]  # kind -> how many distinct targets


def test_list(intervals: Iterable[Interval]) -> TestList:
    """The test list of the targets of ``intervals`` still in force (those without an
    end), one row per URL, sorted by URL."""
    rows: dict[str, Entry] = {}
    skipped: dict[str, set[str]] = {}
    for interval in intervals:
        if interval.end is not None:
            continue
        kind = kind_of(interval.target)
        if kind != "domain":
            skipped.setdefault(kind, set()).add(interval.target)
            continue
        url = f"https://{interval.target.lower()}/"
        entry = rows.setdefault(url, Entry(url))
        if interval.order not in entry.orders:
            entry.orders.append(interval.order)
    return TestList([rows[url] for url in sorted(rows)],
                    {kind: len(targets) for kind, targets in sorted(skipped.items())})
