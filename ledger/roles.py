"""Database roles that may read a ledger but not write it (an auditor's, on PostgreSQL).

Reads never create tables (``CREATE_TABLE=n``) and fall back to replaying the log when the
views cannot be caught up, so a role with SELECT alone reads everything. A write by such a
role fails in the database with SQLSTATE 42501 (insufficient privilege), raised through the
library as its ``ProgrammingError``; ``denied`` finds it, so that the command line can say
which role may not write, in one line. See docs/auditor-role.md.
"""

from __future__ import annotations

#: PostgreSQL's SQLSTATE for "permission denied".
INSUFFICIENT_PRIVILEGE = "42501"


def denied(error: BaseException) -> str | None:
    """The database's reason when ``error`` (or what caused it) is a refused privilege,
    such as "permission denied for table blockledger_events"; None for anything else."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if getattr(current, "sqlstate", None) == INSUFFICIENT_PRIVILEGE:
            text = str(current).strip()
            return text.splitlines()[0] if text else "permission denied"
        current = current.__cause__ or current.__context__
    return None
