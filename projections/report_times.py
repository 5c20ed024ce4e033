"""Times in a report, for people: in one named zone, to the minute.

The JSON report keeps ISO 8601 as the ledger wrote it; only what people read (HTML, PDF,
Markdown) is shown in the zone the reader chose (``report --tz``, ``BLOCKLEDGER_TZ``, else
UTC). A bare date keeps its day precision: it is shown as that day, never as a midnight.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.errors import BadInput


def parse_zone(name: str | None) -> tzinfo:
    """The zone of an IANA name (``Asia/Jakarta``); UTC for None or ``UTC``. Raises
    ``BadInput`` (exit 2) for a name the system's zone database does not hold."""
    if name is None or name.strip() in ("", "UTC", "Z"):
        return UTC
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError, OSError):
        shown = name if len(name) <= 60 else name[:57] + "..."
        raise BadInput(f"unknown time zone {shown!r}: give an IANA name such as UTC, "
                       "Asia/Jakarta or Europe/Berlin", field="tz") from None


def user_zone(given: str | None) -> tzinfo:
    """The zone a command shows times in: ``given`` (``--tz``), else ``BLOCKLEDGER_TZ``
    (set and not empty), else UTC; ``BadInput`` (exit 2) naming where the name came from
    when it is no zone, or when ``--tz`` is given empty. Every command asks this one."""
    source, name = "--tz", given
    if name is None:
        source, name = "BLOCKLEDGER_TZ", os.environ.get("BLOCKLEDGER_TZ") or None
    if name is None:
        return UTC
    try:
        if not name.strip():
            raise BadInput("")
        return parse_zone(name)
    except BadInput:
        shown = name if len(name) <= 60 else name[:57] + "..."
        raise BadInput(f"{source} {shown!r} is not a time zone: give an IANA name such as "
                       "Asia/Jakarta, Europe/Berlin or UTC") from None  # (names its source)


class Clock:
    """Formats a report's times in one zone; names the zone."""

    def __init__(self, zone: tzinfo = UTC):
        self.zone = zone
        self.name = "UTC" if zone is UTC else str(zone)

    def moment(self, value: datetime) -> datetime:
        return value.astimezone(self.zone)

    def abbreviation(self, value: datetime) -> str:
        local = self.moment(value)
        abbr = local.tzname() or ""
        if not abbr or abbr[0] in "+-":  # zones without a letter abbreviation: +07
            offset = local.strftime("%z")
            abbr = "UTC" if offset == "+0000" else f"UTC{offset[:3]}:{offset[3:]}"
        return abbr

    def instant(self, value: datetime, *, with_zone: bool = True) -> str:
        """``14 Jul 2017 11:00 WIB``: the minute, and the zone's abbreviation."""
        local = self.moment(value)
        text = f"{local.day} {local:%b %Y %H:%M}"
        return f"{text} {self.abbreviation(value)}" if with_zone else text

    def text(self, value: Any, *, with_zone: bool = True) -> str:
        """An ISO 8601 text from a report, for people; anything else as it is."""
        if not isinstance(value, str):
            return "" if value is None else str(value)
        if len(value) == 10:
            try:
                day = datetime.strptime(value, "%Y-%m-%d")
            except ValueError:
                return value
            return f"{day.day} {day:%b %Y}"
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
        if moment.tzinfo is None:
            return value
        return self.instant(moment, with_zone=with_zone)

    def when(self, instant: datetime, text: str | None) -> str:
        """A valid time: its day when it was given as a bare date, else the minute."""
        if text is not None and len(text) == 10:
            return self.text(text)
        return self.instant(instant)

    def described(self, at: datetime | None = None, *, once: bool = True) -> str:
        """How the report names its zone: ``Asia/Jakarta (WIB, UTC+07:00)`` at ``at``
        (offsets change with daylight saving time; each time shown names its own); a zone
        whose abbreviation is its offset names it ``once`` (layout 1 of the HTML report
        named it twice)."""
        if self.zone is UTC:
            return "UTC"
        at = at or datetime(2000, 1, 1, tzinfo=UTC)
        offset = self.moment(at).strftime("%z")
        offset = f"UTC{offset[:3]}:{offset[3:]}"
        short = self.abbreviation(at)  # (a zone with no name of its own: its offset)
        return f"{self.name} ({offset})" if short == offset and once else \
            f"{self.name} ({short}, {offset})"
