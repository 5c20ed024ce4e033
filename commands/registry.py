"""``blockledger import-registry``: snapshots of a national registry, oldest first, each
diffed against what the ledger holds for that registry (``sources.registry``) and written
through the one import path (``projections.importing``)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import click

from commands.context import Context, pass_context
from commands.importing import batch_options
from domain.errors import BadInput, LedgerError, Refused
from domain.values import When
from projections.importing import import_facts


@click.command("import-registry")
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option("--format", "fmt", type=click.Choice(["rkn", "domains"]), required=True,
              help="rkn: the Russian registry's dump.csv (zapret-info/z-i); domains: one "
              "domain a line.")
@click.option("--authority", required=True, metavar="NAME",
              help="Who keeps the registry (e.g. Roskomnadzor): the orders' authority.")
@click.option("--jurisdiction", required=True, metavar="CC",
              help="The state whose registry it is (ISO 3166-1 alpha-2).")
@click.option("--at", "at", metavar="WHEN",
              help="The time of a snapshot without an 'Updated:' line (one file).")
@click.option("--allow-shrink", is_flag=True,
              help="Accept a snapshot that lifts more than half of what the registry holds "
              "(refused by default: a truncated file would lift the registry).")
@click.option("--backfill", is_flag=True,
              help="Place a snapshot older than the last imported between the snapshots "
              "imported before and after it, as if imported in order (corrections of what "
              "the later one's import wrote, citing this one); refused otherwise.")
@batch_options
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@pass_context
def import_registry(obj: Context, files: tuple[str, ...], fmt: str, authority: str,
                    jurisdiction: str, at: str | None, allow_shrink: bool, backfill: bool,
                    batch_commit: bool, batch_size: int, as_json: bool) -> None:
    """Import snapshots of a national registry of blocked resources, oldest first.

    The first snapshot records its entries as blocked orders (one per decision number; one
    per snapshot for a plain domain list), registering a platform per registrable domain
    where none holds the target; each later one is diffed against what the ledger holds
    for the registry: new entries are new orders, entries gone are lifted (unblocked).
    Every event cites the file's name, SHA-256 and time, and happens at the snapshot's
    time. Each snapshot is one import (all or nothing); a snapshot already imported adds
    nothing; one cut short (--batch-commit) finishes when run again, and until then every
    other snapshot is refused; an older one is refused unless --backfill, which places it
    between the snapshots imported before and after it as if imported in order
    (correcting what the later one's import wrote); one that lifts more than half of the
    registry is refused unless --allow-shrink.

    \b
    Examples:
      blockledger import-registry --format rkn --authority Roskomnadzor \\
          --jurisdiction RU dump-2024-01-15.csv dump-2024-01-16.csv
      blockledger import-registry --format domains --authority "Kominfo" \\
          --jurisdiction ID --at 2024-03-01 trustpositif.txt
      blockledger import-registry --format rkn --authority Roskomnadzor \\
          --jurisdiction RU --backfill dump-2024-01-14.csv      # a day found later
    """
    from commands.read import check_jurisdiction
    from sources.registry import Registry

    jurisdiction = check_jurisdiction(jurisdiction)
    if "-" in jurisdiction:
        raise BadInput(f"--jurisdiction {jurisdiction}: a national registry is a country's "
                       "(ISO 3166-1 alpha-2)", field="jurisdiction")
    authority = authority.strip()
    if not authority:
        raise BadInput("--authority is empty", field="authority")
    when = When.parse(at, "at").instant if at is not None else None
    if when is not None and len(files) > 1:
        raise BadInput("--at gives one snapshot its time: import its file alone",
                       field="at")
    if backfill and batch_commit:  # a backfill cut short would be read as B's word
        raise BadInput("--backfill is all or nothing: its corrections and its events must "
                       "land together (leave out --batch-commit)", field="batch-commit")
    registry = Registry(jurisdiction, authority)
    done = []
    with obj.ledger(write=True) as ledger:
        for name in files:  # each snapshot said as it lands: a later one may fail
            row = _one(ledger, obj.operator, Path(name), fmt, registry, when, allow_shrink,
                       backfill, batch_commit, batch_size)
            done.append(row)
            if not as_json:
                click.echo(_human(row))
    if as_json:
        click.echo(json.dumps({"registry": registry.name, "snapshots": done}, indent=2))


#: How many times an import is diffed again when another writer recorded between its diff
#: and its write lock (then it is refused: the ledger keeps changing under it).
REDIFFS = 5


def _one(ledger: Any, operator: str, path: Path, fmt: str, registry: Any, at: Any,
         allow_shrink: bool, backfill: bool, batch_commit: bool,
         batch_size: int) -> dict[str, Any]:
    from sources.registry_taken import untaken
    from sources.snapshots import read_snapshot

    snapshot = read_snapshot(path, fmt, at)
    row: dict[str, Any] = {"file": str(path), "updated": snapshot.updated.isoformat(),
                           "sha256": snapshot.sha256, "encoding": snapshot.encoding}
    if not snapshot.entries:  # (read up to its first entry; the diff reads them all)
        raise BadInput(f"{path}: no entries (a truncated file?): it would lift the whole "
                       "registry", field="file")
    for _ in range(REDIFFS):
        if snapshot is None:  # diffed again: read again, and it must be the same bytes
            snapshot = read_snapshot(path, fmt, at)
            if snapshot.sha256 != row["sha256"]:
                raise Refused(f"refused: {path} changed while it was being imported (sha256 "
                              f"{row['sha256'][:12]}… then {snapshot.sha256[:12]}…): "
                              "nothing written; import it again once it is complete")
        done = _planned(ledger, operator, snapshot, registry, allow_shrink, backfill)
        snapshot = None  # the plan lets its entries go once diffed
        row["entries"] = done["entries"]
        if "skipped" in done:
            return {**row, "skipped": done["skipped"]}
        alone = _Alone(ledger, done["seq"], batch_size if batch_commit else None)
        # ids another event took first are derived again (attack H2), looked up a batch
        # at a time as the import draws them, under its write lock
        checked: dict[str, str] = {}  # the subject its check is written under
        facts = untaken(ledger, done["held"], operator, done["facts"], batch_size, checked)
        try:
            written = import_facts(ledger, alone.watch(facts), operator=operator,
                                   batch_size=batch_size, batch_commit=batch_commit,
                                   drawn_in_lock=True)
        except _Moved:
            continue  # nothing written: diffed again against what the other one wrote
        except LedgerError as error:
            raise type(error)(f"{path}, {error}") from None
        break
    else:
        raise Refused(f"refused: {path}: other writers recorded events between each of its "
                      f"{REDIFFS} diffs and its write: nothing written; run it again")
    plan = done["plan"]
    if "after" in done:
        row.update(backfilled_before=done["after"].isoformat(), amended=done["amended"],
                   corrective=done["corrective"])
    return {**row, "checked": checked.get("subject", plan.checked),
            "registered": len(plan.registered), "targets_added": len(plan.added),
            "orders": len(plan.orders), "lifted_orders": len(plan.lifted),
            "lifted_targets": sum(len(t) for t in plan.lifted.values()),
            "events": written.recorded, "already_present": written.skipped}


def _planned(ledger: Any, operator: str, snapshot: Any, registry: Any, allow_shrink: bool,
             backfill: bool) -> dict[str, Any]:
    """The plan of ``snapshot`` (``plan``, its events ``facts``, and ``seq``: the ledger's
    chain as it stood before the diff read it), or why nothing is to be done
    (``skipped``)."""
    from sources.holders import read_holders
    from sources.registry import Plan
    from sources.registry_backfill import previous_and_next
    from sources.registry_checks import check_order, check_shrink
    from sources.registry_held import check_again, held_in

    head = ledger.recorder.chain_head()
    done: dict[str, Any] = {"seq": head[0] if head is not None else 0}
    when = snapshot.updated
    held = held_in(ledger, registry, when)
    again = held.imported(snapshot.sha256, when)
    check_order(snapshot, held, backfill, operator)
    # an import imported, or cut short, is diffed again, never placed before itself
    after = (previous_and_next(held, when, snapshot.sha256) if backfill and not again
             and (snapshot.sha256, when) not in held.unfinished else None)
    if after is not None:  # between imported snapshots
        done["entries"] = len(snapshot.entries)  # (every line checked before it is placed)
        filled = _backfill(ledger, snapshot, registry, held, after)
        facts: Any = filled.facts()
        plan = filled.plan
        done.update(after=after, amended=len(filled.amendments), corrective=len(filled.later))
    else:
        # the plan keeps its own copy of the snapshot, and lets its entries go once diffed
        plan = Plan(snapshot, registry=registry, held=held,
                    holders=lambda wanted: read_holders(ledger, wanted))
        if again:
            skipped = check_again(plan, _maker(ledger))
            if skipped:
                return {"skipped": skipped, "entries": plan.entries}
        plan.diff()
        done["entries"] = plan.entries
        facts = plan.facts(let_go=True)
    check_shrink(plan, allow_shrink)
    return {**done, "plan": plan, "facts": facts, "held": held}


class _Moved(Exception):
    """Another writer recorded between the diff and the import's write lock."""


class _Alone:
    """Watches an import's events as the import draws them, each batch's first within
    that batch's transaction (under the write lock: ``projections.importing``): the
    ledger must hold nothing since the diff read it (``seq``) but this import's own
    events. Before the first batch, another writer's events mean the diff is stale: it is
    made again (``_Moved``, nothing written); between --batch-commit batches, the import
    is refused (cut short: run again, it finishes against what the ledger holds then)."""

    def __init__(self, ledger: Any, seq: int, batch: int | None):
        self.recorder, self.seq, self.batch = ledger.recorder, seq, batch

    def watch(self, facts: Iterable[tuple[int, Any]]) -> Iterator[tuple[int, Any]]:
        mine: set[str] = set()
        for i, item in enumerate(facts):
            if i == 0 or (self.batch and i % self.batch == 0):
                self._alone(mine, i)
                mine = set()
            if self.batch:
                mine.add(str(item[1].id))
            yield item

    def _alone(self, mine: set[str], drawn: int) -> None:
        rows = self.recorder.select_chain(self.seq, len(mine) + 1)
        others = [row for row in rows if str(row.event_id) not in mine]
        if others and not drawn:
            raise _Moved
        if others:
            raise Refused(f"refused: another writer recorded events (position "
                          f"{others[0].position} first) while this --batch-commit import "
                          f"was between batches: its first {drawn:,} events are in; run it "
                          "again to finish it against what the ledger holds now: nothing "
                          "more written")
        if rows:
            self.seq = rows[-1].seq


def _maker(ledger: Any) -> Any:
    """Who recorded an order's first event (for a refusal to name), the view read only
    when asked."""
    read: list[Any] = []

    def maker(ref: str) -> str | None:
        if not read:
            from projections.views import Views
            from sources.registry_backfill import decoded

            views = Views(ledger)
            views.catch_up()
            read.append(decoded(views))
        facts = read[0]("order", ref)
        return facts[0].recorded_by if facts else None

    return maker


def _backfill(ledger: Any, snapshot: Any, registry: Any, held: Any, after: Any) -> Any:
    """The backfill of ``snapshot`` before the snapshot imported at ``after``."""
    from projections.views import Views
    from sources.holders import read_holders
    from sources.registry_backfill import Backfill, decoded
    from sources.registry_held import held_in

    views = Views(ledger)
    views.catch_up()
    return Backfill(snapshot, registry=registry, held=held, after=after,
                    after_held=held_in(ledger, registry, after),
                    holders=read_holders(ledger), reader=decoded(views))


def _human(row: dict[str, Any]) -> str:
    head = f"{row['file']} (updated {row['updated']}, {row['entries']} entries)"
    if row.get("skipped"):
        return f"{head}: skipped, {row['skipped']}"
    if not row["orders"] and not row["lifted_targets"] and not row["registered"] \
            and "backfilled_before" not in row:
        there = f", {row['already_present']} already there" if row["already_present"] else ""
        return (f"{head}: no change; checked ({row['checked']}), "
                f"{row['events']} events written{there}")
    placed = (f"; placed before the snapshot of {row['backfilled_before']}: "
              f"{row['amended']} events of its import corrected or retracted, "
              f"{row['corrective']} corrective events then" if "backfilled_before" in row
              else "")
    return (f"{head}: {row['orders']} orders, {row['lifted_targets']} targets lifted in "
            f"{row['lifted_orders']} orders, {row['registered']} platforms registered, "
            f"{row['targets_added']} given targets{placed}; {row['events']} events written")


def register(group: click.Group) -> None:
    group.add_command(import_registry)
