"""Penalties: what a fine has come to by a valid time.

A fine is imposed once, or per day, week or month; a periodic fine accrues one amount per
whole period elapsed from its imposition until it is paid, lifted, or the time asked about,
whichever comes first, and never beyond its cap. Amounts are ``decimal.Decimal`` from their
decimal strings: never a float.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal, localcontext

from attrs import define

from domain.fact import Fact

#: Digits kept in sums: an amount has at most 28 (20 and 8 decimals), a count of periods
#: at most 7 (days from year 1 to 9999), so no product is ever rounded.
PRECISION = 60


@define
class Penalty:
    """One ``penalty-imposed`` and what became of it (a payment, a lift)."""

    imposed: Fact
    paid: Fact | None = None
    lifted: Fact | None = None

    @property
    def state(self) -> str:
        """running, paid or lifted."""
        if self.lifted is not None:
            return "lifted"
        return "paid" if self.paid is not None else "running"

    def accrued(self, at: datetime) -> Decimal:
        """What it has come to by valid time ``at`` (it stops at payment or lift)."""
        ends = [at, *(f.occurred_at.instant for f in (self.paid, self.lifted) if f)]
        data = self.imposed.data
        total = accrued(Decimal(data.amount), data.per, self.imposed.occurred_at.instant,
                        min(ends))
        return total if data.cap is None else min(total, Decimal(data.cap))

    def next_change(self, at: datetime) -> datetime | None:
        """When what it has come to next changes after ``at``: the end of the current
        period of a running periodic fine that has not reached its cap; None otherwise
        (a kept status holds until then)."""
        data = self.imposed.data
        if self.state != "running" or data.per == "once":
            return None
        if data.cap is not None and self.accrued(at) >= Decimal(data.cap):
            return None
        start = self.imposed.occurred_at.instant
        done = periods(data.per, start, at)
        if data.per == "month":
            return _month_added(start, done + 1)
        return start + (done + 1) * (timedelta(days=1) if data.per == "day"
                                     else timedelta(weeks=1))

    def to_json(self, at: datetime) -> dict[str, object]:
        """The penalty as ``status`` shows it (amounts as decimal strings)."""
        data = self.imposed.data
        return {"id": str(self.imposed.id), "authority": data.authority,
                "amount": data.amount, "currency": data.currency, "per": data.per,
                "cap": data.cap, "order": data.order, "state": self.state,
                "accrued": str(self.accrued(at))}


def accrued(amount: Decimal, per: str, start: datetime, end: datetime) -> Decimal:
    """``amount`` once, or once per whole ``per`` from ``start`` to ``end``."""
    if per == "once":
        return amount
    with localcontext(prec=PRECISION):  # exact: 20 digits times a count of periods
        return amount * periods(per, start, end)


def periods(per: str, start: datetime, end: datetime) -> int:
    """Whole days, weeks or calendar months from ``start`` to ``end`` (none before it).

    A month runs from one day of the month to the same day of the next (from 31 January,
    to the end of February: the day is held at the month's last where it has fewer)."""
    if end <= start:
        return 0
    if per == "day":
        return (end - start) // timedelta(days=1)
    if per == "week":
        return (end - start) // timedelta(weeks=1)
    if per == "month":
        months = (end.year - start.year) * 12 + end.month - start.month
        if _month_added(start, months) > end:
            months -= 1
        return max(months, 0)
    raise ValueError(f"unknown period {per!r}")


def _month_added(moment: datetime, months: int) -> datetime:
    """``moment`` plus ``months`` calendar months, the day held at the month's last."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    import calendar  # (imported where used: most folds meet no monthly fine)

    last = calendar.monthrange(year, month)[1]
    return moment.replace(year=year, month=month, day=min(moment.day, last))
