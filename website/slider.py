"""The slider's status snapshots in chunks, so that a platform's page stays small however
often its status changed: ``SNAPSHOT_CHUNK`` snapshots a chunk, in order of time. The page
carries the chunk that holds "now" (the checkpoint's time); the others are data files
(``snapshots/<platform>/<n>.js``) that the page loads when the slider reaches their days.

What the publisher signs for a platform (``pages.SNAPSHOTS_PREFIX``, bound to the
checkpoint) is its name and the list of chunks, each with the instants of its first
and last snapshot, its length and the SHA-256 of its canonical JSON: the browser checks a
chunk's digest before it shows anything from it, so a chunk file cannot be changed,
swapped or cut, and it picks the chunk for a day from the signed instants alone.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ledger.canonical import canonical
from website.gather import Publication

#: Snapshots in one chunk.
SNAPSHOT_CHUNK = 200


def chunked(pub: Publication, ref: str) -> tuple[list[dict[str, Any]], int,
                                                 list[list[dict[str, Any]]]]:
    """Platform ``ref``'s snapshots as ``(chunks' descriptions, the index of the chunk
    holding now, the chunks)``."""
    snaps = pub.platforms[ref]["snapshots"]
    chunks = [snaps[i:i + SNAPSHOT_CHUNK] for i in range(0, len(snaps), SNAPSHOT_CHUNK)]
    now = int(pub.now.timestamp() * 1000)
    held = max([i for i, chunk in enumerate(chunks) if chunk[0]["ms"] <= now], default=0)
    meta = [{"from": chunk[0]["ms"], "to": chunk[-1]["ms"], "count": len(chunk),
             "digest": hashlib.sha256(canonical(chunk)).hexdigest()} for chunk in chunks]
    return meta, held, chunks


def chunk_path(ref: str, n: int) -> str:
    """Where chunk ``n`` (from 1) of platform ``ref``'s snapshots is written."""
    return f"snapshots/{ref}/{n}.js"


def chunk_files(pub: Publication, ref: str) -> dict[str, str]:
    """The chunk files of platform ``ref`` (all but the one its page carries): data only,
    JSON in ASCII."""
    _, held, chunks = chunked(pub, ref)
    out = {}
    for i, chunk in enumerate(chunks):
        if i == held:
            continue
        key = json.dumps(f"{ref}/{i + 1}")
        text = json.dumps(chunk, ensure_ascii=True, sort_keys=True)
        out[chunk_path(ref, i + 1)] = (
            "/* blockledger: status snapshots, checked by the page against the digest its "
            "publisher signed. Data only. */\n"
            "globalThis.BL_CHUNKS = globalThis.BL_CHUNKS || {};\n"
            f"globalThis.BL_CHUNKS[{key}] = {text};\n")
    return out
