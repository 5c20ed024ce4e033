"""Writing a checkpoint: verify the ledger, then sign its Merkle root, size, chain head
and time as a note (``ledger.checkpoint``), and keep a copy in the ledger."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain.errors import Refused
from ledger.chain import GENESIS
from ledger.checkpoint import Checkpoint, utc_now
from ledger.merkle import root
from ledger.verify import Broken, walk


def checkpoint_note(ledger: Any, *, origin: str, private_key: Any = None,
                    key_name: str | None = None,
                    progress: Callable[[int], None] | None = None, keep: bool = True) -> str:
    """Verify the ledger and write a checkpoint of it: root, size, chain head, time; with
    ``keep``, a copy goes into the ledger (a read-only auditor passes ``keep=False``).

    Refuses (``Refused``) a ledger that does not verify: a checkpoint vouches for history.
    """
    leaves: list[bytes] = []
    try:
        walk(ledger, leaves=leaves, progress=progress)
    except Broken as broken:
        raise Refused(f"refused: the ledger does not verify at position {broken.position}: "
                      f"{broken.reason}") from None
    head = ledger.recorder.chain_head()
    checkpoint = Checkpoint(origin=origin, tree_size=len(leaves), root_hash=root(leaves),
                            chain_head=head[2] if head else GENESIS, time=utc_now())
    note = checkpoint.to_note(private_key, key_name)
    if keep:
        ledger.recorder.insert_checkpoint(len(leaves), note)
    return note
