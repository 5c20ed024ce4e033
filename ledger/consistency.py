"""What ``verify`` checks after the hashes and the chain: that everything else the ledger
answers from is what the log implies.

The hash chain covers each event's canonical JSON. Everything else in the database is
either derived from those bytes or a claim about them, and an attacker with a copy of the
database can edit it; so each is recomputed from the (hash-verified) log and compared:

- **Unhashed columns.** ``topic`` must be one of the ledger's own classes (never resolved
  from the database), and with ``originator_id`` and ``originator_version`` what the event's
  type and subject imply: the subject kind of its type (of its target, for an amendment,
  which must be an earlier event of the same subject), the subject's uuid5, the next
  version of that subject, version 1 exactly for a creating event.
- **Damage.** Every event is well-formed (``domain.stored.read``: its bytes exactly the
  canonical JSON the ledger writes for an event of its type), and decodes to a fact.
- **Record time.** ``recorded_at`` never goes backwards along the ledger's order.
- **Kept checkpoints** (``ledger.kept_checkpoints``). Each kept note's tree is a prefix of
  the ledger, its time bounds the record times on both sides, and the notes of the largest
  size commit to the index this pass folds from the log (``domain.concerns``), of each
  version they are of: platform leaves, and from version 2 orders' and requests'.
- **Views.** The history view holds exactly one row per event up to its tracked position,
  each as the log implies (subject kind, subject, the platform its subject was created
  for), and the moves (``domain.concerns``) exactly those the corrections make; the
  tracked positions are within the log; each kept status row equals the status the
  ledger's own fold gives from the log up to the status view's position.

Problems are collected (up to ``LISTED`` of them, in ledger order) rather than stopping at
the first, so that an auditor sees the extent of damage.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson
from attrs import frozen

from domain.amendments import CHANGING
from domain.concerns import Concerns
from domain.dependents import READ_BY_OTHERS
from domain.errors import LedgerError
from domain.subjects import AGGREGATES
from ledger import kept_checkpoints, platform_index, rules_check
from ledger.mapper import TOPICS, load_fact, stored_as_implied
from ledger.merkle import root
from ledger.views import STATUS_FORMAT, moves_named

BATCH = 2000
_MISSING = "(none)"
#: How many problems a verification lists (it stops looking past them).
LISTED = 20


@frozen
class Problem:
    """One thing that does not hold: where (a position, or None), in which part
    ("events", "record-time", "checkpoint", "views", "rules"), and what."""

    position: int | None
    part: str
    what: str

    def to_json(self) -> dict[str, Any]:
        return {"position": self.position, "part": self.part, "what": self.what}

    def line(self) -> str:
        where = f"position {self.position}: " if self.position is not None else ""
        return f"{self.part}: {where}{self.what}"


class _Full(Exception):
    """Enough problems listed."""


class LogCheck:
    """One pass over the log, checking each event and gathering what the views need."""

    def __init__(self, ledger: Any, leaves: list[bytes] | None):
        self.ledger = ledger
        self.leaves = leaves
        self.problems: list[Problem] = []
        self.blind = _blinder(ledger)
        #: originator id -> [kind, ref, last version, home platform]
        self.subjects: dict[UUID, list[Any]] = {}
        self.positions: list[int] = []          # every position, in order
        self.owners: list[UUID] = []            # the originator at each of them
        self.count = 0
        self.last_time: datetime | None = None
        self.times: dict[int, datetime] = {}    # record times at checkpoint boundaries
        self.boundaries: set[int] = set()
        self.moves: dict[tuple[str, str, str], int] = {}
        self.history: list[tuple] = []
        self.views_at = 0
        #: The index is folded (``domain.concerns``) up to ``index_size``, the largest
        #: kept checkpoint's, and there its ``(size, root)`` kept for each version those
        #: notes are of (``index_versions``).
        self.index_size = 0
        self.index_versions: set[int] = set()
        self.concerns = Concerns()
        self.held: dict[Any, list[int]] = {}
        self.index: dict[int, tuple[int, bytes]] = {}
        #: Subjects others read that were ever changed so that a fact naming them may no
        #: longer hold the rules (``ledger.rules_check``), and the subjects of the events
        #: the history view does not have yet.
        self.changed: set[tuple[str, str]] = set()
        self.unviewed: set[tuple[str, str]] = set()
        #: Subjects with an amendment: their own facts that name others are asked about
        #: too (an amendment may make one name another; before ``check_amended`` the
        #: ledger did not hold it to the rules between subjects).
        self.amended: set[tuple[str, str]] = set()

    def flag(self, position: int | None, part: str, what: str) -> None:
        self.problems.append(Problem(position, part, what))
        if len(self.problems) >= LISTED:
            raise _Full

    def note(self, position: int | None, part: str, what: str) -> None:
        """``flag``, before the pass over the log: never stops it."""
        self.problems.append(Problem(position, part, what))

    # --- the events ---------------------------------------------------------------------

    def run(self, progress: Callable[[int], None] | None = None) -> None:
        store = _views_store(self.ledger)
        self.views_at = store.position("history") if store is not None else 0
        recorder = self.ledger.recorder
        after = 0
        while batch := recorder.select_notifications(after, BATCH, inclusive_of_start=False):
            # Each event decoded (decrypted) once, for every check below.
            loaded = [self._load(n) for n in batch]
            # The chain's event ids (outside the hash; the ledger finds events by them:
            # duplicates on import, amendments' targets) must be the events' own.
            ids = {row.position: row.event_id
                   for row in recorder.select_chain(self.count, len(batch))}
            wanted = [str(item[0].data.target) for item in loaded
                      if not isinstance(item, str) and item[0].kind.subject == "any"]
            targets = recorder.positions_of(wanted) if wanted else {}
            for notification, item in zip(batch, loaded, strict=True):
                self._event(notification, item, targets, ids.get(notification.id, _MISSING))
            after = batch[-1].id
            if store is not None:
                self._compare_history(store, batch[0].id, after)
            if progress is not None:
                progress(self.count)

    def _load(self, n: Any) -> tuple[Any, dict[str, Any]] | str:
        """The fact and object of a stored event, or why it cannot be read (its topic is
        not the ledger's, or it does not decode); ``_event`` flags that in its turn."""
        if n.topic not in TOPICS:
            return (f"its topic {n.topic[:60]!r} is not one of the ledger's event classes "
                    "(altered)")
        try:
            return load_fact(self.ledger.mapper.decode_state(n.state),
                             f"the event at position {n.id}")
        except LedgerError as error:
            return str(error)

    def _event(self, n: Any, loaded: tuple[Any, dict[str, Any]] | str,
               targets: dict[str, int], chained_id: Any) -> None:
        position = n.id
        self.count += 1
        if isinstance(loaded, str):
            self.flag(position, "events", loaded)
            return
        fact, obj = loaded
        kind, _, creates = TOPICS[n.topic]
        if chained_id != obj["id"]:
            self.flag(position, "chain", f"the hash chain indexes this event under the id "
                                         f"{_shown(chained_id)}, not its own {obj['id']} "
                                         "(altered)")
            return
        originator = n.originator_id if isinstance(n.originator_id, UUID) else UUID(
            str(n.originator_id))
        if fact.kind.subject == "any":
            target = targets.get(str(fact.data.target))
            owner = self._owner_at(target) if target is not None and target < position else None
            if owner is None or owner != originator:
                self.flag(position, "events", f"its {fact.type} targets {fact.data.target}, "
                                              "which is not an earlier event of the subject "
                                              "it is stored under (altered)")
                return
        subject = self.subjects.get(originator)
        version = (subject[2] if subject else 0) + 1
        if (not stored_as_implied(fact, n.topic, originator)
                or n.originator_version != version or creates != (version == 1)):
            self.flag(position, "events", f"its unhashed columns (topic, originator_id, "
                                          f"originator_version) are not those its {fact.type} "
                                          f"of {kind} {fact.subject} implies (altered)")
            return
        if subject is None:
            home = fact.subject if kind == "platform" else (
                getattr(fact.data, "platform", None)
                or next(iter(getattr(fact.data, "platforms", None) or ()), ""))
            subject = self.subjects[originator] = [kind, fact.subject, 0, home]
        subject[2] = version
        self.positions.append(position)
        self.owners.append(originator)
        if self.count <= self.index_size:
            self.held.setdefault(self.concerns.add(obj)[0], []).append(position)
            if self.count == self.index_size:
                for version in self.index_versions:
                    leaves = platform_index.leaves_of(self.concerns, self.held, version)
                    self.index[version] = (len(leaves), root(leaves))
                self.concerns, self.held = Concerns(), {}  # done with them
        self._record_time(position, fact.recorded_at)
        amends = fact.type in CHANGING  # (a dispute changes nothing)
        if amends:
            self.amended.add((subject[0], subject[1]))
        if subject[0] in READ_BY_OTHERS and (amends or subject[0] == "ledger"
                                             or fact.type == "targets-removed"):
            self.changed.add((subject[0], subject[1]))
        if position > self.views_at:
            self.unviewed.add((subject[0], subject[1]))
        else:
            blind = self.blind
            self.history.append((position, blind(kind), blind(fact.subject),
                                 blind(subject[3]) if subject[3] else ""))
            for moved in moves_named(fact.type, obj["data"]):
                self.moves.setdefault((blind(moved), blind(kind), blind(fact.subject)),
                                      position)

    def _owner_at(self, position: int) -> UUID | None:
        at = bisect_left(self.positions, position)
        if at < len(self.positions) and self.positions[at] == position:
            return self.owners[at]
        return None

    def _record_time(self, position: int, at: datetime) -> None:
        if self.last_time is not None and at < self.last_time:
            self.flag(position, "record-time", f"recorded at {at.isoformat()}, before the "
                                               f"event before it ({self.last_time.isoformat()})"
                                               ": its record time was forged")
        self.last_time = at if self.last_time is None else max(self.last_time, at)
        if self.count in self.boundaries or self.count - 1 in self.boundaries:
            self.times[self.count] = at

    # --- the history view ---------------------------------------------------------------

    def _compare_history(self, store: Any, first: int, last: int) -> None:
        expected, self.history = self.history, []
        if first > self.views_at:
            return
        stored = [tuple(row) for row in store.history_between(first - 1,
                                                              min(last, self.views_at))]
        if stored == expected:
            return
        have = {row[0]: row for row in stored}
        want = {row[0]: row for row in expected}
        if len(have) < len(stored):  # (a table without its primary key: one row each)
            seen: set[int] = set()
            for row in stored:
                if row[0] in seen:
                    self.flag(row[0], "views", "the history view has two rows for this event "
                                               "(inserted)")
                seen.add(row[0])
        for position in sorted(have.keys() | want.keys()):
            if have.get(position) == want.get(position):
                continue
            if position not in have:
                what = "the history view has no row for this event (deleted)"
            elif position not in want:
                what = "the history view has a row for no such event (inserted)"
            else:
                what = (f"the history view's row says {_shown(have[position][1:])}, the "
                        f"event {_shown(want[position][1:])} (altered)")
            self.flag(position, "views", what)


def check(ledger: Any, leaves: list[bytes] | None,
          progress: Callable[[int], None] | None = None) -> list[Problem]:
    """Every problem found beyond the hashes and chain (which ``ledger.verify.walk`` has
    checked, giving ``leaves``: the event hashes, needed for kept checkpoints)."""
    log = LogCheck(ledger, leaves)
    notes = kept_checkpoints.kept(ledger, log)
    log.boundaries = {cp.tree_size for cp in notes.values()}
    log.index_size = max((cp.tree_size for cp in notes.values()
                          if cp.index_root is not None), default=0)
    log.index_versions = {cp.index_version for cp in notes.values()
                          if cp.tree_size == log.index_size and cp.index_version is not None}
    if log.index_size == 0:  # notes of an empty ledger: the empty index, of any version
        log.index = {version: (0, root([])) for version in log.index_versions}
    try:
        log.run(progress)
        kept_checkpoints.check(log, notes)
        _check_views(log)
        if not log.problems:  # (read through the views, which must hold)
            rules_check.check(log)
    except _Full:
        pass
    return log.problems


def _check_views(log: LogCheck) -> None:
    store = log.ledger.view_store()
    missing = store.missing_tables()
    if missing:  # none: a ledger never written since the views came, unless they were there
        if len(missing) < 3 or store.position("history") or store.position("status"):
            log.flag(None, "views", f"the views' table {', '.join(missing)} is missing, "
                                    "while the views were kept (dropped)")
        return
    head = log.positions[-1] if log.positions else 0
    at, status_at = store.position("history"), store.position("status")
    if at > head:
        log.flag(None, "views", f"the history view's tracked position {at} is past the "
                                f"ledger's last event ({head}) (altered)")
    if status_at > at:
        log.flag(None, "views", f"the status view's tracked position {status_at} is past the "
                                f"history view's ({at}) (altered)")
    extra = store.history_between(min(at, head), 2**62)
    if extra:
        log.flag(extra[0][0], "views", "the history view has a row past its tracked "
                                       "position or the ledger's last event (inserted)")
    stored_moves = {tuple(row[:3]): row[3] for row in store.moves()}
    if stored_moves != log.moves:
        for key in sorted(stored_moves.keys() | log.moves.keys()):
            if stored_moves.get(key) != log.moves.get(key):
                log.flag(log.moves.get(key) or stored_moves.get(key), "views",
                         f"the view's moves of subjects between platforms differ from the "
                         f"corrections' ({_shown(key)})")
    if log.problems:
        return  # the status view is compared only on a history view that holds
    _check_status(log, store, status_at)


def _check_status(log: LogCheck, store: Any, status_at: int) -> None:
    from projections.views import Views  # the ledger's own fold, as the views use it

    views = Views(log.ledger)
    now = datetime.now(UTC)
    platforms = [log.blind(ref) for kind, ref, version, _ in log.subjects.values()
                 if kind == "platform"]
    expected = dict(views._status_rows(platforms, now, before=status_at + 1))
    try:
        stored = dict(store.status_rows())
    except LedgerError as error:  # (a reader's refusal, less its advice to run verify)
        log.flag(None, "views", str(error).removesuffix(": run 'blockledger verify'")
                 .removesuffix("; run 'blockledger verify'"))
        return
    for key, body in list(stored.items()):
        try:
            kept = orjson.loads(views._open(body))
        except Exception:
            continue  # named below
        if isinstance(kept, dict) and kept.get("format") != STATUS_FORMAT:
            # Kept by another release: no read answers from it (they fold afresh), and the
            # next catch-up rewrites it. Not compared, not tampering.
            del stored[key]
            expected.pop(key, None)
    for key in sorted(stored.keys() | expected.keys()):
        if key not in expected:
            log.flag(None, "views", f"the status view has a row for no platform of the "
                                    f"ledger ({_shown(key)}) (inserted)")
            continue
        want = orjson.loads(views._open(expected[key]))
        if key not in stored:
            log.flag(None, "views", f"the status view has no row for platform "
                                    f"{want['status']['platform']} (deleted)")
            continue
        try:
            have = orjson.loads(views._open(stored[key]))
        except Exception:
            log.flag(None, "views", f"the status row of platform {want['status']['platform']} "
                                    "cannot be read (altered)")
            continue
        stale = have.get("stale_after") if isinstance(have, dict) else None
        if isinstance(stale, str) and stale <= now.isoformat():
            continue  # gone stale: no read answers from it (they fold afresh)
        if have != want:
            log.flag(None, "views", f"the status row of platform {want['status']['platform']} "
                                    "differs from the status the log gives (altered)")


def _views_store(ledger: Any) -> Any:
    store = ledger.view_store()
    return store if store.exists() else None


def _blinder(ledger: Any) -> Callable[[str], str]:
    from ledger.blinding import ledger_blinder

    return ledger_blinder(ledger)


def _shown(value: Any) -> str:
    return str(value)[:120]


#: The aggregates' kinds, for readers of this module's problems.
KINDS = tuple(AGGREGATES)
