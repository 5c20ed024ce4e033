"""A registry's checks among the ledger's snapshots (``registry-checked``), read for
``sources.registry_held``: which date the snapshots it imported and prove their events.

A check is the registry's where it has the id and subject its import gives the snapshot
(``Registry.is_check_subject``), read from the check as recorded: a correction may change
its note (``CORRECTABLE_ENVELOPE``), whose ``id again N`` says how often its id and subject
were derived again, and what was derived from the event as recorded stays so. A retracted
check counts for nothing (the remedy for a forged one).

Anyone can compute a check derived again (``<subject>-again-N``, its note ``id again N``),
so one counts only where deriving again was needed: where the snapshot's plain subject, or
the plain id, is held by an event that is not the registry's own check of it (hand-made,
or retracted). A second operator's check of a snapshot imported already, derived again
beside the honest one, would otherwise prove her own events of that snapshot (a forged
order citing it, which the next import lifts as the registry's: the review of issue 15's
attack H2). And two unretracted checks at one instant are noted (``Held.doubled``),
whether or not they count: of one snapshot by two recorders (only one can be its import's),
or of two snapshots, whatever their digests and recorders (two files cannot both be the
registry then: a check recorded by hand of a made-up digest at an imported snapshot's time
would otherwise prove its recorder's orders citing it, the second review's HIGH 1).
``check_doubled`` refuses every import of the registry while both stand, naming them.

Before a snapshot is diffed, ``check_order`` says whether it may be (in order, not cut short
by another import, not doubled); once diffed, ``check_shrink`` refuses one that lifts most
of the registry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from domain.amendments import AMENDMENTS, effective_stored
from domain.errors import BadInput, Refused
from domain.values import stored_when
from sources.registry_ids import again_of

if TYPE_CHECKING:
    from sources.registry import Plan
    from sources.registry_held import Held
    from sources.snapshots import Snapshot

CHECK = "registry-checked"


def read_checks(held: Any, checks: Iterable[tuple[int, dict[str, Any]]],
                elsewhere: Callable[[str], bool] | None = None) -> None:
    """Note in ``held`` (a ``Held``) the registry's checks among ``checks`` (the stored
    objects of the ledger's snapshots, ``(position, object)``). ``elsewhere(id)``: whether
    an event of another kind holds that id (None: no event does)."""
    registry = held.registry
    objs = list(checks)
    positions = {obj["id"]: position for position, obj in objs}
    recorded = {obj["id"]: obj for _, obj in objs}  # each event as recorded
    current = effective_stored([obj for _, obj in objs]).current
    holders: dict[str, list[str]] = {}  # subject -> the events made under it
    for _, obj in objs:
        if obj["type"] not in AMENDMENTS:
            holders.setdefault(obj["subject"], []).append(obj["id"])
    seen: dict[datetime, dict[tuple[str, str | None], str | None]] = {}
    for event in current:  # unretracted, in recording order
        obj = recorded[event]  # as recorded: a correction decides no id nor subject
        digest = registry.wrote_stored(obj) if obj["type"] == CHECK else None
        if digest is None:
            continue
        # its time as written (the snapshot's own offset), as the import names its subject
        written = datetime.fromisoformat(obj["occurred_at"])
        if not registry.is_check_subject(obj, digest, written):  # (derived again: H2)
            continue
        when = stored_when(obj["occurred_at"]).instant
        seen.setdefault(when, {}).setdefault((digest, obj.get("recorded_by")),
                                             obj.get("recorded_at"))
        if again_of(obj.get("note")) and not _needed(
                registry, digest, written, recorded, current, holders, elsewhere):
            continue
        held._checked(digest, when, obj)
        held.last_check = max(held.last_check, positions[event])
    held.doubled = {key: by for key, by in seen.items() if len(by) > 1}


def _needed(registry: Any, digest: str, written: datetime, recorded: dict[str, Any],
            current: dict[str, Any], holders: dict[str, list[str]],
            elsewhere: Callable[[str], bool] | None) -> bool:
    """Whether the check of the snapshot of ``digest`` at ``written`` had to be derived
    again: its plain subject or id is held by an event that is not the registry's own
    unretracted check of it."""
    plain = registry.check_subject(digest, written)
    own = registry.id_text(digest, CHECK, plain)
    if any(event != own for event in holders.get(plain, ())):
        return True  # its subject taken by another event (a kind's subjects are its own)
    mine = recorded.get(own)
    if mine is None:  # its id free among the snapshots: held by another kind's event?
        return bool(elsewhere is not None and elsewhere(own))
    return own not in current or (mine["type"], mine["subject"]) != (CHECK, plain)


def check_doubled(held: Any) -> None:
    """Refuse (nothing written) while two unretracted checks of the registry at one instant
    stand (``Held.doubled``): of one snapshot by two recorders, only one can be its
    import's; of two snapshots, only one file can be the registry then. Either way the
    other's would prove its recorder's own events of its snapshot. Names both (who, when,
    and each digest where they differ)."""
    for when, by in sorted(held.doubled.items()):
        checks = sorted(by.items(), key=lambda item: str(item[1]))
        digests = {digest for digest, _ in by}
        said = " and ".join(
            (f"sha256 {digest[:12]}… " if len(digests) > 1 else "")
            + f"by {who or 'unknown'} at {at or 'an unknown time'}"
            for (digest, who), at in checks)
        if len(digests) == 1:
            raise Refused(f"refused: the snapshot of {when.isoformat()} (sha256 "
                          f"{next(iter(digests))[:12]}…) has checks recorded by two "
                          f"operators, {said}: only one can be its import's; retract the "
                          "one no import made (a check's id can be computed by anyone): "
                          "nothing written")
        raise Refused(f"refused: two snapshots of this registry are checked for "
                      f"{when.isoformat()}, {said}: two files cannot both be the registry "
                      "then; retract the check no import made (a check's id can be "
                      "computed by anyone): nothing written")


def check_order(snapshot: Snapshot, held: Held, backfill: bool = False,
                operator: str | None = None) -> str | None:
    """Why ``snapshot`` is not imported yet (None: it is to be diffed). Refused
    (``Refused``) while an import of the registry is unfinished (its events are in, no
    check of its recorder's follows them: cut short), unless this is that snapshot, run
    again by its recorder ``operator`` to finish it, with no snapshot checked after it.
    Imported already (a check of its digest AND its time is recorded): diffed again,
    which must find nothing (``sources.registry_held.check_again``). Refused
    (``BadInput``): another snapshot recorded for its very time (two files cannot both be
    the registry then), and one older than the latest unless ``backfill``
    (``sources.registry_backfill`` places it between the two); the refusal names the
    later check, who recorded it and when; first, two checks at one instant (of one snapshot
    by two recorders, or of two snapshots)
    (``check_doubled``)."""
    check_doubled(held)
    when, digest = snapshot.updated, snapshot.sha256
    for (cut, at), found in sorted(held.unfinished.items(), key=lambda item: item[0][1]):
        said = found.said(cut, at)
        if (cut, at) != (digest, when):
            raise Refused(f"refused: {said} was cut short (no registry-checked of its "
                          f"recorder's follows its events): run it again to finish it "
                          f"before {snapshot.name}, or retract its events if nobody's "
                          "import made them: nothing written")
        if found.recorders != {operator}:
            raise Refused(f"refused: {said} was cut short: finish it as the operator who "
                          "began it (its events are the registry's only once a check of "
                          "that recorder's follows them): nothing written")
        later = [t for (_, t) in held.checks if t > when]
        if later:
            raise Refused(f"refused: {said} was cut short, and {held.check_of(max(later))} "
                          "was recorded after it: it cannot be finished as if in order; "
                          "retract its events, then import it with --backfill: nothing "
                          "written")
    if held.imported(digest, when):
        return None
    if held.at.get(when, set()) - {digest}:
        raise BadInput(f"{snapshot.name}: updated {when.isoformat()}, the time of another "
                       f"snapshot of this registry already recorded, "
                       f"{held.check_of(when)}: two files cannot both be the registry then: "
                       "nothing written", field="file")
    if held.latest is not None and when < held.latest and not backfill:
        raise BadInput(f"{snapshot.name}: updated {when.isoformat()}, before the last "
                       f"snapshot imported for this registry, {held.check_of(held.latest)}: "
                       "import snapshots oldest first, or give --backfill to place it "
                       "between the snapshots imported", field="file")
    return None


def check_shrink(plan: Plan, allow: bool) -> None:
    """Refuse a snapshot that lifts more than half of what the registry holds (of ten
    entries or more) unless ``allow``: a truncated download would otherwise lift the
    registry."""
    lifted = sum(len(t) for t in plan.lifted.values())
    held = len(plan.held.keys)
    if not allow and held >= 10 and lifted * 2 > held:
        raise BadInput(f"{plan.snapshot.name}: lifts {lifted:,} of the {held:,} entries the "
                       "registry holds (a truncated file?); give --allow-shrink if the "
                       "registry really shrank so", field="file")
