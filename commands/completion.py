"""Shell completion of what the ledger holds: platform, order and request references
(from the history view of the ledger ``--db`` names) and event types. Click drives it
(``_BLOCKLEDGER_COMPLETE=bash_source blockledger``; the README says how to install it
for bash, zsh and fish). Completion never fails loudly: a ledger that cannot be read
completes nothing."""

from __future__ import annotations

from typing import Any

import click

#: References offered at most, so that a large ledger still completes at once.
LIMIT = 200


def references(*kinds: str) -> Any:
    """A ``shell_complete`` callback offering the references of ``kinds`` that start with
    what was typed."""
    def complete(ctx: click.Context, _param: click.Parameter,
                 incomplete: str) -> list[str]:
        try:
            return _references(ctx, kinds, incomplete)
        except Exception:
            return []

    return complete


def _references(ctx: click.Context, kinds: tuple[str, ...], incomplete: str) -> list[str]:
    import os

    from ledger.application import open_ledger
    from ledger.storage import parse_target
    from ledger.views import FACTS

    root = ctx.find_root()
    db = root.params.get("db") or ctx.params.get("db") or os.environ.get("BLOCKLEDGER_DB")
    target = parse_target(db)
    if not target.exists() or target.encrypted:
        return []  # an encrypted ledger's view holds keyed hashes, not references
    with open_ledger(target) as ledger:
        store = ledger.view_store()
        mark = "%s" if target.postgres else "?"
        marks = ", ".join([mark] * len(kinds))
        with store.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT DISTINCT subject FROM {FACTS} WHERE kind IN ({marks}) "
                      f"AND subject LIKE {mark} ORDER BY subject LIMIT {LIMIT}",
                      (*kinds, incomplete.replace("%", "").replace("_", r"\_") + "%"))
            rows = c.fetchall()
    return [row["subject"] if not isinstance(row, tuple) else row[0] for row in rows]
