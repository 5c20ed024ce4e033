"""Writing a checkpoint: verify the ledger, then sign its Merkle root, size, chain head,
time and platform index root as a note (``ledger.checkpoint``), and keep a copy in the
ledger."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain.errors import Refused
from ledger import platform_index
from ledger.chain import GENESIS
from ledger.checkpoint import Checkpoint, utc_now
from ledger.merkle import root
from ledger.verify import Broken, walk


def checkpoint_note(ledger: Any, *, origin: str, private_key: Any = None,
                    key_name: str | None = None,
                    progress: Callable[[int], None] | None = None, keep: bool = True) -> str:
    """Verify the ledger and write a checkpoint of it: root, size, chain head, time and
    the root of the platform index over the same events (``ledger.platform_index``); with
    ``keep``, a copy goes into the ledger (a read-only auditor passes ``keep=False``).

    Refuses (``Refused``) a ledger that does not verify: a checkpoint vouches for history.
    The chain head is the link of the last verified event, not the head at the end, so a
    write committed meanwhile cannot slip into one of the three and not the others.
    """
    leaves: list[bytes] = []
    positions: list[int] = []
    try:
        walk(ledger, leaves=leaves, on_leaf=lambda position, _: positions.append(position),
             progress=progress)
    except Broken as broken:
        raise Refused(f"refused: the ledger does not verify at position {broken.position}: "
                      f"{broken.reason}") from None
    head = GENESIS
    if leaves:
        [row] = ledger.recorder.select_chain(len(leaves) - 1, 1)
        head = row.chain
    index = platform_index.build(ledger, positions)
    checkpoint = Checkpoint(origin=origin, tree_size=len(leaves), root_hash=root(leaves),
                            chain_head=head, time=utc_now(), index_size=len(index),
                            index_root=root(index))
    note = checkpoint.to_note(private_key, key_name)
    if keep:
        ledger.recorder.insert_checkpoint(len(leaves), note)
    return note
