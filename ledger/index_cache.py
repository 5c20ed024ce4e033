"""The platform index of the latest kept checkpoint, kept beside it, so that a provenance
report reads only its subject's events instead of folding the whole log again (a
platform's from any index version; an order's or a request's from version 2, whose
leaves name them; and, from version 3, the ledger's settings that a report for one
jurisdiction proves: ``ledger.platform_index``).

**A cache, not evidence.** The signed note commits to the index's size and root; the leaves
kept here are used only when they give exactly that size and root (``load`` and its
caller, ``projections.evidence``), so an edited,
swapped or stale copy can never change a report: it is not used, the report folds the
index from the log as it would without it, and ``verify`` names it (``problem``). Deleting
it changes no answer either, only the time a report takes.

**What is kept.** One row, for the kept checkpoint of the largest tree: its tree size and
its leaves, grouped by name (``encode``), compressed with zlib,
and encrypted with the ledger's cipher when the ledger is encrypted (the leaves name the
platforms, which an encrypted ledger keeps secret). Keeping only the latest bounds the
store (a ledger checkpointed daily would otherwise keep a copy of its index per day); a
report that cites an older checkpoint folds the log.

The table is created when the first index is kept, so ledgers made before it, and
read-only openers, simply find no cache. ``copy`` does not carry it (under a new cipher
key it would have to be re-encrypted): a copy's reports fold the log until its next
checkpoint.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from itertools import groupby
from typing import Any

from ledger.checkpoint import Checkpoint
from ledger.merkle import root

#: The table's name: the events table's, with this suffix.
SUFFIX = "_platform_index"


def encode(leaves: Sequence[bytes]) -> bytes:
    """The sorted ``leaves``, compressed: per name, its UTF-8 length (2 bytes), the name,
    its number of positions (4 bytes), then the positions (8 bytes each, big-endian, as
    in the leaves), so that ``decode`` rebuilds each leaf by slicing."""
    out = bytearray()
    for name, group in groupby(leaves, key=lambda data: data[:-9]):
        positions = [data[-8:] for data in group]
        out += len(name).to_bytes(2, "big") + name + len(positions).to_bytes(4, "big")
        out += b"".join(positions)
    return zlib.compress(bytes(out), 6)


def decode(blob: bytes) -> list[bytes]:
    """The sorted leaves of an ``encode`` d blob (``ValueError`` if it is not one)."""
    try:
        raw = zlib.decompress(blob)
    except zlib.error as error:
        raise ValueError(f"not a kept platform index ({error})") from None
    leaves: list[bytes] = []
    at = 0
    while at < len(raw):
        size = int.from_bytes(raw[at:at + 2], "big")
        name = raw[at + 2:at + 2 + size]
        count = int.from_bytes(raw[at + 2 + size:at + 6 + size], "big")
        start, at = at + 6 + size, at + 6 + size + 8 * count
        if not name or b"\x00" in name or at > len(raw):
            raise ValueError("not a kept platform index")
        prefix = name + b"\x00"
        leaves += [prefix + raw[i:i + 8] for i in range(start, at, 8)]
    return leaves  # in the order kept: the signed root they must give binds the order


def keep(ledger: Any, tree_size: int, leaves: Sequence[bytes]) -> None:
    """Keep ``leaves`` as the index of the kept checkpoint of ``tree_size`` events,
    replacing any index kept before, unless one of a larger tree is kept already."""
    blob = encode(leaves)
    cipher = ledger.mapper.cipher
    if cipher:
        blob = cipher.encrypt(blob)
    recorder = ledger.recorder
    table = _table(ledger)
    if ledger.target.postgres:
        create = (f"CREATE TABLE IF NOT EXISTS {table} (tree_size bigint PRIMARY KEY, "
                  "leaves bytea NOT NULL)")
        select, delete = (f"SELECT max(tree_size) AS n FROM {table}",
                          f"DELETE FROM {table}")
        insert = f"INSERT INTO {table} (tree_size, leaves) VALUES (%s, %s)"
    else:
        create = (f"CREATE TABLE IF NOT EXISTS {table} (tree_size INTEGER PRIMARY KEY, "
                  "leaves BLOB NOT NULL)")
        select, delete = (f"SELECT max(tree_size) AS n FROM {table}",
                          f"DELETE FROM {table}")
        insert = f"INSERT INTO {table} (tree_size, leaves) VALUES (?, ?)"
    with recorder.datastore.transaction(commit=True) as c:
        c.execute(create)
        c.execute(select)
        row = c.fetchone()
        kept = row["n"] if row is not None else None
        if kept is not None and kept > tree_size:
            return
        c.execute(delete)
        c.execute(insert, (tree_size, blob))


def kept(ledger: Any) -> tuple[int, bytes] | None:
    """``(tree size, leaves blob)`` as stored (decrypted), or None when none is kept (or
    the table is not there, or this opener may not read it)."""
    table = _table(ledger)
    try:
        with ledger.recorder.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT tree_size, leaves FROM {table} ORDER BY tree_size DESC LIMIT 1")
            row = c.fetchone()
    except Exception as error:  # no such table, or no right to read it: no cache
        if not _missing(error):
            raise
        return None
    if row is None:
        return None
    blob = row["leaves"]
    if not isinstance(blob, bytes | bytearray | memoryview):
        return int(row["tree_size"]), b""  # edited outside the ledger: unusable
    blob = bytes(blob)
    cipher = ledger.mapper.cipher
    if cipher:
        try:
            blob = cipher.decrypt(blob)
        except Exception:  # edited ciphertext: unusable, and verify names it
            return int(row["tree_size"]), b""
    return int(row["tree_size"]), blob


def kept_size(ledger: Any) -> int | None:
    """The tree size of the index kept, without reading it; None when none is kept."""
    table = _table(ledger)
    try:
        with ledger.recorder.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT max(tree_size) AS n FROM {table}")
            row = c.fetchone()
    except Exception as error:
        if not _missing(error):
            raise
        return None
    return None if row is None or row["n"] is None else int(row["n"])


def load(ledger: Any, checkpoint: Checkpoint) -> list[bytes] | None:
    """The kept leaves of ``checkpoint``'s platform index, if kept for its tree size and
    as many as it signed; else None. The caller checks that they give its signed root
    (it builds their tree anyway, for the proofs) and folds the log when they do not."""
    found = kept(ledger)
    if found is None or found[0] != checkpoint.tree_size or checkpoint.index_root is None:
        return None
    try:
        leaves = decode(found[1])
    except ValueError:
        return None
    return leaves if len(leaves) == checkpoint.index_size else None


def problem(ledger: Any, notes: Sequence[Checkpoint]) -> str | None:
    """Why the kept index is not that of a kept checkpoint of its tree size, or None
    (none kept is no problem: it is only a cache)."""
    found = kept(ledger)
    if found is None:
        return None
    size, blob = found
    signed = [cp for cp in notes if cp.tree_size == size and cp.index_root is not None]
    if not signed:
        return (f"the platform index kept for {size} events belongs to no kept checkpoint "
                "of that size")
    try:
        leaves = decode(blob)
    except ValueError as error:
        return f"the platform index kept for {size} events is damaged: {error}"
    if not any(len(leaves) == cp.index_size and root(leaves) == cp.index_root
               for cp in signed):
        return (f"the platform index kept for {size} events does not give the signed "
                "index root of the checkpoint: it was altered")
    return None


def _table(ledger: Any) -> str:
    recorder = ledger.recorder
    name = f"{recorder.events_table_name}{SUFFIX}"
    if ledger.target.postgres:
        return f'"{recorder.datastore.schema}"."{name}"'
    return name


def _missing(error: BaseException) -> bool:
    """Whether ``error`` says the table is not there or may not be read."""
    text = str(error).lower()
    return ("no such table" in text or "does not exist" in text
            or "permission denied" in text)
