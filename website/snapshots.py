"""A platform's status at every moment it can change, from the ledger's own fold.

The status of a platform is a function of valid time that changes only at the instants of
its facts (and of those of its orders and requests) and where a fact says a later effect
begins (a temporary lift's ``until``, a ruling's ``effective_at``). Between two such
instants it is constant, so the page's date slider needs only the status at each of them,
folded by ``projections.status.platform_status``: the browser picks the last snapshot at or
before the end of the chosen day and applies no rule of its own.

The slider asks for whole days, and the status at the end of a day is the status at the
last change point of that day; so only that one is asked for (``daily``). The instants are
asked in order of a ``projections.sweep.Sweep`` of the book, which keeps each subject's fold as
it goes: each fact is applied once for the whole platform, not once per change point
(3,000 observations of one platform on 3,000 days were 3,000 folds from the start).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from domain.values import When
from projections.book import Book
from projections.history import lines
from projections.status import platform_status
from projections.sweep import Sweep

#: Data fields that name a later instant at which a fact takes (or ends) its effect.
_LATER = ("until", "effective_at")


def change_points(book: Book, platform: str) -> list[datetime]:
    """Every instant at which ``platform``'s status may change, in order."""
    return _instants(book, platform)[0]


def _instants(book: Book, platform: str) -> tuple[list[datetime], set[datetime]]:
    """``change_points``, and the instants of the observations among them (the status
    asks for the orders as they stood at each)."""
    instants: set[datetime] = set()
    observed: set[datetime] = set()
    for line in lines(book, platform):
        fact = line.current
        instants.add(fact.occurred_at.instant)
        if fact.type == "access-observed":
            observed.add(fact.occurred_at.instant)
        for name in _LATER:
            later = getattr(fact.data, name, None)
            if isinstance(later, When):
                instants.add(later.instant)
    return sorted(instants), observed


def daily(instants: list[datetime], now: datetime) -> list[datetime]:
    """The last of ``instants`` in each UTC day, in order; where a day has instants before
    and after ``now`` (a temporary lift ending later today), the last of each side, so
    that the status now is among them."""
    last: dict[tuple[Any, bool], datetime] = {}
    for instant in instants:
        key = (instant.astimezone(UTC).date(), instant > now)
        if key not in last or instant > last[key]:
            last[key] = instant
    return sorted(last.values())


def _at(instant: datetime) -> When:
    text = instant.astimezone(UTC).isoformat()
    return When(text=text, instant=instant, day=False)


def _shown(status: dict[str, Any]) -> dict[str, Any]:
    """What the slider shows of a status object (the moment itself left out, so that equal
    neighbours compare equal)."""
    shown = {k: status[k] for k in ("state", "blocked_targets", "orders", "normalizations",
                                    "observed", "divergent")}
    if "divergence" in status:  # how each divergent target diverges, where status says
        shown["divergence"] = status["divergence"]
    if "penalties" in status:
        # Without what they accrued: that grows period by period between change points,
        # and the browser applies no rule of its own to reckon it.
        shown["penalties"] = [{k: v for k, v in penalty.items() if k != "accrued"}
                              for penalty in status["penalties"]]
    return shown


def _per_jurisdiction(book: Book, platform: str, at: When, status: dict[str, Any],
                      codes: tuple[str, ...]) -> dict[str, Any]:
    """The answer in each of ``codes`` at ``at``, as the status folds it: from its
    ``jurisdictions`` where it has the code then, else asked for that jurisdiction (a
    country whose first order comes later, a subdivision); None where it is the whole
    answer itself (every order and observation counts there), which the browser shows."""
    whole = _shown(status)
    out: dict[str, Any] = {}
    for code in codes:
        answer = status["jurisdictions"].get(code)
        if answer is None:
            answer = platform_status(book, platform, as_of=at, jurisdiction=code)
        shown = _shown(answer)
        out[code] = None if shown == whole else shown
    return out


def snapshots(book: Book, platform: str, now: datetime,
              jurisdictions: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """The platform's status from the last change point of each day on: ``[{"at", "ms",
    "status"}]``, a snapshot kept only where the status differs from the one before. ``ms``
    is the instant in milliseconds since the epoch, for the browser's comparisons. Each
    status carries ``jurisdictions``: the answer in each of ``jurisdictions`` then
    (``_per_jurisdiction``), so that the slider answers for one of them too.

    A snapshot is kept where anything of it changed, in any jurisdiction; so each also
    says when the answer it shows last changed: ``changed`` for the whole, ``changed_in``
    for each jurisdiction (the slider's "as of the change at" in the one chosen, not the
    last change anywhere)."""
    out: list[dict[str, Any]] = []
    last: dict[str | None, tuple[Any, str]] = {}  # answer shown, and since when
    instants, observed = _instants(book, platform)
    sweep = Sweep(book, stops=observed)
    for instant in daily(instants, now):  # in order: the sweep never goes back
        if sweep.state("platform", platform, instant) is None:
            continue  # before its registration (an amended one, say)
        status = platform_status(sweep, platform, as_of=_at(instant))
        shown = {**_shown(status), "jurisdictions": _per_jurisdiction(
            sweep, platform, _at(instant), status, jurisdictions)}
        if out and out[-1]["status"] == shown:
            continue
        at = instant.astimezone(UTC).isoformat()
        answers = {None: _shown(status), **{code: shown["jurisdictions"][code] or _shown(status)
                                            for code in jurisdictions}}
        for code, answer in answers.items():
            if code not in last or last[code][0] != answer:
                last[code] = (answer, at)
        out.append({"at": at, "ms": int(instant.timestamp() * 1000), "status": shown,
                    "changed": last[None][1],
                    "changed_in": {code: last[code][1] for code in jurisdictions}})
    return out
