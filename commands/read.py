"""The read commands: status, history, types; and the output options every
command that prints records shares (``--format table|json|jsonl|csv``, ``--json``).

Registered on the ``blockledger`` group by ``cli``. Tables are for a person
(``projections.terminal``); json, jsonl and csv for machines (``projections.formats``),
streamed where the records are many.
"""

from __future__ import annotations

import functools
import itertools
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import IO, Any

import click

from commands.completion import references
from commands.context import (
    Context,
    _views,
    as_known_at_option,
    as_of_option,
    parse_when,
    pass_context,
)
from domain.declaration import REGISTRY
from domain.errors import BadInput
from domain.values import When, check_slug
from projections.formats import FORMATS

#: Events read before a progress bar is worth showing.
PROGRESS_THRESHOLD = 10_000


def format_options(*, choices: tuple[str, ...] = FORMATS, default: str = "table") -> Callable:
    """``--format`` (one of ``choices``) and ``--json``, its short form for json; the
    command receives ``fmt``."""
    def decorate(command: Callable) -> Callable:
        @functools.wraps(command)
        def run(*args: Any, fmt: str | None, as_json: bool, **kwargs: Any) -> Any:
            if as_json and fmt not in (None, "json"):
                raise BadInput(f"--json and --format {fmt} disagree: give one", field="format")
            if as_json:
                fmt = "json"
            if fmt is None:  # given before the command, if at all
                obj = click.get_current_context().find_object(Context)
                fmt = obj.fmt if obj is not None else None
                if fmt is not None and fmt not in choices:
                    raise BadInput(f"--format {fmt} is not one of this command's formats "
                                   f"({', '.join(choices)})", field="format")
            return command(*args, fmt=fmt or default, **kwargs)

        run = click.option("--json", "as_json", is_flag=True,
                           help="Short for --format json.")(run)
        return click.option("--format", "fmt", type=click.Choice(choices),
                            help=f"Output format (default {default}); csv columns are "
                            "listed in the README.")(run)
    return decorate


tz_option = click.option("--tz", metavar="ZONE", help="Show times in this IANA zone "
                         "(e.g. Asia/Jakarta; default BLOCKLEDGER_TZ, else UTC); JSON and "
                         "CSV keep ISO 8601 with offsets.")


def _before(attr: str, choices: tuple[str, ...]) -> str | None:
    """The format (``fmt``) given before the command, checked against ``choices``."""
    ctx = click.get_current_context(silent=True)
    obj = ctx.find_object(Context) if ctx is not None else None
    value = getattr(obj, attr, None) if obj is not None else None
    if value is not None and value not in choices:
        raise BadInput(f"--format {value} is not one of this command's formats "
                       f"({', '.join(choices)})", field="format")
    return value


def screen(tz: str | None) -> Any:
    """The screen for a read command's table, its times in ``tz`` (checked here), else in
    the zone given before the command (--tz, BLOCKLEDGER_TZ)."""
    from projections.terminal import Screen, zone

    if tz is None:
        obj = click.get_current_context(silent=True)
        context = obj.find_object(Context) if obj is not None else None
        tz = context.tz if context is not None else None
    return Screen(tz=zone(tz))


def stdout() -> IO[bytes]:
    """Standard output for bytes, after whatever text went before it."""
    sys.stdout.flush()
    return sys.stdout.buffer


@contextmanager
def reading(total: int, label: str) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr while many events are read and the output goes elsewhere
    than the terminal (at a terminal, the rows themselves show progress)."""
    if total < PROGRESS_THRESHOLD or not sys.stderr.isatty() or sys.stdout.isatty():
        yield lambda _: None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True,
                  redirect_stdout=False, redirect_stderr=False) as bar:
        task = bar.add_task(label, total=total)
        yield lambda done: bar.update(task, completed=done)


# --- status ---------------------------------------------------------------------------------


@click.command()
@click.argument("platform", required=False,
                shell_complete=references("platform"))
@as_of_option
@as_known_at_option
@click.option("--state", "states", multiple=True, metavar="STATE",
              type=click.Choice(["blocked", "partially-blocked", "accessible"]),
              help="Only platforms in this state: blocked, partially-blocked or "
              "accessible (repeatable; without PLATFORM).")
@click.option("--authority", metavar="NAME", help="Only platforms with an order by NAME.")
@click.option("--jurisdiction", metavar="CC", help="The answer for one state (ISO 3166-1 "
              "alpha-2, or an ISO 3166-2 subdivision): its orders and observations only; a "
              "subdivision's orders count in its country's, flagged regional.")
@click.option("--sort", type=click.Choice(["platform", "state", "since", "blocked"]),
              default="platform", show_default=True, help="Order of the platforms.")
@click.option("--limit", type=click.IntRange(min=1), metavar="N", help="At most N platforms.")
@tz_option
@format_options()
@pass_context
def status(obj: Context, platform: str | None, as_of: str | None, as_known_at: str | None,
           states: tuple[str, ...], authority: str | None, jurisdiction: str | None,
           sort: str, limit: int | None, tz: str | None, fmt: str) -> None:
    """The status of PLATFORM, in full, or one row per platform, at a valid time.

    --json prints the status object (a list of them without PLATFORM); --format csv one
    row per platform (columns: README).

    \b
    Examples:
      blockledger status telegram                       # everything it knows, now
      blockledger status telegram --as-of 2017-07-20    # what was in force that day
      blockledger status telegram --as-known-at 2017-08-01T00:00:00+07:00
      blockledger status --state blocked --sort since   # one row per platform
      blockledger status telegram --json
      blockledger status telegram --jurisdiction BR     # one state's answer
    """
    from commands.context import _book
    from projections.status import all_status, platform_status, status_detail

    t, k = parse_when(as_of, "as-of"), parse_when(as_known_at, "as-known-at")
    if jurisdiction is not None:
        jurisdiction = check_jurisdiction(jurisdiction)
    out = screen(tz)  # the zone is checked whatever the format
    if platform is not None:  # (a malformed name is bad input; a well-formed unknown one, 1)
        check_slug(platform, "platform")
    if platform is not None and (states or authority or limit):
        raise BadInput("--state, --authority and --limit select platforms: give no PLATFORM",
                       field="platform")
    # Read from the views alone: where they are current already, without the application.
    with _views(obj, kept=True) as (ledger, views):
        kept = views.current_status(platform) if views and not (
            t or k or jurisdiction) else None
        if platform is not None:
            book = _book(ledger, views, k, platform=platform) if not kept or fmt in (
                "table", "csv") else None
            result = kept[0] if kept else platform_status(book, platform, as_of=t,
                                                         as_known_at=k,
                                                         jurisdiction=jurisdiction)
            if fmt == "json":
                _json(result)
                return
            if fmt == "jsonl":
                _records([result], fmt, "status")
                return
            detail = status_detail(book, platform, as_of=t, jurisdiction=jurisdiction)
            if fmt == "table":
                from projections.status_text import platform_text

                out.console().print(platform_text(result, detail, out))
            else:
                _records([{**result, "targets": detail["targets"],
                           "since": detail["since"]}], fmt, "status")
            return
        from projections.status_text import SORTS
        from projections.summary import detailed, folded, select

        whole = None if views is not None else _book(ledger, views, k)
        if kept is not None:  # now, as known now: the kept status, details for what shows
            found = select(kept, states=states, authority=authority)
            enrich = functools.partial(detailed, views=views, book=None)
            if sort == "since":
                found = list(enrich(found))
        elif views is not None:
            found = select(folded(views, as_of=t, as_known_at=k, jurisdiction=jurisdiction),
                           states=states, authority=authority)
            enrich = None
        else:  # no views (a read-only connection): one book of the whole ledger
            found = select(all_status(whole, as_of=t, as_known_at=k,
                                      jurisdiction=jurisdiction),
                           states=states, authority=authority)
            enrich = functools.partial(detailed, views=None, book=whole, as_of=t,
                                       as_known_at=k, jurisdiction=jurisdiction)
            if sort == "since":
                found = list(enrich(found))
        found.sort(key=SORTS[sort])
        found = found[:limit] if limit else found
        if fmt in ("json", "jsonl"):  # the status objects as they are, as --json has them
            pure = [{key: s[key] for key in s if key not in ("targets", "since")}
                    for s in found]
            if fmt == "json":
                _json(pure)
            else:
                _records(pure, fmt, "status")
            return
        rows = found if enrich is None or sort == "since" else enrich(found)
        if fmt != "table":
            _records(rows, fmt, "status")
            return
        from projections.status_text import summary_table

        if not summary_table(out, rows):
            out.nothing("no platforms" + (" match" if states or authority else " registered"))


def check_jurisdiction(value: str) -> str:
    """A ``--jurisdiction`` value, checked as the vocabulary checks the field."""
    from domain.declaration import FieldSpec

    return FieldSpec(kind="jurisdiction", help="").parse(value, "jurisdiction")


def _json(value: Any) -> None:
    from projections.formats import write_json

    write_json(value, stdout())


def write_records(records: list[dict[str, Any]], fmt: str,
                  names: Sequence[str] = ()) -> None:
    """Flat records in ``fmt`` (json, jsonl, csv: its columns are ``names``, then any other
    key of the records; with no records, the header of ``names`` alone)."""
    from projections import formats

    if fmt == "json":
        _json(records)
    elif fmt == "jsonl":
        formats.write_jsonl(records, stdout())
    else:
        formats.write_csv(records, formats.columns_of([dict.fromkeys(names), *records]),
                          stdout())


def _records(records: Iterable[dict[str, Any]], fmt: str, kind: str,
             head: dict[str, Any] | None = None) -> int:
    from projections import formats

    columns = {"status": formats.STATUS_COLUMNS, "history": formats.HISTORY_COLUMNS}[kind]
    return formats.streamed(records, fmt, stdout(), columns=columns, head=head)


# --- history --------------------------------------------------------------------------------


def event_types(given: tuple[str, ...]) -> frozenset[str]:
    """``--type`` values, each a declared event type; an unknown one is bad input that
    names the nearest."""
    for name in given:
        if name not in REGISTRY:
            import difflib

            near = difflib.get_close_matches(name, list(REGISTRY), n=1, cutoff=0.5)
            hint = f" (did you mean {near[0]}?)" if near else " ('blockledger types' lists them)"
            raise BadInput(f"--type {name!r} is not an event type{hint}", field="type")
    return frozenset(given)


@click.command()
@click.argument("subject", required=False,
                shell_complete=references("platform", "order", "request"))
@as_of_option
@as_known_at_option
@click.option("--type", "types_", multiple=True, metavar="TYPE",
              help="Only events of this type (repeatable).")
@click.option("--since", metavar="T", help="Only what happened at or after T (valid time; "
              "a bare date is a day of the --tz zone).")
@click.option("--until", metavar="T", help="Only what happened by T (a bare date: the end "
              "of that day, in the --tz zone).")
@click.option("--operator", "recorded_by", metavar="NAME",
              help="Only events recorded by NAME.")
@click.option("--jurisdiction", metavar="CC", help="Only one state's part: the platforms' "
              "own events, the orders that bind CC (and their requests), observations "
              "made there.")
@click.option("--limit", type=click.IntRange(min=1), metavar="N", help="At most N events.")
@tz_option
@format_options()
@pass_context
def history(obj: Context, subject: str | None, as_of: str | None, as_known_at: str | None,
            types_: tuple[str, ...], since: str | None, until: str | None,
            recorded_by: str | None, jurisdiction: str | None, limit: int | None,
            tz: str | None, fmt: str) -> None:
    """The events about SUBJECT (a platform brings its orders and requests), by valid time;
    without SUBJECT the whole ledger, platform by platform, streamed as it is read.

    --json prints {"subject", "as_of", "as_known_at", "tz", "events": [...]}, each event
    with both times, who recorded it, and corrected_by / retracted_by / disputed_by;
    --format jsonl one event a line; csv one row per event, as corrected (columns: README).

    \b
    Examples:
      blockledger history telegram                      # the platform's events, in order
      blockledger history kominfo-2017-07-14 --tz Asia/Jakarta
      blockledger history --type blocked --type unblocked --since 2017-01-01
      blockledger history --format jsonl > all.jsonl    # streamed
      blockledger history telegram --jurisdiction RU    # one state's part
    """
    from commands.context import _book
    from projections.book import Book
    from projections.history import Filter, bounded, ledger_lines, ledger_rows, lines, rows

    t, k = parse_when(as_of, "as-of"), parse_when(as_known_at, "as-known-at")
    out = screen(tz)  # the zone is checked whatever the format
    if subject is not None:  # (a malformed name is bad input; a well-formed unknown one, 1)
        check_slug(subject, "subject")
    # (a bare date is a day of the zone the times are shown in)
    keep = Filter(types=event_types(types_), operator=recorded_by, **bounded(
        When.parse(since, "since") if since else None,
        When.parse(until, "until", end_of_day=True) if until else None, out.tz))
    if keep.empty:
        raise BadInput(f"--since {since!r} is after --until {until!r}: nothing could match")
    known = k.instant if k else None
    with _views(obj) as (ledger, views), reading(
            ledger.recorder.max_notification_id() or 0 if subject is None else 0,
            "reading the history") as advance:
        if jurisdiction is not None:
            jurisdiction = check_jurisdiction(jurisdiction)
        if subject is None and views is not None and jurisdiction is None:
            # (JSON Lines: each line as written, most spliced from the stored bytes)
            # (a group of platforms' lines in one piece, by worker processes for a large
            # ledger, unless --limit counts the first few)
            found: Iterable[Any] = (ledger_lines(
                views, as_of=t, as_known_at=known, keep=keep, read=advance,
                joined=not limit, workers=not limit)
                if fmt == "jsonl" else ledger_rows(views, as_of=t, as_known_at=known,
                                                   keep=keep, read=advance))
        else:
            platform = views is not None and subject is not None and any(
                kind == "platform" for kind, _ in views.subject_keys(subject))
            if views is None or subject is None or (jurisdiction and not platform):
                # (an order's or a request's part of a jurisdiction: the ledger's default
                # and the request's orders decide it, so the whole ledger's book)
                book = _book(ledger, views, k)
            elif platform:
                book = _book(ledger, views, k, platform=subject)
            else:
                entries = [e for kind, _ in sorted(set(views.subject_keys(subject)))
                           for e in views.entries(subject=(kind, subject))]
                entries.sort(key=lambda e: e.position)
                book = Book(entries, as_known_at=known)
            if jurisdiction is None:
                found = rows(book, lines(book, subject, as_of=t), keep)
            else:
                from projections.history import subject_keys
                from projections.jurisdictional import jurisdiction_keys

                keys, elsewhere = jurisdiction_keys(book, subject_keys(book, subject),
                                                    jurisdiction)
                found = rows(book, [line for line in lines(book, as_of=t, subjects=keys)
                                    if line.original.id not in elsewhere], keep)
        if limit:
            found = itertools.islice(found, limit)
        if fmt == "table":
            from projections.history_text import HistoryTable

            if subject is None:  # a stream: ids told apart across the whole ledger
                store = views.store if views is not None else ledger.view_store()
                table = HistoryTable(out, unique_length=store.id_prefix_length)
            else:  # one subject's rows, all in memory already: among them all
                table, found = HistoryTable(out), list(found)
            if not table.write(found):
                out.nothing("no events" + (" match" if types_ or since or until or recorded_by
                                           else ""))
            return
        from projections.terminal import zone_name

        # (tz: the zone whose days a bare --since/--until names, BLOCKLEDGER_TZ's or --tz's)
        head = {"subject": subject, "as_of": t.text if t else None,
                "as_known_at": k.text if k else None, "tz": zone_name(out.tz)}
        _records(found, fmt, "history", head=head)


def register(group: click.Group) -> None:
    """Add the read commands to the ``blockledger`` group."""
    for command in (status, history):
        group.add_command(command)
