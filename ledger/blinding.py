"""Index values that reveal nothing: keyed hashes of references, for an encrypted ledger.

With a cipher key, no event content may sit in the database in plaintext, read models
included; yet the views must still find one platform's or one subject's rows through an
index. They index ``blind(value)`` instead of the value: HMAC-SHA-256 under a key derived
from the cipher key (never the cipher key itself), so equal references still meet in the
index and nobody without the key can tell what they are. Without a cipher, ``blind`` is the
identity and the views stay readable with plain SQL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: Domain separation: the index key is HMAC(cipher key, this label).
LABEL = b"blockledger view index v1"


def index_key(cipher_key: str | None) -> bytes | None:
    """The key that blinds index values, derived from the base64 cipher key (or None)."""
    if not cipher_key:
        return None
    import hashlib
    import hmac
    from base64 import b64decode

    return hmac.new(b64decode(cipher_key), LABEL, hashlib.sha256).digest()


def blinder(cipher_key: str | None) -> Callable[[str], str]:
    """``blind(value)``: the identity without a key, else the hex HMAC of the value."""
    key = index_key(cipher_key)
    if key is None:
        return _identity
    import hashlib
    import hmac

    return lambda value: hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def ledger_blinder(ledger: Any) -> Callable[[str], str]:
    """The blinder of an open ``Ledger``: keyed only when its events are encrypted."""
    if ledger.mapper.cipher is None:
        return _identity
    return blinder(ledger.env.get("CIPHER_KEY"))


def _identity(value: str) -> str:
    return value
