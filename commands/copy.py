"""``blockledger copy --to TARGET``: the ledger, verifiable as it is, into an empty store.

Registered on the ``blockledger`` group by ``cli``. The work is ``ledger.copying``.
"""

from __future__ import annotations

import os

import click

from commands.context import Context, pass_context, progress
from domain.errors import BadInput, IntegrityFailure
from ledger.copying import copy_ledger
from ledger.encryption import checked_key
from ledger.storage import parse_target


@click.command("copy")
@click.option("--to", "to", required=True, metavar="TARGET",
              help="An empty store: a SQLite file (made if absent) or a postgresql:// URL "
              "to an empty database.")
@click.option("--to-key-env", metavar="VAR",
              help="Encrypt the copy with the key in the environment variable VAR: "
              "encrypts a plaintext ledger, or re-keys an encrypted one.")
@click.option("--to-key", metavar="KEY",
              help="The same, with the key itself (it shows in the process list and the "
              "shell's history: prefer --to-key-env).")
@click.option("--to-plaintext", is_flag=True,
              help="Store the copy unencrypted (an encrypted source is decrypted).")
@pass_context
def copy(obj: Context, to: str, to_key_env: str | None, to_key: str | None,
         to_plaintext: bool) -> None:
    """Copy the ledger to an empty store, with its positions, hashes, chain, signatures and
    kept checkpoints, so that the copy verifies as the source does.

    The source is --db, read with BLOCKLEDGER_CIPHER_KEY if it is encrypted; it must verify
    first. The copy is encrypted as the source is (the same key) unless --to-key-env,
    --to-key or --to-plaintext says otherwise. All or nothing: a failure leaves no new file
    and an empty database. The copy's views are caught up at the end.
    """
    from commands.audit import Verification

    target = parse_target(to, cipher_key=_target_key(to_key_env, to_key, to_plaintext))
    with obj.ledger() as ledger:
        # All of verify, not only the hashes: a copy must not carry damage (a signature
        # removed, a lying kept checkpoint) into a ledger that looks new.
        checked = Verification(ledger)
        if not checked.ok:
            raise IntegrityFailure(f"refused: no copy of a ledger that does not verify "
                                   f"({checked.failure()})")
        with progress(ledger.recorder.max_notification_id() or 0, "copying") as advance:
            copied = copy_ledger(ledger, target, progress=advance)
    if copied.views_warning:
        click.echo(f"warning: copied, but the copy's views did not catch up "
                   f"({copied.views_warning}); its next command will", err=True)
    click.echo(f"copied {copied.events} events, {copied.signatures} signatures, "
               f"{copied.checkpoints} checkpoints from {obj.target} to {target}")


def _target_key(variable: str | None, key: str | None, plaintext: bool) -> str | None:
    """The copy's cipher key: "" for none, None for the source's (BLOCKLEDGER_CIPHER_KEY)."""
    given = [name for name, on in (("--to-key-env", variable is not None),
                                   ("--to-key", key is not None),
                                   ("--to-plaintext", plaintext)) if on]
    if len(given) > 1:
        raise BadInput(f"give one of {' and '.join(given)}: they choose the copy's key "
                       "differently")
    if plaintext:
        return ""
    if key is not None:
        return _checked(key, "--to-key")
    if variable is not None:
        text = os.environ.get(variable)
        if not text:
            raise BadInput(f"--to-key-env {variable}: that environment variable is unset or "
                           f"empty (make a key with 'blockledger key new-cipher')")
        return _checked(text, variable)
    return None


def _checked(text: str, where: str) -> str:
    try:
        found = checked_key(text)
    except BadInput:
        # checked_key names BLOCKLEDGER_CIPHER_KEY; the copy's key came from elsewhere.
        raise BadInput(f"{where} is not a key: it must be base64 of 16, 24 or 32 bytes "
                       "(make one with 'blockledger key new-cipher')") from None
    if found is None:
        raise BadInput(f"{where} is empty: give a key, or --to-plaintext")
    return found


def register(group: click.Group) -> None:
    group.add_command(copy)

