"""A backfill's moves of platforms (``sources.registry_backfill``): a platform that a later
import of the registry registered, or gave targets, where the backfilled snapshot S needs
it at its own time. Its registration (or ``targets-added``) is corrected to S's time with
the targets S lists, and the rest given at the later time by a corrective
``targets-added``; a later ``targets-added`` of what S gives first is narrowed. What is not
the registry's import's own is refused, naming it, with nothing written."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.errors import Refused
from domain.fact import Fact
from domain.identifiers import displayed
from sources.holders import Holders
from sources.registry import Plan, Registry, new_platform
from sources.snapshots import Snapshot


class PlatformMoves:
    """The moves of ``Backfill`` that touch platforms; the rest of its state and its
    readers and makers of events (``read``, ``_theirs``, ``_listed``, ``_amend``,
    ``_narrow``, ``_make``) are ``Backfill``'s."""

    snapshot: Snapshot
    registry: Registry
    holders: Holders
    plan: Plan | None
    t: datetime
    t_b: datetime
    split: list[tuple[int, Fact]]

    def _move_registrations(self, new: set, listed: dict) -> None:
        """A platform S would register for an entry that no platform holds at its time,
        and that a later import of the registry registered: its registration corrected to
        S's time, rather than refused as taken."""
        for key in sorted(new):
            home = listed[key].home
            found = self.holders.find(home, self.t)
            if found is not None and not isinstance(found, str) and not found.later:
                continue
            name = new_platform(home)
            created = self.holders.platforms.get(name)
            if created is not None and created > self.t:
                self._move_platform(name, created, f"{displayed(home)}, which it lists",
                                    [home])

    def _move_platform(self, name: str, created: datetime, needed: str,
                       need: list[str]) -> None:
        """Platform ``name``, registered by a later import at ``created``, is needed at
        S's time (by ``needed``, for targets ``need``): its registration corrected to S's
        time, with the targets S lists (else ``need``); the rest given it at ``created``
        as the later import would have, the platform existing (``_give``)."""
        registration = self.read("platform", name)[0]
        if self._theirs(registration) is None:
            raise Refused(f"refused: platform {name} is registered from {created.isoformat()}"
                          f", not by this registry's import, and {needed} needs it at "
                          f"{self.t.isoformat()}: a backfill cannot place it: nothing written")
        self._give(registration, need, f"listed already in the snapshot of "
                                       f"{self.t.isoformat()}, imported later")
        self.holders.moved(name, created, self.t)

    def _give(self, giving: Fact, need: list[str], why: str) -> None:
        """``giving`` (a registration or a ``targets-added`` of a later import) corrected
        to S's time and to the targets S lists of it (else ``need``); what it gave beside
        them given at its own time, by a corrective ``targets-added``."""
        listed = self._listed()
        targets = list(giving.data.targets)
        keep = [t for t in targets if t in listed] or list(need)
        rest = [t for t in targets if t not in keep]
        self._narrow_given(giving.subject, set(keep), giving.id)
        changes: dict[str, Any] = {"occurred_at": self.t.isoformat()}
        if keep != targets:
            changes["targets"] = keep
        self._amend("correction", giving, changes, why)
        extra = [t for t in keep if t not in targets]
        if extra:  # the holders read before: the platform holds them from S's time now
            self.holders.add_platform(giving.subject, [self._make(
                "targets-added", giving.subject, self.t.isoformat(), {"targets": extra})])
        if rest:
            self.split.append((1, self._make("targets-added", giving.subject,
                                             giving.occurred_at.text, {
                "targets": rest, "summary": f"listed in the {self.registry.authority} "
                                            "registry"},
                f"{giving.subject}|{giving.occurred_at.text}")))

    def _move_added(self, target: str, order: Fact) -> None:
        """The ``targets-added`` by which B's import gave ``target`` (of B's ``order``) to
        a platform, corrected to S's time (``_give``): only one of B's own."""
        for name in order.data.platforms or (order.data.platform,):
            added = next((f for f in self.read("platform", name)
                          if f.type == "targets-added" and target in f.data.targets), None)
            if added is None:
                continue
            if self._theirs(added) is None or added.occurred_at.instant <= self.t:
                break
            given = added.occurred_at.instant
            self._give(added, [target], f"listed already in the snapshot of "
                                        f"{self.t.isoformat()}, imported later")
            self.holders.moved(name, given, self.t, registration=False)
            return
        raise Refused(f"refused: {target} of order {order.subject} is held by its platform "
                      f"only from {self.t_b.isoformat()}, not by this registry's import of "
                      f"targets {self.snapshot.name} lists: a backfill cannot place it: "
                      "nothing written")

    def _narrow_later_added(self) -> None:
        """Targets S gives a platform at its time that a later import gave it at its own:
        that later ``targets-added`` without them (corrected, or retracted), as an import
        in order would not have given what the platform held already."""
        assert self.plan is not None
        for name, (_, targets) in self.plan.added.items():
            self._narrow_given(name, set(targets))

    def _narrow_given(self, name: str, given: set[str], besides: Any = None) -> None:
        """The later ``targets-added`` of platform ``name`` (but ``besides``) that give it
        any of ``given``, which it holds from S's time now: without them."""
        for added in self.read("platform", name):
            if (added.type != "targets-added" or added.occurred_at.instant <= self.t
                    or added.id == besides or not given & set(added.data.targets)):
                continue
            if self._theirs(added) is None:
                raise Refused(f"refused: {', '.join(sorted(given)[:3])} of platform "
                              f"{name}, which {self.snapshot.name} gives it, was given it "
                              f"at {added.occurred_at} by an event not of this registry's "
                              "import: a backfill cannot place it: nothing written")
            self._narrow(added, given, f"the snapshot of {self.t.isoformat()}, imported "
                         "later, gave the platform these targets first")
