"""Idempotent recording: an event id already in the ledger is skipped only when it is the
same event.

Re-importing an export, or recording again with the same ``--id``, adds nothing: the line
is the event the ledger holds (the export's fields minus those the ledger sets:
``recorded_at``, ``recorded_by``, ``position``, ``hash``). A line with that id and other
content is not the same event, and skipping it would silently drop what the operator
meant to record; it is refused instead, naming the id, its position and the first field
that differs. Both ways in use this: ``Ledger.record`` (``record``) and ``ledger.bulk``
(``import``).

What the ledger holds is read from the stored bytes of those events, by their positions,
a range of positions per query, and compared as canonical JSON.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from domain.errors import Refused
from domain.fact import LEDGER_FIELDS, Fact
from domain.values import shown
from ledger.canonical import canonical


class ChangedEvent(Refused):
    """An event id the ledger holds, given again with other content."""


def changed(ledger: Any, facts: Sequence[Fact], known: dict[str, int], *,
            repeats: bool = True) -> dict[int, Refused]:
    """The refusals of ``facts`` (by index) whose id is in the ledger (``known``: id ->
    position, as ``recorder.positions_of`` gives), or with ``repeats`` earlier in
    ``facts``, with other content than the event held (or the earlier one); ``{}`` when
    every repeat is the same event."""
    refusals: dict[int, Refused] = {}
    held = [(i, f, known[str(f.id)]) for i, f in enumerate(facts) if str(f.id) in known]
    if held:
        stored = {position: orjson.loads(state) for position, state
                  in ledger.states_at([position for _, _, position in held]).items()}
        for index, fact, position in held:
            why = difference(stored[position], fact.to_json())
            if why is not None:
                refusals[index] = ChangedEvent(
                    f"refused: event {fact.id} is in the ledger already, at position "
                    f"{position}, with other content: {why}; an event is never changed "
                    "(record a correction of it instead)")
    if repeats and len({f.id for f in facts}) < len(facts):  # an id twice in the batch
        first: dict[Any, Fact] = {}
        for index, fact in enumerate(facts):
            if fact.id not in first:
                first[fact.id] = fact
            elif index not in refusals and str(fact.id) not in known:
                refusal = repeated(first[fact.id], fact)
                if refusal is not None:
                    refusals[index] = refusal
    return refusals


def repeated(first: Fact, again: Fact) -> Refused | None:
    """The refusal of ``again``, an id given a second time in one batch, unless it is the
    same event as the first time."""
    why = difference(first.to_json(), again.to_json())
    if why is None:
        return None
    return ChangedEvent(f"refused: event {again.id} is given twice, with other content "
                        f"than the first time: {why}")


def refuse_changed(ledger: Any, facts: Sequence[Fact], known: dict[str, int]) -> None:
    """Raise the first refusal of ``changed`` (with its ``index`` in ``facts``), if any."""
    refusals = changed(ledger, facts, known)
    if refusals:
        index = min(refusals)
        error = refusals[index]
        error.index = index  # type: ignore[attr-defined]
        raise error


def difference(held: dict[str, Any], given: dict[str, Any]) -> str | None:
    """``None`` when ``given`` is the event ``held`` (both as exported, the fields the
    ledger sets left out), else the first field that differs, in words."""
    held = {k: v for k, v in held.items() if k not in LEDGER_FIELDS}
    given = {k: v for k, v in given.items() if k not in LEDGER_FIELDS}
    if canonical(held) == canonical(given):
        return None
    path, there, here = _first_difference(held, given, "")
    return f"{path} is {_show(there)} there, {_show(here)} here"


_MISSING = object()


def _first_difference(a: Any, b: Any, path: str) -> tuple[str, Any, Any]:
    if isinstance(a, dict) and isinstance(b, dict):
        order = ["id", "type", "subject", "occurred_at", "sources", "note", "data"]
        keys = [k for k in order if k in a or k in b]
        keys += sorted((a.keys() | b.keys()) - set(order))
        for key in keys:
            x, y = a.get(key, _MISSING), b.get(key, _MISSING)
            if canonical({"v": x} if x is not _MISSING else {}) != canonical(
                    {"v": y} if y is not _MISSING else {}):
                return _first_difference(x, y, f"{path}.{key}" if path else key)
    elif (isinstance(a, list) and isinstance(b, list) and len(a) == len(b)):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if canonical({"v": x}) != canonical({"v": y}):
                return _first_difference(x, y, f"{path}[{i}]")
    return path, a, b


def _show(value: Any) -> str:
    return "absent" if value is _MISSING else shown(value)
