"""What every command shares: the context (where the ledger is, who records, with which key),
the group that turns errors into one line and an exit code, and the options and helpers
of several commands. The bottom of the commands package: every command module imports
from here, and nothing here imports a command module.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

import click

from domain.errors import BadInput, LedgerError, StoreUnreachable
from domain.values import When, check_text
from ledger import roles
from ledger.storage import Target, parse_target
from projections.book import Book
from projections.views import Views

if TYPE_CHECKING:
    from ledger.application import Ledger
    from ledger.kept import KeptLedger

PROGRESS_THRESHOLD = 1000


class Context:
    """What every command shares: where the ledger is, who is recording and with which
    signing key, debug mode."""

    def __init__(self, db: str | None, operator: str | None, debug: bool,
                 key: str | None = None, tz: str | None = None, fmt: str | None = None):
        self.db = db
        self.debug = debug
        self._operator = operator
        self.key = key
        #: --tz and --format (or --json) given before the command: the defaults of the
        #: commands that take them.
        self.tz = tz
        self.fmt = fmt

    @property
    def key_path(self) -> str | None:
        """The operator's Ed25519 private key file: --key, else BLOCKLEDGER_SIGNING_KEY."""
        return self.key or os.environ.get("BLOCKLEDGER_SIGNING_KEY") or None

    def signing_key(self) -> Any:
        """The operator's private key, loaded (``BadInput`` if unreadable), or None."""
        path = self.key_path
        from ledger.checkpoint import load_private_key  # cryptography: only when signing

        return load_private_key(path) if path else None

    @property
    def target(self) -> Target:
        if self.db is not None and not self.db.strip():
            raise BadInput("--db is empty: give a SQLite file or a postgresql:// URL",
                           field="db")
        return parse_target(self.db)

    @property
    def operator(self) -> str:
        if self._operator is not None and not self._operator.strip():
            raise BadInput("--operator is empty: give who records", field="operator")
        name = self._operator or os.environ.get("BLOCKLEDGER_OPERATOR")
        if not name:
            try:
                import getpass

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
        from ledger.application import open_ledger  # the application: not for kept reads

        with self._store_errors(target, write=write), open_ledger(
                target, create=write, command=self._command()) as ledger:
            if write:
                # Who signs what this command records; a refusal waits for the first
                # event written, so a checkpoint or a rebuild needs no recorder's key.
                from ledger.signatures import attach

                attach(ledger, self.operator, self.signing_key())
            yield ledger
            if write:
                _catch_up_after_write(ledger, self.debug)

    @contextmanager
    def kept(self) -> Iterator[KeptLedger | None]:
        """The ledger open for reading its kept views alone, without the application
        (``ledger.kept``), where they are certainly what ``ledger()`` and a catch-up would
        read; else None, and the caller opens ``ledger()``."""
        target = self.target
        from ledger.kept import open_kept

        reader = open_kept(target) if target.exists() else None
        if reader is None:
            yield None
            return
        try:
            with self._store_errors(target, write=False):
                yield reader
        finally:
            reader.close()

    @contextmanager
    def _store_errors(self, target: Target, *, write: bool) -> Iterator[None]:
        """A store that cannot be used, as one line (``StoreUnreachable``, exit 4) or the
        role's refusal; with --debug, the error as it is."""
        try:
            yield
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
        except click.exceptions.NoArgsIsHelpError as error:
            # 'blockledger' or 'blockledger record' alone: the help, as it prints.
            click.echo(error.ctx.get_help() if error.ctx is not None else str(error))
            sys.exit(0)
        except click.UsageError as error:
            where = error.ctx.command_path if error.ctx is not None else "blockledger"
            message = " ".join(error.format_message().split())
            click.echo(f"error: {message} (see '{where} --help')", err=True)
            sys.exit(error.exit_code)
        except click.ClickException as error:
            error.show()
            sys.exit(error.exit_code)
        except click.Abort:
            # Interrupted (Ctrl-C): the shell's convention, not 1, which means a refusal.
            click.echo("aborted", err=True)
            sys.exit(130)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            done = super().invoke(ctx)
            sys.stdout.flush()  # (what is left buffered: a closed pipe is found here)
            return done
        except BrokenPipeError:
            # The reader went away (`blockledger history | head -1`): not an error of ours,
            # exit 0. Caught here, as click turns it into exit 1 before the console script
            # could; the rest of the output goes nowhere.
            with suppress(OSError, ValueError, io.UnsupportedOperation):  # (no file: tests)
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(0)
        except LedgerError as error:
            obj = ctx.find_object(Context)
            if obj is not None and obj.debug:
                raise
            from commands.words import in_users_words

            click.echo(f"error: {in_users_words(error)}", err=True)
            ctx.exit(error.exit_code)


pass_context = click.make_pass_decorator(Context)


@contextmanager
def progress(total: int, label: str) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr for large inputs on a terminal; a no-op otherwise."""
    if total < PROGRESS_THRESHOLD or not sys.stderr.isatty():
        yield lambda _: None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True,
                  redirect_stdout=False, redirect_stderr=False) as progress:
        task = progress.add_task(label, total=total)
        yield lambda index: progress.update(task, completed=index + 1)


def parse_when(value: str | None, option: str) -> When | None:
    return None if value is None else When.parse(value, option, end_of_day=True)


as_of_option = click.option("--as-of", metavar="T",
                            help="What was in force at T (a bare date: the end of that day).")
as_known_at_option = click.option("--as-known-at", metavar="K",
                                  help="What the ledger said at K: only events recorded by K.")


@contextmanager
def _views(obj: Context, *, kept: bool = False) -> Iterator[tuple[Ledger | None, Views | None]]:
    """The ledger and its views, caught up; no views where they cannot be written (a
    read-only connection), and the reads then replay the log instead.

    While a writer is at work (an import holding the store's write lock), a read does not
    wait for it: it answers from the views as they stand, and says on stderr how far
    behind the ledger's committed events they are.

    With ``kept`` (a command that reads the ledger through its views alone: ``status``),
    views that stand at the ledger's last event already are read without opening the
    application (``Context.kept``), and the ledger is None: the answer is the same, read
    sooner.
    """
    if kept:
        with obj.kept() as reader:
            if reader is not None:
                yield None, Views(reader)
                return
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


def _book(ledger: Ledger | None, views: Views | None, known: When | None,
          **where: Any) -> Book:
    at = known.instant if known else None
    if views is None:
        assert ledger is not None  # (a ledger without views is always opened)
        return Book(ledger.entries(), as_known_at=at)
    return views.book(as_known_at=at, **where)

