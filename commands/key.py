"""key: keys the ledger needs that are not an operator's (those are 'operator keygen')."""

from __future__ import annotations

import click


@click.group("key")
def key_group() -> None:
    """Make keys: the cipher key that encrypts a ledger at rest."""


@key_group.command("new-cipher")
def new_cipher() -> None:
    """Print a new AES-256 key (base64) for BLOCKLEDGER_CIPHER_KEY.

    Example: export BLOCKLEDGER_CIPHER_KEY=$(blockledger key new-cipher)
    """
    from ledger.encryption import new_key

    click.echo(new_key())


def register(group: click.Group) -> None:
    group.add_command(key_group)
