"""The canonical JSON of an event (RFC 8785) and its SHA-256 hash.

Event data holds only strings, booleans, lists and objects with ASCII keys (no floats, no
large integers), for which orjson with sorted keys gives exactly the RFC 8785 bytes; a test
proves the equality against the reference ``rfc8785`` package.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson


def canonical(obj: dict[str, Any]) -> bytes:
    """The RFC 8785 canonical JSON bytes of ``obj``."""
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)


def event_hash(exported: dict[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of an exported event, without its ``hash``."""
    body = {k: v for k, v in exported.items() if k != "hash"}
    return hashlib.sha256(canonical(body)).hexdigest()
