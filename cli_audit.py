"""The auditors' and maintainers' commands: verify, checkpoint, projections (the
reports are in ``cli_report``).

Registered on the ``blockledger`` group by ``cli``; thin like the rest of the CLI.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
import orjson

from cli import Context, json_option, pass_context, progress
from cli_output import check_output, force_option, write_text
from domain.errors import BadInput
from ledger.checkpoint import load_private_key, load_public_key
from ledger.checkpointing import checkpoint_note
from ledger.signatures import check as check_signatures
from ledger.verify import verify as verify_ledger


def _read(path: str, what: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise BadInput(f"cannot read {what} {path}: {error.strerror or error}") from None


def _origin(obj: Context, origin: str | None) -> str:
    if origin or os.environ.get("BLOCKLEDGER_ORIGIN"):
        return origin or os.environ["BLOCKLEDGER_ORIGIN"]
    target = obj.target
    if target.postgres:
        settings = target.settings
        return f"blockledger/{settings['POSTGRES_HOST']}/{settings['POSTGRES_DBNAME']}"
    return f"blockledger/{Path(target.settings['SQLITE_DBNAME']).stem}"


@click.command()
@click.option("--against", metavar="FILE", help="Also prove the ledger extends this checkpoint.")
@click.option("--public-key", metavar="PEM", help="The checkpoint must be signed by this key.")
@json_option
@pass_context
def verify(obj: Context, against: str | None, public_key: str | None, as_json: bool) -> None:
    """Recompute every event hash and the chain, and check every operator's signature;
    exit 1 at the first position that breaks, or if any signature is missing or wrong.

    --json prints {"ok", "events", "first_bad_position", "reason", "signatures"}, where
    signatures counts the signed events and lists the positions of each problem: unsigned
    (after the first operator), unknown_key, revoked_key, not_a_recorder, bad_signature,
    wrong_operator (recorded_by is not the signer).
    """
    note = _read(against, "checkpoint") if against else None
    key = load_public_key(public_key) if public_key else None
    with obj.ledger() as ledger:
        total = ledger.recorder.max_notification_id() or 0
        with progress(total, "verifying") as advance:
            verdict = verify_ledger(ledger, against=note, public_key=key, progress=advance)
        signed = None
        if verdict.ok:  # signatures are over the hashes the chain holds: check those first
            with progress(total, "checking signatures") as advance:
                signed = check_signatures(ledger, progress=advance)
    ok = verdict.ok and signed is not None and signed.ok
    if as_json:
        out = verdict.to_json()
        out["ok"] = ok
        out["signatures"] = signed.to_json() if signed is not None else None
        click.echo(orjson.dumps(out).decode())
    elif ok:
        extra = f", and it extends the checkpoint {against}" if against else ""
        click.echo(f"ok: {verdict.events} events, hashes and chain intact{extra}; "
                   f"{signed.summary()}")  # type: ignore[union-attr]
    elif not verdict.ok:
        where = (f" at position {verdict.first_bad_position}"
                 if verdict.first_bad_position is not None else "")
        click.echo(f"error: verification failed{where}: {verdict.reason}", err=True)
    else:
        click.echo(f"error: verification failed: hashes and chain intact, but "
                   f"{signed.summary()}", err=True)  # type: ignore[union-attr]
    if not ok:
        sys.exit(1)


@click.command()
@click.option("--key", metavar="FILE", help="Sign with this Ed25519 private key (PEM); or "
              "set BLOCKLEDGER_SIGNING_KEY.")
@click.option("--origin", help="The log's name in the checkpoint (default: blockledger/<db>; "
              "or set BLOCKLEDGER_ORIGIN).")
@click.option("-o", "--output", metavar="FILE", help="Write the checkpoint to FILE (never over "
              "an existing file without --force, never over the ledger).")
@force_option
@click.option("--list", "list_", is_flag=True, help="List the checkpoints kept in the ledger.")
@click.option("--no-keep", is_flag=True, help="Keep no copy in the ledger: reads only, so a "
              "read-only auditor role can run it.")
@pass_context
def checkpoint(obj: Context, key: str | None, origin: str | None, output: str | None,
               list_: bool, no_keep: bool, force: bool) -> None:
    """Write a checkpoint: Merkle root, size, chain head and time, as a signed note.

    Auditors keep it outside the ledger and later run 'verify --against' it. A copy is
    kept in the ledger ('checkpoint --list') unless --no-keep.
    """
    if list_:
        with obj.ledger() as ledger:
            for note in ledger.recorder.select_checkpoints():
                click.echo(note)
        return
    if output:
        check_output(output, force=force, target=obj.target)
    key = key or obj.key_path
    private_key = load_private_key(key) if key else None
    with obj.ledger(write=not no_keep) as ledger, progress(
            ledger.recorder.max_notification_id() or 0, "hashing") as advance:
        note = checkpoint_note(ledger, origin=_origin(obj, origin), private_key=private_key,
                               progress=advance, keep=not no_keep)
    if output:
        write_text(output, note, force=force, target=obj.target)
        click.echo(f"checkpoint written to {output}", err=True)
    else:
        click.echo(note, nl=False)


def register(group: click.Group) -> None:
    """Add the auditors' commands to the ``blockledger`` group."""
    for command in (verify, checkpoint, projections_group):
        group.add_command(command)




@click.group("projections")
def projections_group() -> None:
    """The persisted views (read models): their positions, and rebuilding them."""


@projections_group.command("status")
@json_option
@pass_context
def projections_status(obj: Context, as_json: bool) -> None:
    """Each view's position, its lag behind the ledger, and its rows."""
    from projections.views import Views

    with obj.ledger() as ledger:
        lag = Views(ledger).lag()
    if as_json:
        click.echo(orjson.dumps(lag).decode())
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
