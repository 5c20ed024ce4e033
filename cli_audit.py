"""The auditors' and maintainers' commands: verify, checkpoint, report provenance,
verify-proof, projections.

Registered on the ``blockledger`` group by ``cli``; thin like the rest of the CLI.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click
import orjson

from cli import Context, as_known_at_option, as_of_option, json_option, pass_context, progress
from domain.errors import BadInput
from ledger.checkpoint import load_private_key, load_public_key
from ledger.signatures import check as check_signatures
from ledger.verify import checkpoint_note
from ledger.verify import verify as verify_ledger
from projections.proof import check_report
from projections.provenance import provenance
from projections.report_render import render_html, render_markdown, render_prov


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
@click.option("-o", "--output", metavar="FILE", help="Write the checkpoint to FILE.")
@click.option("--list", "list_", is_flag=True, help="List the checkpoints kept in the ledger.")
@click.option("--no-keep", is_flag=True, help="Keep no copy in the ledger: reads only, so a "
              "read-only auditor role can run it.")
@pass_context
def checkpoint(obj: Context, key: str | None, origin: str | None, output: str | None,
               list_: bool, no_keep: bool) -> None:
    """Write a checkpoint: Merkle root, size, chain head and time, as a signed note.

    Auditors keep it outside the ledger and later run 'verify --against' it. A copy is
    kept in the ledger ('checkpoint --list') unless --no-keep.
    """
    if list_:
        with obj.ledger() as ledger:
            for note in ledger.recorder.select_checkpoints():
                click.echo(note)
        return
    key = key or obj.key_path
    private_key = load_private_key(key) if key else None
    with obj.ledger(write=not no_keep) as ledger, progress(
            ledger.recorder.max_notification_id() or 0, "hashing") as advance:
        note = checkpoint_note(ledger, origin=_origin(obj, origin), private_key=private_key,
                               progress=advance, keep=not no_keep)
    if output:
        Path(output).write_text(note, encoding="utf-8")
        click.echo(f"checkpoint written to {output}", err=True)
    else:
        click.echo(note, nl=False)


@click.group()
def report() -> None:
    """Reports for auditors and courts."""


RENDERERS = {"md": render_markdown, "html": render_html, "prov-json": render_prov}


@report.command("provenance")
@click.argument("subject")
@click.option("--format", "fmt", type=click.Choice(["md", "html", "json", "prov-json"]),
              default="md", show_default=True)
@click.option("-o", "--output", metavar="FILE", help="Write to FILE instead of stdout.")
@click.option("--checkpoint", "checkpoint_file", metavar="FILE",
              help="Cite this checkpoint (default: the latest kept in the ledger).")
@as_of_option
@as_known_at_option
@pass_context
def provenance_report(obj: Context, subject: str, fmt: str, output: str | None,
                      checkpoint_file: str | None, as_of: str | None,
                      as_known_at: str | None) -> None:
    """Every event concerning SUBJECT with its sources, hash and inclusion proof."""
    from cli import parse_when

    note = _read(checkpoint_file, "checkpoint") if checkpoint_file else None
    with obj.ledger() as ledger:
        result = provenance(ledger, subject, as_of=parse_when(as_of, "as-of"),
                            as_known_at=parse_when(as_known_at, "as-known-at"),
                            checkpoint_note=note)
    text = (orjson.dumps(result, option=orjson.OPT_INDENT_2).decode() + "\n" if fmt == "json"
            else RENDERERS[fmt](result))
    if output:
        Path(output).write_text(text, encoding="utf-8")
        click.echo(f"report written to {output}", err=True)
    else:
        click.echo(text, nl=False)


@click.command("verify-proof")
@click.argument("report_file", metavar="REPORT.json")
@click.option("--public-key", metavar="PEM", help="The checkpoint must be signed by this key.")
def verify_proof(report_file: str, public_key: str | None) -> None:
    """Check a JSON provenance report on its own, without any ledger: every event hash and
    inclusion proof against the checkpoint it cites, and the checkpoint's signature."""
    try:
        report_obj: Any = orjson.loads(_read(report_file, "report"))
    except orjson.JSONDecodeError as error:
        raise BadInput(f"{report_file} is not JSON: {error}") from None
    key = load_public_key(public_key) if public_key else None
    checked = check_report(report_obj, key)
    click.echo(f"ok: {checked} events proven against the checkpoint of "
               f"{report_obj['checkpoint']['tree_size']} events"
               + (", signature valid" if key else ", signature not checked (no --public-key)"))


def register(group: click.Group) -> None:
    """Add the auditors' commands to the ``blockledger`` group."""
    for command in (verify, checkpoint, report, verify_proof, projections_group):
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
