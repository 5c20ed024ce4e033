"""The export commands: ``export`` alone writes every event (the interchange format, as
before); ``export intervals`` the block intervals researchers chart; ``export test-list``
a country's targets in force as a Citizen Lab test list.

Every ``-o FILE`` goes through ``commands.output`` (never over an existing file without
``--force``, never over the ledger).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import IO, Any

import click

from commands.context import (
    Context,
    _book,
    _views,
    as_known_at_option,
    as_of_option,
    parse_when,
    pass_context,
)
from commands.output import force_option
from commands.read import _before, check_jurisdiction, reading, stdout
from domain.errors import BadInput

output_option = click.option("-o", "--output", metavar="FILE", help="Write to this file "
                             "instead of stdout (never over an existing file without "
                             "--force, never over the ledger).")


@click.group(invoke_without_command=True)
@output_option
@click.option("--format", "fmt", type=click.Choice(["jsonl", "json", "csv"]), default=None,
              help="jsonl (the default): the interchange format, as import reads it; "
              "json: one list of those objects; csv: one row per event as corrected (as "
              "history --format csv, platform by platform).")
@click.option("--json", "as_json", is_flag=True, help="Short for --format json.")
@force_option
@pass_context
@click.pass_context
def export(ctx: click.Context, obj: Context, output: str | None, fmt: str | None,
           as_json: bool, force: bool) -> None:
    """Export every event as JSON Lines, with recorded_at, recorded_by, position and hash;
    or, with a subcommand, the block intervals or a country's test list.

    \b
    Examples:
      blockledger export -o ledger.jsonl                # every event, as import reads it
      blockledger export intervals --jurisdiction IN    # who was blocked, when, by whom
      blockledger export test-list --jurisdiction ID -o id.csv
    """
    if ctx.invoked_subcommand is not None:
        if output is not None or fmt is not None or force or as_json:
            raise BadInput(f"-o, --format and --force go after 'export "
                           f"{ctx.invoked_subcommand}'", field="output")
        return
    if as_json and fmt not in (None, "json"):
        raise BadInput(f"--json and --format {fmt} disagree: give one", field="format")
    fmt = "json" if as_json else fmt
    _events(obj, output, fmt or _before("fmt", ("jsonl", "json", "csv")) or "jsonl", force)


def _events(obj: Context, output: str | None, fmt: str, force: bool) -> None:
    from commands.output import check_output

    if output is not None:
        check_output(output, force=force, target=obj.target)
    # Only csv reads the views (an event's values as corrected); the others read the log.
    opened = _views(obj) if fmt == "csv" else _log(obj)
    with opened as (ledger, views), reading(
            ledger.recorder.max_notification_id() or 0, "exporting") as advance:

        def write(out: IO[bytes]) -> int:
            from ledger.interchange import exported, write_lines
            from projections import formats
            from projections.history import ledger_rows
            from projections.views import Views

            if fmt == "jsonl":
                return write_lines(_counted(ledger.entries(), advance), out)
            if fmt == "json":
                return formats.write_json_list(
                    (exported(e) for e in _counted(ledger.entries(), advance)), out)
            return formats.write_csv(ledger_rows(views or Views(ledger), read=advance),
                                     formats.HISTORY_COLUMNS, out)

        n = _write(obj, output, force, write)
    if output is not None:
        click.echo(f"exported {n} events to {output}", err=True)


def _write(obj: Context, output: str | None, force: bool,
           write: Callable[[IO[bytes]], int]) -> int:
    """``write`` to ``output`` (through ``commands.output.written``), else to stdout."""
    from commands.output import written

    if output is None:
        return write(stdout())
    with written(output, force=force, target=obj.target) as out:
        return write(out)


@contextmanager
def _log(obj: Context) -> Iterator[tuple[Any, None]]:
    with obj.ledger() as ledger:
        yield ledger, None


def _counted(entries: Iterable[Any], advance: Callable[[int], None]) -> Iterator[Any]:
    for i, entry in enumerate(entries):
        if not i % 1000:
            advance(i)
        yield entry


@export.command()
@click.option("--jurisdiction", metavar="CC", help="Only orders that bind CC (ISO 3166-1 "
              "alpha-2, or an ISO 3166-2 subdivision): a subdivision's orders count in its "
              "country's export, and a country's orders in a subdivision's.")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default=None,
              help="csv (the default) or jsonl, one object a line with the same keys "
              "('to' null while in force).")
@as_of_option
@as_known_at_option
@output_option
@force_option
@pass_context
def intervals(obj: Context, jurisdiction: str | None, fmt: str | None, as_of: str | None,
              as_known_at: str | None, output: str | None, force: bool) -> None:
    """One row per platform, target and interval in which an order held it blocked:
    platform, target, jurisdiction, order, authority, instrument, legal_basis, from, to.

    An interval is [from, to): blocked from 'from', no longer at 'to'; 'to' is empty
    where it is still blocked at the as-of time (default now). A temporary lift ends an
    interval and its end starts the next; a court's suspension or overturning ends one, a
    reinstatement starts one. Sorted by platform, target, from, order.

    \b
    Examples:
      blockledger export intervals                           # every interval, as CSV
      blockledger export intervals --jurisdiction IN --format jsonl
      blockledger export intervals --as-of 2017-07-31        # as it stood that day
      blockledger export intervals --as-known-at 2017-08-01  # as the ledger said then
    """
    from projections import formats
    from projections.intervals import INTERVAL_COLUMNS, ledger_intervals

    fmt = fmt or _before("fmt", ("csv", "jsonl")) or "csv"
    t, k = parse_when(as_of, "as-of"), parse_when(as_known_at, "as-known-at")
    if jurisdiction is not None:
        jurisdiction = check_jurisdiction(jurisdiction)
    _check(obj, output, force)
    with _views(obj) as (ledger, views):
        book = _book(ledger, None, k) if views is None else None
        rows = (i.record() for i in ledger_intervals(views, book=book, as_of=t,
                                                     as_known_at=k,
                                                     jurisdiction=jurisdiction))

        def write(out: IO[bytes]) -> int:
            if fmt == "jsonl":
                return formats.write_jsonl(rows, out)
            return formats.write_csv(rows, INTERVAL_COLUMNS, out)

        n = _write(obj, output, force, write)
    if output is not None:
        click.echo(f"exported {n} interval{'' if n == 1 else 's'} to {output}", err=True)


@export.command("test-list")
@click.option("--jurisdiction", metavar="CC", required=True, help="The country (ISO 3166-1 "
              "alpha-2; a subdivision gives its own and its country's orders) whose list "
              "it is.")
@as_of_option
@as_known_at_option
@output_option
@force_option
@pass_context
def test_list(obj: Context, jurisdiction: str, as_of: str | None, as_known_at: str | None,
              output: str | None, force: bool) -> None:
    """The targets in force in a jurisdiction at the as-of time (default now), as a
    Citizen Lab test list (CSV: url, category_code, category_description, date_added,
    source, notes), so that probes measure exactly what was ordered.

    A domain name becomes https://DOMAIN/; IP addresses, networks and app ids cannot be
    URLs and are skipped (counted on stderr). Categories come from the orders' reasons
    (README: "Test lists").

    \b
    Examples:
      blockledger export test-list --jurisdiction ID -o id.csv
      blockledger export test-list --jurisdiction TR --as-of 2019-12-31
    """
    from projections import formats
    from projections.intervals import ledger_intervals
    from projections.test_list import TEST_LIST_COLUMNS
    from projections.test_list import test_list as build

    _before("fmt", ("csv",))  # --format before the command: only csv is a test list
    t, k = parse_when(as_of, "as-of"), parse_when(as_known_at, "as-known-at")
    jurisdiction = check_jurisdiction(jurisdiction)
    _check(obj, output, force)
    with _views(obj) as (ledger, views):
        book = _book(ledger, None, k) if views is None else None
        found = build(ledger_intervals(views, book=book, as_of=t, as_known_at=k,
                                       jurisdiction=jurisdiction))
    n = _write(obj, output, force, lambda out: formats.write_csv(
        (e.record() for e in found.entries), TEST_LIST_COLUMNS, out))
    if found.skipped:
        words = {"ip": ("IP address", "IP addresses"), "network": ("network", "networks"),
                 "app": ("app id", "app ids"), "other": ("other", "others")}
        kinds = ", ".join(f"{count} {words[kind][count > 1]}"
                          for kind, count in found.skipped.items())
        click.echo(f"skipped {sum(found.skipped.values())} targets in force that cannot be "
                   f"URLs ({kinds})", err=True)
    if output is not None:
        click.echo(f"exported {n} URL{'' if n == 1 else 's'} to {output}", err=True)


def _check(obj: Context, output: str | None, force: bool) -> None:
    """Refuse a bad ``-o`` before anything is read."""
    from commands.output import check_output

    if output is not None:
        check_output(output, force=force, target=obj.target)


def register(group: click.Group) -> None:
    """Add ``export`` and its subcommands to the ``blockledger`` group."""
    group.add_command(export)
