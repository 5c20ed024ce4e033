"""``blockledger operator add|list|revoke``: who may record, as events in the ledger.

Registered on the ``blockledger`` group by ``cli``. ``operator add`` and ``operator revoke``
record ``operator-added`` and ``operator-revoked`` events (``record operator-added`` does
the same from raw options); once an operator exists, they, like every write, must be
signed by a registered recorder (``--operator NAME --key FILE``). The first ``operator add``
of a ledger is its trust anchor and may be unsigned; signed with the new operator's own key
(``--operator alice --key alice.pem``), it proves that its holder registered it.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from commands.context import Context, pass_context
from commands.read import format_options, screen, tz_option, write_records
from domain.errors import BadInput
from domain.fact import Fact
from domain.operators import key_id
from ledger.checkpoint import load_public_key
from ledger.signatures import attribute, operators, public_key_text, raw_public_key

#: The source of an operator event when none is cited: the registration itself.
DEFAULT_SOURCE = "blockledger operator command"


def _fact(kind: str, name: str, at: str | None, sources: tuple[str, ...], note: str | None,
          data: dict[str, Any]) -> Fact:
    obj: dict[str, Any] = {
        "id": str(uuid.uuid4()), "type": kind, "subject": name,
        "occurred_at": at or datetime.now(UTC).replace(microsecond=0).isoformat(),
        "sources": list(sources) or [{"title": DEFAULT_SOURCE}],
        "data": {k: v for k, v in data.items() if v is not None}}
    if note is not None:
        obj["note"] = note
    return Fact.from_json(obj)


def _write(obj: Context, fact: Fact) -> None:
    with obj.ledger(write=True) as ledger:
        attribute(ledger, obj.operator, obj.signing_key())  # refuse before writing anything
        outcome = ledger.record([fact], operator=obj.operator)
    assert outcome.recorded


def _public_key(value: str) -> str:
    """``--public-key``: a PEM file (``openssl pkey -in k.pem -pubout``), as base64 raw."""
    if not Path(value).is_file():
        raise BadInput(f"{value}: no such file (give the operator's Ed25519 public key PEM)",
                       field="public-key")
    return public_key_text(load_public_key(value))


@click.group("operator")
def operator_group() -> None:
    """Who may record: add, list and revoke operators (events in the ledger).

    \b
    Examples:
      blockledger operator keygen alice                 # alice.pem, alice.pub
      blockledger --operator alice --key alice.pem operator add alice --public-key alice.pub
      blockledger operator list
    """


event_options = [
    click.option("--at", metavar="WHEN", help="When it takes effect (default: now)."),
    click.option("--source", "sources", multiple=True, metavar="S",
                 help=f"A citation, e.g. the appointment letter (default: {DEFAULT_SOURCE!r})."),
    click.option("--note", help="A free note on the event."),
]


def _with_event_options(command: Any) -> Any:
    for option in reversed(event_options):
        command = option(command)
    return command


@operator_group.command("add")
@click.argument("name")
@click.option("--public-key", "public_key", required=True, metavar="PEM",
              help="The operator's Ed25519 public key, a PEM file.")
@click.option("--role", type=click.Choice(["recorder", "auditor"]), default="recorder",
              show_default=True, help="Recorders write events; auditors read and check.")
@_with_event_options
@pass_context
def add(obj: Context, name: str, public_key: str, role: str, at: str | None,
        sources: tuple[str, ...], note: str | None) -> None:
    """Register NAME, who signs with the key in PEM, as a recorder or an auditor."""
    fact = _fact("operator-added", name, at, sources, note,
                 {"public_key": _public_key(public_key), "role": role})
    _write(obj, fact)
    click.echo(f"added operator {name} ({role}) {fact.id}")


@operator_group.command("revoke")
@click.argument("name")
@click.option("--reason", help="Why.")
@_with_event_options
@pass_context
def revoke(obj: Context, name: str, reason: str | None, at: str | None,
           sources: tuple[str, ...], note: str | None) -> None:
    """Revoke NAME: its key signs nothing from now on (verify flags what it still signs)."""
    fact = _fact("operator-revoked", name, at, sources, note, {"reason": reason})
    _write(obj, fact)
    click.echo(f"revoked operator {name} {fact.id}")


@operator_group.command("keygen")
@click.argument("name", type=click.Path(dir_okay=False))
def keygen(name: str) -> None:
    """Write a new Ed25519 key pair: NAME.pem (private, PKCS#8 PEM, readable by you only)
    and NAME.pub (public, for 'operator add --public-key'); NAME may end in .pem. Refuses
    to overwrite either.

    Example: blockledger operator keygen alice   # alice.pem and alice.pub
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    base = name[:-4] if name.endswith(".pem") else name
    if not Path(base).name:
        raise BadInput(f"keygen {name!r}: give a name for the key files (NAME.pem, NAME.pub)",
                       field="name")
    private, public = Path(base + ".pem"), Path(base + ".pub")
    path = str(private)
    for file in (private, public):
        if file.exists() or file.is_symlink():
            raise BadInput(f"{file} exists: keygen never overwrites a key", field="name")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    pub = key.public_key().public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    made: list[Path] = []
    try:
        for file, data, mode in ((private, pem, 0o600), (public, pub, 0o644)):
            # Never through a link, never over a file that appeared meanwhile.
            fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
            made.append(file)
            with os.fdopen(fd, "wb") as out:
                out.write(data)
    except OSError as error:
        for file in made:  # no half a key pair left behind
            file.unlink(missing_ok=True)
        raise BadInput(f"cannot write {error.filename or path}: {error.strerror or error}",
                       field="name") from None
    click.echo(f"wrote {private} (keep it secret) and {public} (key id "
               f"{key_id(raw_public_key(key.public_key()))})")


#: ``operator list --format csv``'s columns (README): ``added_at`` and ``revoked_at`` are
#: the positions of the events that added and revoked the operator, each with its valid
#: and record time beside.
OPERATOR_COLUMNS = ("name", "role", "key_id", "public_key", "added_at", "revoked_at",
                    "revoked_reason", "added_occurred_at", "added_recorded_at",
                    "revoked_occurred_at", "revoked_recorded_at")


@operator_group.command("list")
@tz_option
@format_options()
@pass_context
def list_(obj: Context, tz: str | None, fmt: str) -> None:
    """Every operator ever registered: role, key id, and whether it was revoked (the
    table's times in the --tz zone, to the minute)."""
    out = screen(tz)  # the zone is checked whatever the format
    with obj.ledger() as ledger:
        found = sorted(operators(ledger).values(), key=lambda op: op.added_at)
        times = _times(ledger)
    if fmt != "table":
        write_records([{**op.to_json(), **{
            f"{when}_{axis}": times.get(position, {}).get(axis)
            for when, position in (("added", op.added_at), ("revoked", op.revoked_at))
            for axis in ("occurred_at", "recorded_at")}} for op in found], fmt, OPERATOR_COLUMNS)
        return
    if not found:
        click.echo("no operators: anyone may record, unsigned (blockledger operator add)")
        return
    from rich.table import Table
    from rich.text import Text

    from projections.terminal import clean, show_time, zone_name

    def when(position: int | None) -> str:
        if position is None:
            return ""
        at = times.get(position, {})
        return (f"{show_time(at.get('occurred_at'), out.tz) or '?'} (recorded "
                f"{show_time(at.get('recorded_at'), out.tz) or '?'}, #{position})")

    # (the times' zone named once, under the table: in both headers it took 34 of 80
    # columns, and the times folded over four lines)
    table = Table("operator", "role", "key id", "added", "revoked", box=None,
                  caption=f"times in {zone_name(out.tz)}", caption_justify="left")
    for column in table.columns:  # (folded, never cut: a key id or a time cut is lost)
        column.overflow = "fold"
    for op in found:
        table.add_row(*(Text(clean(cell)) for cell in (
            op.name, op.role, op.key_id, when(op.added_at),
            "" if op.revoked_at is None else f"{when(op.revoked_at)} "
            f"({op.revoked_reason or 'no reason given'})")))
    out.console().print(table)


def _times(ledger: Any) -> dict[int, dict[str, str]]:
    """The valid and record time of each operator event, by position."""
    import orjson

    out = {}
    for position, state in ledger.recorder.operator_events():
        obj = orjson.loads(ledger.mapper.decode_state(state))
        out[position] = {"occurred_at": obj.get("occurred_at"),
                         "recorded_at": obj.get("recorded_at")}
    return out


def register(group: click.Group) -> None:
    group.add_command(operator_group)
