"""Encryption at rest: the cipher, its key, and how a ledger is known to be encrypted.

With ``BLOCKLEDGER_CIPHER_KEY`` (base64 of 16, 24 or 32 random bytes) the library's mapper
encrypts every stored event state with AES-GCM, and the views seal their bodies with the
same cipher. The cipher is the eventsourcing library's AES-GCM cipher on the
``cryptography`` package (a dependency of ours already); its bytes, nonce | tag |
ciphertext, are the same as those of ``eventsourcing.cipher:AESCipher`` (pycryptodome), so
either reads what the other wrote.

There is no marker: **the first stored event says whether a ledger is encrypted**. On open
(``check``) it is decrypted with the key, or parsed as the canonical JSON a plaintext
ledger stores. AES-GCM authenticates, so a wrong key never passes for the right one, and
ciphertext begins with a random nonce, which practically never parses as a JSON object. An
empty ledger takes the mode of its first event. Each command checks before it reads or
writes anything, so a ledger never ends up mixed: a key given for a plaintext ledger is
refused, and so is a write without the key to an encrypted one.

Make a key with ``blockledger key new-cipher`` (or ``python -m ledger.encryption``).
"""

from __future__ import annotations

import os
from functools import partial
from typing import Any

import orjson

from domain.errors import BadInput, IntegrityFailure

KEY_VARIABLE = "BLOCKLEDGER_CIPHER_KEY"
#: The cipher, imported by the library only for an encrypted ledger (``ledger.cipher``:
#: its AES code is not loaded by a command on a plaintext one).
CIPHER_TOPIC = "ledger.cipher:LedgerCipher"
#: The AES key sizes, in bytes.
KEY_SIZES = (16, 24, 32)
KEY_BYTES = 32

#: Why a command cannot do without the key, where there is more to say than "to read".
_WHY = {
    "verify": "to recompute event hashes (they cover the events' plaintext)",
    "checkpoint": "to recompute event hashes (they cover the events' plaintext)",
}


class Undecryptable(IntegrityFailure):
    """A stored state that does not decrypt: altered, or encrypted under another key (a
    wrong key is found when the ledger is opened, ``check``; met in a read, it is damage:
    exit 3)."""


def new_key() -> str:
    """A fresh random key (256 bits), base64, for ``BLOCKLEDGER_CIPHER_KEY``."""
    import base64

    return base64.b64encode(os.urandom(KEY_BYTES)).decode("ascii")


def checked_key(text: str | None) -> str | None:
    """The key from ``BLOCKLEDGER_CIPHER_KEY``, or None when unset or empty.

    Refuses (``BadInput``) anything but base64 of 16, 24 or 32 bytes; the message never
    repeats the key.
    """
    if not text:
        return None
    import binascii
    from base64 import b64decode

    try:
        raw = b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) not in KEY_SIZES:
        raise BadInput(f"{KEY_VARIABLE} is not a key: it must be base64 of 16, 24 or 32 "
                       "bytes (make one with 'blockledger key new-cipher')")
    return text.strip()


def settings(key: str | None) -> dict[str, str]:
    """The cipher's settings for the library, blank without a key.

    Blank, not absent: the prefixed keys outrank the plain ones, so a stray ``CIPHER_KEY``
    or ``COMPRESSOR_TOPIC`` in the shell cannot switch encryption (or compression) on.
    """
    return {"CIPHER_TOPIC": CIPHER_TOPIC if key else "", "CIPHER_KEY": key or "",
            "COMPRESSOR_TOPIC": ""}


#: Events ``check`` reads from the start of the ledger.
SAMPLE = 3


def check(ledger: Any, *, command: str = "this command", write: bool = False) -> None:
    """Refuse (``BadInput``) to go on when the key does not fit the ledger.

    Reads the first ``SAMPLE`` stored events: with a key one of them must decrypt, without
    one, one of them must be plaintext. Not only the first: an event altered behind the
    ledger's back (a truncated first event, say) must not pass for encryption or for a
    wrong key, or ``verify`` could not name it. An empty ledger fits either.
    """
    states = [n.state for n in ledger.recorder.select_notifications(
        0, SAMPLE, inclusive_of_start=False)]
    if not states:
        return
    cipher = ledger.mapper.cipher
    if cipher is None:
        if any(map(_is_plaintext, states)):
            return
        why = _WHY.get(command, "to read and write it" if write else "to read it")
        raise BadInput(f"this ledger is encrypted: {command} needs {KEY_VARIABLE} {why}")
    if any(map(partial(_decrypts, cipher), states)):
        return
    if any(map(_is_plaintext, states)):
        raise BadInput(f"this ledger is not encrypted: unset {KEY_VARIABLE} (a key would "
                       "mix encrypted events into it; to encrypt a ledger, copy it: "
                       "blockledger copy --to NEW --to-key-env VAR)")
    raise BadInput(f"{KEY_VARIABLE} is not this ledger's key: its first events do not "
                   "decrypt with it")


def _decrypts(cipher: Any, state: bytes) -> bool:
    try:
        cipher.decrypt(state)
    except Undecryptable:
        return False
    return True


def _is_plaintext(state: bytes) -> bool:
    # A plaintext ledger stores canonical JSON objects; ciphertext starts with a random
    # nonce, which is not even "{" but once in 256 times, and then does not parse.
    if not state.startswith(b"{"):
        return False
    try:
        return isinstance(orjson.loads(state), dict)
    except orjson.JSONDecodeError:
        return False


if __name__ == "__main__":  # pragma: no cover
    print(new_key())
