"""``verify``'s last part: the facts that name other subjects hold the rules between
subjects, as the ledger stands.

Every fact was checked against what it names when it was written (``check_references``),
and since 2026-12-07 every write that changes what others read is checked against the facts
that name it (``domain.dependents``). A ledger can still hold a fact against those rules,
every byte as its writer recorded it: a ledger written before that check; two writers at
once before ``ledger.write_guard``; a write checked while the history view had been
damaged by hand (its rows find what names a subject), the view rebuilt since. The hash chain
proves each of those facts was recorded so; it does not prove that the ledger's answers come
from a state its rules allow. So ``verify`` asks it of the ledger as it stands:

- the subjects to ask about are those the pass over the log saw changed in a way others
  read: an order, a platform or the ledger's settings with an amendment, a platform with a
  ``targets-removed``, the ledger's settings set (a fact naming a subject never changed so
  was checked against what it names as it still is);
- the facts that may name them are found as the write check finds them
  (``ledger.dependents.Naming``: through the history view, which ``verify`` has just held
  to the log, and the subjects of the events past the view's position), and each that names
  one is checked as it counts now, every way of breaking the rules counted;
- and every subject with an amendment has its own facts that name others checked so (a
  fine or a request corrected to name another platform's order: a ledger written before
  amendments were held to the rules between subjects).

Left: a fact that names a subject never changed since and breaks a rule added after it was
written (a fine dated before its order, refused since 2026-12-06; an observation of an
order held to another state) is not asked about: that needs every fact that names another
checked, which on a large ledger costs about a replay (a review, 2026-12-07).

Each such fact is a problem of part ``rules``: not an alteration (the words say so), but an
answer the ledger gives from a state its rules forbid, which the auditor must see.
"""

from __future__ import annotations

from typing import Any

from ledger.dependents import Naming

#: Subjects the check holds read at once (the most recently asked for).
SUBJECTS_HELD = 2048


def check(log: Any) -> None:
    """Flag (``log.flag``, part ``rules``) each fact of the ledger that stands against the
    rules between subjects (``domain.dependents.stranded``; and the amended subjects' own
    facts that name others), at its position."""
    if not log.changed and not log.amended:
        return
    from functools import lru_cache

    from domain.dependents import stranded

    ledger = log.ledger
    unviewed: dict[str, list[str]] = {}
    for kind, ref in log.unviewed:
        unviewed.setdefault(kind, []).append(ref)
    naming = Naming(ledger, lambda kind: unviewed.get(kind, ()))
    # (an order as the rules read it, from its events already read where they are)
    find = lru_cache(maxsize=SUBJECTS_HELD)(
        lambda kind, ref: naming.order(ref) if kind == "order" else ledger.subject(kind, ref))
    found = stranded(dict.fromkeys(sorted(log.changed), ()), after=find,
                     candidates=naming.candidates, facts_of=naming.facts_of,
                     own=naming.expect(log.amended))
    for key, fact, _, error in found:
        _flag(log, key, fact, error)


def _flag(log: Any, key: tuple[str, str], fact: Any, error: Any) -> None:
    position = log.ledger.recorder.positions_of([str(fact.id)]).get(str(fact.id))
    log.flag(position, "rules",
             f"{fact.type} of {fact.occurred_at} ({fact.id}) of {key[0]} {key[1]} breaks "
             f"the rules between subjects: {error.reason}; recorded so, not altered: "
             "correct or retract it")
