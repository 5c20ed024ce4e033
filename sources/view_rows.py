"""The history view's rows an import reads (who holds a target, what a registry's orders
hold), checked against the events they index: the view is an index anyone with the
database can edit (its rows name no hash), so a view that disagrees refuses the import
(``IntegrityFailure``) rather than steer what it writes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from domain.declaration import REGISTRY
from domain.errors import IntegrityFailure


def caught_up(ledger: Any) -> tuple[Any, int]:
    """The ledger's views (``projections.views.Views``), caught up, and the position of the
    log's last event, which the history view must stand at."""
    from projections.views import Views

    views = Views(ledger)
    views.catch_up()
    head = ledger.recorder.chain_head()
    last = head[1] if head is not None else 0
    # past it: another writer's events since, caught up (the rows read stop at ``last``)
    if (at := views.store.position("history")) < last:
        raise IntegrityFailure(damaged(f"it stands at position {at}, the log at {last}"))
    return views, last


class Checked:
    """The history view's rows of one kind of subject, as read, checked against the events
    they index: each row's event is of that kind (its type's, or for an amendment its
    target's, an event read before of the same subject), and the rows number the events
    stored under that kind's classes (none left out, or moved to another kind)."""

    def __init__(self, views: Any, kind: str, until: int):
        from sources.holders import kind_objects

        self.views, self.kind, self.until = views, kind, until
        # bounded at ``until``, as the count below: rows written since are not read
        self.rows = kind_objects(views, kind, until=until)
        self.subjects: dict[str, int] = {}  # subject -> its rows read

    def __iter__(self) -> Iterator[tuple[int, dict[str, Any]]]:
        seen: dict[str, str] = {}  # event id -> its subject
        fits = {name for name, declared in REGISTRY.items()
                if self.kind in declared.subjects}  # checked by their type alone
        amending = {name for name, declared in REGISTRY.items() if declared.subject == "any"}
        for position, obj in self.rows:
            if obj["type"] not in fits:
                self.row(self.kind, position, obj)
            subject = obj["subject"]
            if obj["type"] in amending and seen.get(
                    obj["data"]["target"]) != subject:
                raise IntegrityFailure(damaged(
                    f"the row of position {position} (a {obj['type']}) is indexed under the "
                    f"{self.kind} {subject}, whose events do not hold its target"))
            seen[obj["id"]] = subject
            self.subjects[subject] = self.subjects.get(subject, 0) + 1
            yield position, obj
        from ledger.mapper import TOPICS

        topics = sorted(t for t, (kind, _, _) in TOPICS.items() if kind == self.kind)
        stored = self.views.store.count_events(topics, self.until)
        read = sum(self.subjects.values())
        if stored != read:
            raise IntegrityFailure(damaged(f"it indexes {read:,} events of {self.kind}s, the "
                                            f"log holds {stored:,}"))

    @staticmethod
    def row(kind: str, position: int, obj: dict[str, Any]) -> dict[str, Any]:
        """``obj``, the event of a row indexed under ``kind``, if its type may be of it."""
        declared = REGISTRY[obj["type"]]
        if declared.subject != "any" and kind not in declared.subjects:
            raise IntegrityFailure(damaged(
                f"the row of position {position} is indexed as a {kind}'s, its event is a "
                f"{obj['type']} (a {declared.subject}'s)"))
        return obj


def damaged(what: str) -> str:
    return (f"refused: the history view does not index the log ({what}): an import will "
            "not read it; run 'blockledger projections rebuild history', then import "
            "again: nothing written")
