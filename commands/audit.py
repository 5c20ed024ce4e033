"""The auditors' and maintainers' commands: verify, checkpoint, projections (the
reports are in ``commands.report``).

Registered on the ``blockledger`` group by ``cli``; thin like the rest of the CLI.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click
import orjson

from commands.context import Context, pass_context, progress
from commands.output import check_output, force_option, write_text
from commands.read import format_options, write_records
from domain.errors import BadInput, IntegrityFailure, LedgerError
from ledger import consistency
from ledger.checkpoint import load_private_key, load_public_key
from ledger.checkpointing import checkpoint_note
from ledger.consistency import Problem
from ledger.signatures import check as check_signatures
from ledger.verify import Verdict
from ledger.verify import verify as verify_ledger
from ledger.view_tables import FACTS, MOVES, STATUS
from projections.collection import paused


def _read(path: str, what: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        why = getattr(error, "strerror", None) or (
            "not UTF-8 text" if isinstance(error, UnicodeDecodeError) else error)
        raise BadInput(f"cannot read {what} {path}: {why}") from None


def _origin(obj: Context, origin: str | None) -> str:
    if origin or os.environ.get("BLOCKLEDGER_ORIGIN"):
        return origin or os.environ["BLOCKLEDGER_ORIGIN"]
    target = obj.target
    if target.postgres:
        settings = target.settings
        return f"blockledger/{settings['POSTGRES_HOST']}/{settings['POSTGRES_DBNAME']}"
    return f"blockledger/{Path(target.settings['SQLITE_DBNAME']).stem}"


#: The views' tables, as their readers name them (``ledger.store_check``; with the views'
#: tracking table).
_VIEW_TABLES = (FACTS, STATUS, MOVES)


class Verification:
    """Everything ``verify`` checks, in order: hashes and chain (with ``--against``, that
    the ledger extends the checkpoint), then what the log implies for everything else
    (``ledger.consistency``: unhashed columns, damage, record times, kept checkpoints,
    views), then every operator's signature."""

    def __init__(self, ledger: Any, *, note: str | None = None, key: Any = None):
        total = ledger.recorder.max_notification_id() or 0
        leaves: list[bytes] = []
        self.problems: list[Problem] = []
        self.signed: Any = None
        # First the database's own check of its structure (``ledger.store_check``): every
        # read goes through its indexes and pages, and a damaged file fails them (exit 4)
        # before they could say why. With a finding, nothing else is read.
        tracking = getattr(ledger.view_store(), "_tracking_table", None)
        store = ledger.recorder.store_check((*_VIEW_TABLES, *([tracking] if tracking else [])))
        #: Why that check did not run (the database has none: PostgreSQL without amcheck,
        #: or a role that may not run it); None where it ran.
        self.unchecked: str | None = store.unchecked
        if store.problems:
            self.problems = [Problem(None, "store", f"the database's own check: {line}")
                             for line in store.problems]
            self.verdict = Verdict(ok=False, events=total, reason=self.problems[0].line())
            return
        with progress(total, "verifying") as advance:
            self.verdict = verify_ledger(ledger, against=note, public_key=key,
                                         progress=advance, leaves=leaves)
        if not self.verdict.ok:
            return
        # Without the cyclic collector, as a rebuild: the pass keeps a batch of facts
        # alive at a time, which the collector otherwise scans again and again (5.3 s
        # against 4.4 s at 100,000 events).
        with progress(total, "checking the log and views") as advance, paused():
            self.problems = consistency.check(ledger, leaves, progress=advance)
        # Signatures are over the hashes the chain holds: checked once those hold.
        with progress(total, "checking signatures") as advance:
            self.signed = check_signatures(ledger, progress=advance)

    @property
    def ok(self) -> bool:
        return (self.verdict.ok and not self.problems and self.signed is not None
                and self.signed.ok)

    @property
    def unaltered(self) -> bool:
        """Whether all holds but the rules between subjects (``ledger.rules_check``): facts
        recorded so against them, nothing altered."""
        return (self.verdict.ok and all(p.part == "rules" for p in self.problems)
                and self.signed is not None and self.signed.ok)

    def failure(self) -> str:
        """The one line that says why verification failed."""
        if not self.verdict.ok and not self.problems:  # (the hashes and chain)
            where = (f" at position {self.verdict.first_bad_position}"
                     if self.verdict.first_bad_position is not None else "")
            return f"verification failed{where}: {self.verdict.reason}"
        if self.problems:
            more = (f" (and {len(self.problems) - 1} more problem"
                    f"{'s' if len(self.problems) > 2 else ''}; --json lists them)"
                    if len(self.problems) > 1 else "")
            return f"verification failed: {self.problems[0].line()}{more}"
        return f"verification failed: hashes and chain intact, but {self.signed.summary()}"

    def to_json(self) -> dict[str, Any]:
        out = self.verdict.to_json()
        out["ok"] = self.ok
        out["problems"] = [problem.to_json() for problem in self.problems]
        if out["first_bad_position"] is None and self.problems:
            out["first_bad_position"] = self.problems[0].position
            out["reason"] = self.problems[0].line()
        out["signatures"] = self.signed.to_json() if self.signed is not None else None
        out["store_checked"] = self.unchecked is None
        return out


@click.command()
@click.option("--against", metavar="FILE", help="Also prove the ledger extends this checkpoint.")
@click.option("--public-key", metavar="PEM", help="The checkpoint must be signed by this key.")
@format_options()
@pass_context
def verify(obj: Context, against: str | None, public_key: str | None, fmt: str) -> None:
    """Recompute every event hash and the chain, check that every column, kept checkpoint
    and view is what the log implies, that facts naming what changed since hold the rules
    between subjects, and every operator's signature; exit 3 if anything does not hold.

    --json prints {"ok", "events", "first_bad_position", "reason", "problems",
    "signatures", "store_checked"}: problems lists what does not hold beyond the hashes and
    chain (position, part: store, events, record-time, checkpoint, views or rules, and
    what; rules: a fact that names another subject and stands against the rules between
    subjects, recorded so, not altered; store
    is the database's own check of its indexes and pages: SQLite's integrity_check,
    PostgreSQL's amcheck where installed and this role may run it, else store_checked is
    false; with a store problem nothing else is checked); signatures counts the signed
    events and lists the positions of each problem: unsigned (after the first operator),
    unknown_key, revoked_key, not_a_recorder, bad_signature, wrong_operator (recorded_by is
    not the signer). --format jsonl prints that object on one line; csv one row: ok,
    events, first_bad_position, reason, problems (how many).

    \b
    Examples:
      blockledger verify
      blockledger verify --against checkpoint-2017.txt --public-key auditor.pub
      blockledger verify --json || alert   # exit 3 altered, 4 store unreachable
    """
    try:
        note = _read(against, "checkpoint") if against else None
        key = load_public_key(public_key) if public_key else None
        with obj.ledger() as ledger:
            checked = Verification(ledger, note=note, key=key)
    except LedgerError as error:
        # A monitoring job reads the JSON on every exit path: the store unreachable (4),
        # the ledger unreadable (3), bad input (2) say so, with ok false and the reason.
        if fmt not in ("json", "jsonl"):
            raise
        from commands.words import in_users_words

        reason = in_users_words(error)
        click.echo(orjson.dumps({"ok": False, "events": None, "first_bad_position": None,
                                 "reason": reason, "problems": [], "signatures": None,
                                 "exit_code": error.exit_code}).decode())
        click.echo(f"error: {reason}", err=True)  # and the one line, as every error
        sys.exit(error.exit_code)
    if fmt in ("json", "jsonl"):
        click.echo(orjson.dumps(checked.to_json()).decode())
    elif fmt == "csv":
        found = checked.to_json()
        write_records([{"ok": found["ok"], "events": found["events"],
                        "first_bad_position": found["first_bad_position"],
                        "reason": found["reason"], "problems": len(found["problems"])}], fmt)
    elif checked.ok:
        extra = f", and it extends the checkpoint {against}" if against else ""
        store = ("the database's own check finds nothing wrong" if checked.unchecked is None
                 else f"the database's indexes are not checked ({checked.unchecked})")
        from projections.terminal import Screen

        click.echo(Screen().wrapped(  # (folded at the terminal's width; piped, one line)
            f"ok: {checked.verdict.events} events, hashes and chain intact{extra}; "
            f"{store}; columns, record times, kept checkpoints and views agree with "
            f"the log, and facts naming what was changed since still hold the rules "
            f"between subjects; "
            f"{checked.signed.summary()}"))
    else:
        click.echo(f"error: {checked.failure()}", err=True)
    if not checked.ok:
        sys.exit(IntegrityFailure.exit_code)


@click.command()
@click.option("--key", metavar="FILE", help="Sign with this Ed25519 private key (PEM); or "
              "set BLOCKLEDGER_SIGNING_KEY.")
@click.option("--origin", help="The log's name in the checkpoint (default: blockledger/<db>; "
              "or set BLOCKLEDGER_ORIGIN).")
@click.option("-o", "--output", metavar="FILE", help="Write the checkpoint to FILE (never over "
              "an existing file without --force, never over the ledger).")
@force_option
@click.option("--list", "list_", is_flag=True, help="List the checkpoints kept in the "
              "ledger, each note as signed (its time in UTC, whatever --tz says).")
@click.option("--no-keep", is_flag=True, help="Keep no copy in the ledger: reads only, so a "
              "read-only auditor role can run it.")
@format_options(default="text")
@pass_context
def checkpoint(obj: Context, key: str | None, origin: str | None, output: str | None,
               list_: bool, no_keep: bool, force: bool, fmt: str) -> None:
    """Write a checkpoint: Merkle root, size, chain head and time, as a signed note.

    Auditors keep it outside the ledger and later run 'verify --against' it. A copy is
    kept in the ledger ('checkpoint --list') unless --no-keep. Refused (exit 3) unless the
    ledger verifies, but for facts recorded against the rules between subjects: those are
    named on stderr, and checkpointed (nothing was altered).

    \b
    Examples:
      blockledger --key alice.pem checkpoint -o checkpoint.txt
      blockledger checkpoint --list
    """
    if list_:
        with obj.ledger() as ledger:
            notes = list(ledger.recorder.select_checkpoints())
        if fmt in ("text", "table"):
            for note in notes:  # (each ends in a newline: the notes one after another, as
                click.echo(note, nl=False)  # `cat` of their files gives them)
            if not notes and sys.stdout.isatty():
                click.echo("no checkpoints kept (blockledger checkpoint writes one)", err=True)
        else:
            write_records([_note_record(note) for note in notes], fmt,
                          ("origin", "size", "root_hash", "note"))
        return
    if fmt != "text":
        raise BadInput("--format is for --list: a checkpoint is written as a signed note",
                       field="format")
    if output:
        check_output(output, force=force, target=obj.target)
    key = key or obj.key_path
    private_key = load_private_key(key) if key else None
    with obj.ledger(write=not no_keep) as ledger:
        # A checkpoint vouches for the history: the ledger must pass all of verify first,
        # but for facts recorded against the rules between subjects. Those are what was
        # recorded; withholding the checkpoint would leave them, and all the rest, without
        # the anchor that proves later that nothing was altered. Said on stderr.
        checked = Verification(ledger)
        if not checked.unaltered:
            raise IntegrityFailure(f"refused: no checkpoint of a ledger that does not verify "
                          f"({checked.failure()})")
        if not checked.ok:
            more = len(checked.problems) - 1
            click.echo(f"warning: {checked.problems[0].line()}"
                       + (f" (and {more} more: 'blockledger verify --json' lists them)"
                          if more else "")
                       + "; checkpointed all the same: nothing was altered", err=True)
        with progress(ledger.recorder.max_notification_id() or 0, "hashing") as advance:
            note = checkpoint_note(ledger, origin=_origin(obj, origin), private_key=private_key,
                               progress=advance, keep=not no_keep)
    if output:
        write_text(output, note, force=force, target=obj.target)
        click.echo(f"checkpoint written to {output}", err=True)
    else:
        click.echo(note, nl=False)


def _note_record(note: str) -> dict[str, Any]:
    """A kept checkpoint as a record: origin, tree size, root hash (the note's first three
    lines, C2SP tlog-checkpoint), and the note itself."""
    lines = note.split("\n")
    size = lines[1] if len(lines) > 1 else ""
    return {"origin": lines[0], "size": int(size) if size.isdigit() else None,
            "root_hash": lines[2] if len(lines) > 2 else None, "note": note}


def register(group: click.Group) -> None:
    """Add the auditors' commands to the ``blockledger`` group."""
    for command in (verify, checkpoint, projections_group):
        group.add_command(command)




@click.group("projections")
def projections_group() -> None:
    """The persisted views (read models): their positions, and rebuilding them."""


@projections_group.command("status")
@format_options()
@pass_context
def projections_status(obj: Context, fmt: str) -> None:
    """Each view's position, its lag behind the ledger, and its rows."""
    from projections.views import Views

    with obj.ledger() as ledger:
        lag = Views(ledger).lag()
    if fmt == "json":
        click.echo(orjson.dumps(lag).decode())
        return
    if fmt != "table":
        write_records([{"view": view, **figures} for view, figures in lag.items()], fmt)
        return
    for view, figures in lag.items():
        click.echo(f"{view:8} position {figures['position']:>9}  lag {figures['lag']:>9}  "
                   f"rows {figures['rows']:>9}")


@projections_group.command("rebuild")
@click.argument("name", required=False, type=click.Choice(["history", "status"]))
@pass_context
def projections_rebuild(obj: Context, name: str | None) -> None:
    """Drop NAME (or every view) and rebuild it from the first event."""
    from projections.views import Views

    with obj.ledger(write=True) as ledger, progress(
            ledger.recorder.max_notification_id() or 0, "rebuilding") as advance:
        Views(ledger).rebuild(name, progress=advance)
    click.echo(f"rebuilt {name or 'history and status'}")
