"""Small immutable values: references, valid times and source citations."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from attrs import frozen

from domain.errors import BadInput

SLUG = re.compile(r"[a-z0-9][a-z0-9._-]{0,99}")
SHA256 = re.compile(r"[0-9a-f]{64}")
URL = re.compile(r"https?://\S+", re.IGNORECASE)

#: Size limits on text, so that one hostile line cannot fill the store.
MAX_TEXT = 10_000
MAX_ITEMS = 1_000

# Fixed forever: aggregate ids are uuid5(NAMESPACE, "<kind>:<reference>").
NAMESPACE = uuid.UUID("6f1b6a3e-4c1d-5b8e-9a57-0d3c2b1e7f42")


def check_slug(value: object, field: str) -> str:
    """Return ``value`` if it is a reference slug, else raise ``BadInput`` naming ``field``."""
    if not isinstance(value, str) or not SLUG.fullmatch(value):
        raise BadInput(
            f"{value!r} is not a reference: use lower-case letters, digits, '.', '_' or '-' "
            "(at most 100, starting with a letter or digit)",
            field=field,
        )
    return value


def check_text(value: object, field: str, *, limit: int = MAX_TEXT) -> str:
    """Return ``value`` stripped if it is non-empty text within ``limit`` characters."""
    if not isinstance(value, str):
        raise BadInput(f"expected text, got {type(value).__name__}", field=field)
    value = value.strip()
    if not value:
        raise BadInput("must not be empty", field=field)
    if len(value) > limit:
        raise BadInput(f"is longer than {limit} characters", field=field)
    if "\x00" in value:
        raise BadInput("contains a NUL character", field=field)
    return value


@lru_cache(maxsize=65536)
def aggregate_id(kind: str, reference: str) -> uuid.UUID:
    """The deterministic id of the aggregate of ``kind`` addressed by ``reference``."""
    return uuid.uuid5(NAMESPACE, f"{kind}:{reference}")


@frozen(order=False)
class When:
    """A point in valid time, as an operator wrote it.

    ``text`` keeps what was given (a bare date keeps day precision for display);
    ``instant`` is the UTC instant it orders at: a bare date orders as the start of that day.
    """

    text: str
    instant: datetime
    day: bool

    @classmethod
    def parse(cls, value: object, field: str = "occurred_at", *, end_of_day: bool = False) -> When:
        """Parse an ISO 8601 date, or date-time with an offset.

        A bare date means the start of that day (UTC), or its end with ``end_of_day``
        (``--as-of 2017-07-14`` includes everything that happened on 14 July).
        """
        if not isinstance(value, str):
            raise BadInput(f"expected an ISO 8601 date or date-time, got {value!r}", field=field)
        text = value.strip()
        if len(text) == 10:
            try:
                day = date.fromisoformat(text)
            except ValueError:
                raise BadInput(f"{value!r} is not an ISO 8601 date", field=field) from None
            start = datetime.combine(day, time(0), tzinfo=UTC)
            instant = start + timedelta(days=1, microseconds=-1) if end_of_day else start
            return cls(text=text, instant=instant, day=True)
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise BadInput(f"{value!r} is not an ISO 8601 date or date-time", field=field) from None
        if moment.tzinfo is None:
            raise BadInput(
                f"{value!r} has no UTC offset: add one (e.g. +07:00 or Z) or give a bare date",
                field=field,
            )
        return cls(text=moment.isoformat(), instant=moment.astimezone(UTC), day=False)

    @classmethod
    def of(cls, moment: datetime) -> When:
        """The ``When`` of an aware datetime."""
        return cls(text=moment.isoformat(), instant=moment.astimezone(UTC), day=False)

    def __str__(self) -> str:
        return self.text


@frozen
class Source:
    """A citation backing an event: a URL, a title, a digest of the document, a quote."""

    url: str | None = None
    title: str | None = None
    sha256: str | None = None
    quote: str | None = None

    @classmethod
    def parse(cls, value: object, field: str = "sources") -> Source:
        """A source from the command line (a URL or a text) or from a JSON object."""
        if isinstance(value, str):
            text = check_text(value, field)
            return cls(url=text) if URL.fullmatch(text) else cls(title=text)
        if not isinstance(value, dict):
            raise BadInput("a source is a URL, a text or an object {url, title, sha256, quote}",
                           field=field)
        unknown = set(value) - {"url", "title", "sha256", "quote"}
        if unknown:
            raise BadInput(f"unknown source field {sorted(unknown)[0]!r}", field=field)
        parts = {k: check_text(v, f"{field}.{k}") for k, v in value.items() if v is not None}
        if not parts.get("url") and not parts.get("title"):
            raise BadInput("a source needs a url or a title", field=field)
        if "sha256" in parts and not SHA256.fullmatch(parts["sha256"]):
            raise BadInput("sha256 must be 64 lower-case hex digits", field=f"{field}.sha256")
        return cls(**parts)

    def to_json(self) -> dict[str, str]:
        """The source as a JSON object, without empty fields."""
        return {k: v for k, v in (("url", self.url), ("title", self.title),
                                  ("sha256", self.sha256), ("quote", self.quote)) if v}

    def label(self) -> str:
        """A short human label: the title, else the URL."""
        return self.title or self.url or ""
