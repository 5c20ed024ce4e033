"""``blockledger --db DB history --format jsonl`` run as a program of its own, with the
whole ledger's history made by two worker processes however small the ledger, and the
command's own first group slowed (``--pause S``; ``--swap OTHER``: first the file at DB
replaced by OTHER): what ``tests/test_history_parallel.py`` signals, kills and swaps
under. Not a test module (no ``test_`` prefix); run by those tests."""

from __future__ import annotations

import os
import sys
import time


def main() -> None:
    from cli import main as cli
    from projections import history, history_parallel, history_stream

    db, pause, swap = sys.argv[1], float(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else ""
    history_parallel.PARALLEL_FROM = 0
    history.PLATFORMS = 1
    os.environ[history_parallel.JOBS_VARIABLE] = "2"
    made = history_stream.group_rows
    calls = []

    def slowed(*args, **kwargs):
        if not calls:
            if swap:
                os.replace(swap, db)
            print("paused", file=sys.stderr, flush=True)
            time.sleep(pause)
        calls.append(1)
        return made(*args, **kwargs)

    history_stream.group_rows = slowed
    sys.argv = ["blockledger", "--db", db, "history", "--format", "jsonl"]
    cli()


if __name__ == "__main__":
    main()
