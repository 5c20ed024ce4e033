"""init (create the store) and demo (the bundled case, shown)."""

from __future__ import annotations

import os
import tempfile
import uuid
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import click

from commands.context import Context, pass_context
from domain.amendments import is_amendment
from ledger.application import Outcome
from ledger.interchange import read_facts


@click.command()
@click.option("--jurisdiction", envvar="BLOCKLEDGER_JURISDICTION", metavar="CC",
              help="The ledger's default jurisdiction (ISO 3166-1 alpha-2, or an ISO 3166-2 "
              "subdivision): that of every order and observation that names none, recorded "
              "before or after. Recorded as an event (jurisdiction-default); a correction of "
              "it changes it.")
@pass_context
def init(obj: Context, jurisdiction: str | None) -> None:
    """Create the store (idempotent); compute the hash chain of an older ledger once; with
    --jurisdiction, set the ledger's default jurisdiction.

    \b
    Examples:
      blockledger init
      blockledger --db ledger.db init --jurisdiction ID
    """
    from commands.read import check_jurisdiction

    if jurisdiction is not None:  # checked before anything is created
        jurisdiction = check_jurisdiction(jurisdiction)
    source = click.get_current_context().get_parameter_source("jurisdiction")
    with obj.ledger(write=True) as ledger:
        upgraded = ledger.upgrade()
        if upgraded:
            click.echo(f"computed the hash chain of {upgraded} existing events")
        if jurisdiction is not None:
            _set_default(obj, ledger, jurisdiction,
                         given=source != click.core.ParameterSource.ENVIRONMENT)
    click.echo(f"ledger ready at {obj.target}")


def _set_default(obj: Context, ledger: Any, jurisdiction: str, *, given: bool) -> None:
    """Record the ledger's default jurisdiction, once; the same again is nothing. Another
    is refused when given as --jurisdiction; from BLOCKLEDGER_JURISDICTION (set for every
    ledger, say) it is only noted, so that init stays idempotent."""
    from domain.errors import Refused
    from domain.fact import Fact
    from domain.jurisdictions import LEDGER

    fact = Fact.from_json({
        "id": str(uuid.uuid4()), "type": "jurisdiction-default", "subject": LEDGER,
        "occurred_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "sources": [f"blockledger init --jurisdiction {jurisdiction}"],
        "data": {"jurisdiction": jurisdiction}})
    settings = ledger.subject("ledger", LEDGER)
    now = getattr(settings.state(), "jurisdiction", None) if settings else None
    if now == fact.data.jurisdiction:
        click.echo(f"the default jurisdiction is {now} already")
        return
    if settings is not None:
        if not given:
            click.echo(f"the default jurisdiction is {now}; BLOCKLEDGER_JURISDICTION="
                       f"{jurisdiction} not applied")
            return
        created = settings.facts[0]
        at = datetime.now(UTC).isoformat(timespec="seconds")
        raise Refused(f"refused: the ledger's default jurisdiction is {now or 'none'}; to "
                      f"change it, record a correction: blockledger record correction "
                      f"{LEDGER} --target {created.id} --set jurisdiction={jurisdiction} "
                      f"--reason WHY --at {at} --source S")
    ledger.record([fact], operator=obj.operator)
    click.echo(f"default jurisdiction: {fact.data.jurisdiction}")


@click.command()
@click.option("--case", "case_name", default="telegram-indonesia-2017", show_default=True,
              type=click.Choice(["telegram-indonesia-2017", "turkey-wikipedia-2017",
                                 "india-apps-2020"]),
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
            zone_of_case = (zone(obj.tz) if obj.tz is not None
                            or os.environ.get("BLOCKLEDGER_TZ") else zone(case.zone))
            run_demo(ledger, outcome, Screen(tz=zone_of_case),
                     where=str(obj.target) if keep else None, learned_at=learned_at,
                     case=case)



def register(group: click.Group) -> None:
    group.add_command(init)
    group.add_command(demo)
