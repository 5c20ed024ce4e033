"""The blockledger command line: parse, call the ledger and projections, render.

Errors reach the user as one line on stderr: exit 1 for a refusal by a rule, 2 for bad
usage or input, 3 for an integrity failure (what is stored, or a report, does not verify;
a read that meets damage), 4 for a store that cannot be reached or used; ``--debug`` shows
the traceback instead.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import click
import orjson

from domain.amendments import is_amendment
from domain.declaration import REGISTRY, EventType, FieldSpec
from domain.errors import BadInput, LedgerError, StoreUnreachable
from domain.fact import Fact
from domain.values import When, check_text
from ledger import roles
from ledger.application import Ledger, Outcome, open_ledger
from ledger.checkpoint import load_private_key
from ledger.interchange import read_facts
from ledger.signatures import attach
from ledger.storage import Target, parse_target
from projections.book import Book
from projections.views import Views

PROGRESS_THRESHOLD = 1000

# The auditors' commands live in cli_audit, which imports from here; registered below.


class Context:
    """What every command shares: where the ledger is, who is recording and with which
    signing key, debug mode."""

    def __init__(self, db: str | None, operator: str | None, debug: bool,
                 key: str | None = None):
        self.db = db
        self.debug = debug
        self._operator = operator
        self.key = key

    @property
    def key_path(self) -> str | None:
        """The operator's Ed25519 private key file: --key, else BLOCKLEDGER_SIGNING_KEY."""
        return self.key or os.environ.get("BLOCKLEDGER_SIGNING_KEY") or None

    def signing_key(self) -> Any:
        """The operator's private key, loaded (``BadInput`` if unreadable), or None."""
        path = self.key_path
        return load_private_key(path) if path else None

    @property
    def target(self) -> Target:
        return parse_target(self.db)

    @property
    def operator(self) -> str:
        name = self._operator or os.environ.get("BLOCKLEDGER_OPERATOR")
        if not name:
            try:
                name = getpass.getuser()
            except (OSError, KeyError):
                raise BadInput("no operator: pass --operator or set BLOCKLEDGER_OPERATOR",
                               field="operator") from None
        return check_text(name, "operator", limit=200)

    @contextmanager
    def ledger(self, *, write: bool = False) -> Iterator[Ledger]:
        """Open the ledger; a read of a SQLite file that does not exist is an error.

        Before anything is read or written, the cipher key must fit the ledger (see
        ledger.encryption); a write the database role may not make is one line too.
        """
        target = self.target
        if not write and not target.exists():
            raise BadInput(f"no ledger at {target}: run 'blockledger init' or import first",
                           field="db")
        try:
            with open_ledger(target, create=write, command=self._command()) as ledger:
                if write:
                    # Who signs what this command records; a refusal waits for the first
                    # event written, so a checkpoint or a rebuild needs no recorder's key.
                    attach(ledger, self.operator, self.signing_key())
                yield ledger
                if write:
                    _catch_up_after_write(ledger, self.debug)
        except LedgerError:
            raise
        except Exception as error:
            if self.debug or not _is_store_error(error):
                raise
            reason = roles.denied(error)
            if reason is not None and target.postgres:
                role = target.settings["POSTGRES_USER"]
                may_not = "write to" if write else "read"
                raise LedgerError(f"the role {role!r} may not {may_not} this ledger at {target} "
                                  f"({reason})") from error
            first = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
            if "database is locked" in first and not target.postgres:
                first = (f"another writer held it longer than the busy timeout "
                         f"({target.settings['SQLITE_LOCK_TIMEOUT']} s, "
                         f"BLOCKLEDGER_BUSY_TIMEOUT); try again ({first})")
            raise StoreUnreachable(f"cannot use the ledger at {target}: {first}") from error

    @staticmethod
    def _command() -> str:
        """The running command's name, without the program's: "verify", "report provenance"."""
        ctx = click.get_current_context(silent=True)
        words = ctx.command_path.split()[1:] if ctx is not None else []
        return " ".join(words) or "this command"


def _catch_up_after_write(ledger: Ledger, debug: bool) -> None:
    """Leave the views current. What was written is committed whatever happens here, so a
    failure is a warning, not an error: the next command catches up."""
    try:
        Views(ledger).catch_up()
    except Exception as error:
        if debug:
            raise
        click.echo(f"warning: written, but the views did not catch up ({error}); the next "
                   "command will", err=True)


def _is_store_error(error: Exception) -> bool:
    if isinstance(error, BrokenPipeError):
        return False
    module = type(error).__module__
    return module.startswith(("eventsourcing", "psycopg", "sqlite3")) or isinstance(
        error, OSError)


class LedgerGroup(click.Group):
    """A click group that turns ``LedgerError`` into one line and an exit code, in one place;
    click's own usage errors (an unknown option, a missing argument) too: one line, exit 2,
    pointing at --help instead of printing the usage block."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except click.UsageError as error:
            where = error.ctx.command_path if error.ctx is not None else "blockledger"
            message = " ".join(error.format_message().split())
            click.echo(f"error: {message} (see '{where} --help')", err=True)
            sys.exit(error.exit_code)
        except click.ClickException as error:
            error.show()
            sys.exit(error.exit_code)
        except click.Abort:
            click.echo("aborted", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LedgerError as error:
            obj = ctx.find_object(Context)
            if obj is not None and obj.debug:
                raise
            click.echo(f"error: {error}", err=True)
            ctx.exit(error.exit_code)


@click.group(cls=LedgerGroup)
@click.option("--db", metavar="TARGET", help="SQLite file (default ./blockledger.db) or "
              "postgresql://user@host:port/dbname; or set BLOCKLEDGER_DB.")
@click.option("--operator", metavar="NAME", help="Who records (default: BLOCKLEDGER_OPERATOR, "
              "else your login name).")
@click.option("--key", metavar="FILE", help="Your Ed25519 private key (PEM), which signs what "
              "you record once the ledger has operators; or set BLOCKLEDGER_SIGNING_KEY.")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.version_option(package_name="blockledger")
@click.pass_context
def cli(ctx: click.Context, db: str | None, operator: str | None, key: str | None,
        debug: bool) -> None:
    """An event-sourced ledger of government blocking decisions against online platforms."""
    ctx.obj = Context(db, operator, debug, key)


pass_context = click.make_pass_decorator(Context)


@cli.command()
@pass_context
def init(obj: Context) -> None:
    """Create the store (idempotent); compute the hash chain of an older ledger once."""
    with obj.ledger(write=True) as ledger:
        upgraded = ledger.upgrade()
    if upgraded:
        click.echo(f"computed the hash chain of {upgraded} existing events")
    click.echo(f"ledger ready at {obj.target}")


# --- record: one subcommand per declared event type ----------------------------------------


class RecordGroup(click.Group):
    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage(ctx.command_path, "TYPE SUBJECT --at WHEN --source S [OPTIONS]")


@cli.group(cls=RecordGroup)
def record() -> None:
    """Record one event: TYPE SUBJECT --at WHEN --source S [type-specific options].

    Data fields are options named after them (legal_basis -> --legal-basis); a list field is
    a repeated option in the singular (--target t.me --target web.telegram.org). --data
    gives the data as a JSON object instead.
    """


def _option_name(name: str, spec: FieldSpec) -> str:
    return "--" + (spec.singular or name).replace("_", "-")


def _record_command(kind: EventType) -> click.Command:
    params: list[click.Parameter] = [
        click.Argument(["subject"]),
        click.Option(["--at", "occurred_at"], metavar="WHEN",
                     help="When it happened: ISO 8601 date or date-time with offset."),
        click.Option(["--source", "sources"], multiple=True, metavar="S",
                     help="A citation, URL or text (repeatable; at least one)."),
        click.Option(["--note"], help="A free note on the event."),
        click.Option(["--id", "event_id"], metavar="UUID", help="The event's id (default: new)."),
        click.Option(["--data"], metavar="JSON", help="The data fields as one JSON object."),
    ]
    for name, spec in kind.fields():
        decl = _option_name(name, spec)
        if spec.kind == "fields":
            params.append(click.Option([decl, name], multiple=True, metavar="FIELD=VALUE",
                                       help=spec.help.split(" (")[0] + ": repeat FIELD=VALUE "
                                       "(VALUE as JSON where it parses, else as text)"))
        elif spec.kind == "bool":
            params.append(click.Option([f"{decl}/--not-{decl[2:]}", name], default=None,
                                       help=spec.help))
        else:
            required = "" if spec.required else " (optional)"
            params.append(click.Option([decl, name], multiple=spec.is_list,
                                       help=spec.help + required,
                                       metavar="VALUE" if not spec.is_list else "VALUE..."))

    def run(subject: str, occurred_at: str | None, sources: tuple[str, ...], note: str | None,
            event_id: str | None, data: str | None, **fields: Any) -> None:
        obj = click.get_current_context().find_object(Context)
        assert obj is not None
        fact = _fact_from_options(kind, subject, occurred_at, sources, note, event_id, data,
                                  fields)
        with obj.ledger(write=True) as ledger:
            outcome = ledger.record([fact], operator=obj.operator)
        if outcome.skipped:
            click.echo(f"skipped: event {fact.id} is already in the ledger")
        else:
            click.echo(f"recorded {kind.name} {subject} {fact.id}")

    return click.Command(kind.name, params=params, callback=run, help=kind.help,
                         short_help=kind.help.split(".")[0])


def _fact_from_options(kind: EventType, subject: str, occurred_at: str | None,
                       sources: tuple[str, ...], note: str | None, event_id: str | None,
                       data: str | None, fields: dict[str, Any]) -> Fact:
    if occurred_at is None:
        raise BadInput("--at WHEN is required (when it happened)", field="occurred_at")
    raw: dict[str, Any] = {} if data is None else _json_object(data, "data")
    specs = dict(kind.fields())
    for name, value in fields.items():
        if value is None or value == ():
            continue
        if name in raw:
            option = _option_name(name, specs[name])
            raise BadInput(f"{name} is given both in --data and as {option}: which value "
                           "is meant?", field=name)
        if specs[name].kind == "fields":
            raw[name] = _assignments(value, name)
        else:
            raw[name] = list(value) if isinstance(value, tuple) else value
    obj: dict[str, Any] = {"type": kind.name, "subject": subject, "occurred_at": occurred_at,
                           "sources": list(sources), "data": raw}
    if note is not None:
        obj["note"] = note
    obj["id"] = event_id if event_id is not None else str(__import__("uuid").uuid4())
    return Fact.from_json(obj)


def _assignment(item: str, option: str) -> tuple[str, Any]:
    """``FIELD=VALUE``: VALUE as JSON where it is a list, a string, true, false or null,
    else as text (so ``note=2017`` sets the text "2017", not a number)."""
    name, eq, text = item.partition("=")
    if not eq or not name:
        raise BadInput(f"{item!r} is not FIELD=VALUE", field=option)
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return name.strip(), text
    if value is None or isinstance(value, (bool, str, list)):
        return name.strip(), value
    return name.strip(), text


def _assignments(items: tuple[str, ...], option: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        name, value = _assignment(item, option)
        if name in out:
            raise BadInput(f"{name} is set twice: which value is meant?", field=option)
        out[name] = value
    return out


def _json_object(text: str, option: str) -> dict[str, Any]:
    """A JSON object from an option, refusing a key given twice (JSON readers keep one)."""
    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [key for key, _ in pairs]
        twice = next((key for key in keys if keys.count(key) > 1), None)
        if twice is not None:
            raise BadInput(f"{twice!r} is given twice: which value is meant?", field=option)
        return dict(pairs)

    try:
        value = orjson.loads(text)  # strict: no NaN, no number too large for a float
    except orjson.JSONDecodeError as error:
        raise BadInput(f"--{option} is not valid JSON ({error})", field=option) from None
    if not isinstance(value, dict):
        raise BadInput(f"--{option} must be a JSON object", field=option)
    return json.loads(text, object_pairs_hook=unique)


for _kind in REGISTRY.values():
    record.add_command(_record_command(_kind))


# --- import and export ----------------------------------------------------------------------


@contextmanager
def progress(total: int, label: str) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr for large inputs on a terminal; a no-op otherwise."""
    if total < PROGRESS_THRESHOLD or not sys.stderr.isatty():
        yield lambda _: None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(label, total=total)
        yield lambda index: progress.update(task, completed=index + 1)


# --- reading --------------------------------------------------------------------------------


def parse_when(value: str | None, option: str) -> When | None:
    return None if value is None else When.parse(value, option, end_of_day=True)


as_of_option = click.option("--as-of", metavar="T",
                            help="What was in force at T (a bare date: the end of that day).")
as_known_at_option = click.option("--as-known-at", metavar="K",
                                  help="What the ledger said at K: only events recorded by K.")


@contextmanager
def _views(obj: Context) -> Iterator[tuple[Ledger, Views | None]]:
    """The ledger and its views, caught up; no views where they cannot be written (a
    read-only connection), and the reads then replay the log instead.

    While a writer is at work (an import holding the store's write lock), a read does not
    wait for it: it answers from the views as they stand, and says on stderr how far
    behind the ledger's committed events they are.
    """
    with obj.ledger() as ledger:
        views: Views | None = Views(ledger)
        try:
            if views.store.exists() and views.store.busy():
                behind = views.lag_estimate()
                if behind:
                    click.echo(f"note: a writer is at work; answering from the views as "
                               f"they stand, {behind} committed events behind", err=True)
            else:
                views.catch_up()
        except Exception:
            if obj.debug:
                raise
            views = None
        yield ledger, views


def _book(ledger: Ledger, views: Views | None, known: When | None, **where: Any) -> Book:
    at = known.instant if known else None
    if views is None:
        return Book(ledger.entries(), as_known_at=at)
    return views.book(as_known_at=at, **where)


@cli.command()
@pass_context
def demo(obj: Context) -> None:
    """Load the bundled 2017 Telegram case into a fresh ledger and show it."""
    from projections.demo import run_demo
    from projections.terminal import Screen, zone

    example = resources.files("examples") / "telegram-indonesia-2017.jsonl"
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
            # The case's own zone (WIB), unless the user chose one.
            zone_of_case = zone(os.environ.get("BLOCKLEDGER_TZ") or "Asia/Jakarta")
            run_demo(ledger, outcome, Screen(tz=zone_of_case),
                     where=str(obj.target) if keep else None, learned_at=learned_at)


from cli_audit import register as register_audit_commands  # noqa: E402 (needs cli above)
from cli_copy import register as register_copy_command  # noqa: E402
from cli_import import register as register_import_command  # noqa: E402
from cli_operator import register as register_operator_commands  # noqa: E402
from cli_publish import register as register_publish_commands  # noqa: E402
from cli_read import register as register_read_commands  # noqa: E402
from cli_report import register as register_report_commands  # noqa: E402

register_read_commands(cli)
register_audit_commands(cli)
register_report_commands(cli)
register_import_command(cli)
register_operator_commands(cli)
register_copy_command(cli)
register_publish_commands(cli)


def main() -> None:
    """The console script."""
    try:
        cli(prog_name="blockledger")
    except BrokenPipeError:
        # The reader went away (`blockledger export | head`): not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)


if __name__ == "__main__":  # pragma: no cover
    main()
