"""init (create the store) and demo (the bundled case, shown)."""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import click

from commands.context import Context, pass_context
from domain.amendments import is_amendment
from ledger.application import Outcome
from ledger.interchange import read_facts


@click.command()
@pass_context
def init(obj: Context) -> None:
    """Create the store (idempotent); compute the hash chain of an older ledger once."""
    with obj.ledger(write=True) as ledger:
        upgraded = ledger.upgrade()
    if upgraded:
        click.echo(f"computed the hash chain of {upgraded} existing events")
    click.echo(f"ledger ready at {obj.target}")


@click.command()
@click.option("--case", "case_name", default="telegram-indonesia-2017", show_default=True,
              type=click.Choice(["telegram-indonesia-2017", "turkey-wikipedia-2017"]),
              help="The bundled case to load (examples/CASE.jsonl).")
@pass_context
def demo(obj: Context, case_name: str) -> None:
    """Load a bundled case (the 2017 Telegram case by default) into a fresh ledger and show
    it: its status on key dates, and its history.

    \b
    Examples:
      blockledger demo
      blockledger demo --case turkey-wikipedia-2017
      blockledger --db case.db demo                 # keep the ledger to explore it
    """
    from projections.demo import CASES, run_demo
    from projections.terminal import Screen, zone

    case = CASES[case_name]
    example = resources.files("examples") / f"{case_name}.jsonl"
    keep = obj.db is not None or "BLOCKLEDGER_DB" in os.environ
    with resources.as_file(example) as path, tempfile.TemporaryDirectory() as tmp:
        if not keep:
            obj.db = str(Path(tmp) / "demo.db")
        with path.open("rb") as lines:
            facts = [f for _, f in read_facts(lines)]
        # The ledger learns the case first and the corrections and disputes afterwards, so
        # that the demo can ask what it said in between.
        first = [f for f in facts if not is_amendment(f)]
        later = [f for f in facts if is_amendment(f)]
        with obj.ledger(write=True) as ledger:
            outcome = ledger.record(first, operator=obj.operator)
            learned_at = datetime.now(UTC)
            more = ledger.record(later, operator=obj.operator)
            outcome = Outcome(recorded=outcome.recorded + more.recorded,
                              skipped=outcome.skipped + more.skipped)
            # The case's own zone (WIB for the 2017 case), unless the user chose one.
            zone_of_case = zone(obj.tz or os.environ.get("BLOCKLEDGER_TZ") or case.zone)
            run_demo(ledger, outcome, Screen(tz=zone_of_case),
                     where=str(obj.target) if keep else None, learned_at=learned_at,
                     case=case)



def register(group: click.Group) -> None:
    group.add_command(init)
    group.add_command(demo)
