"""The persisted views' tables (``ledger.views``): their names, their layout, the form of
a kept status row, and the tracking rows' names. Apart, so that the views' reads
(``ledger.view_reads``) and writes (``ledger.views``) share them without importing each
other."""

from __future__ import annotations

from typing import Any

VIEWS = ("history", "status")
FACTS = "bl_view_history"
STATUS = "bl_view_status"
#: Subjects (orders, requests) a correction moved to another platform: each concerns that
#: platform too, with all its events (``domain.concerns``), from the correction's position.
MOVES = "bl_view_moves"

#: The history view's indexes: (name, columns).
_INDEXES = [(f"{FACTS}_platform", "platform, position"),
            (f"{FACTS}_subject", "subject, kind, position")]
_CREATE_INDEXES = [f"CREATE INDEX IF NOT EXISTS {name} ON {FACTS} ({columns})"
                   for name, columns in _INDEXES]
_CREATE = [
    f"CREATE TABLE IF NOT EXISTS {FACTS} (position BIGINT PRIMARY KEY, kind TEXT NOT NULL, "
    "subject TEXT NOT NULL, platform TEXT NOT NULL)",
    *_CREATE_INDEXES,
    f"CREATE TABLE IF NOT EXISTS {STATUS} (platform TEXT PRIMARY KEY, body BYTEA NOT NULL)",
    f"CREATE TABLE IF NOT EXISTS {MOVES} (platform TEXT NOT NULL, kind TEXT NOT NULL, "
    "subject TEXT NOT NULL, position BIGINT NOT NULL, PRIMARY KEY (platform, kind, subject))",
    # where a batch's subjects were moved (``moves_of``); on a ledger written before it,
    # made at its next open for writing (until then the lookup reads the table whole)
    f"CREATE INDEX IF NOT EXISTS {MOVES}_subject ON {MOVES} (subject, kind)",
]
#: The advisory lock key that serializes schema changes (the same as ledger.recorders').
_DDL_LOCK = 0x626C2D64646C  # "bl-ddl"
#: The advisory lock key that makes writers of the views take turns on PostgreSQL.
_VIEWS_LOCK = 0x626C2D7669657773  # "bl-views"
#: Columns only earlier layouts had: the presence of either means the views are rebuilt
#: (they are read models, so dropping them loses nothing). ``body`` was a copy of each
#: event's stored bytes, read now from the events table by position; ``event_id`` indexed
#: each event's id, found now through the hash chain's index of ids.
_OLD_LAYOUT = ("recorded_at", "body", "event_id")


#: The form of a kept status row (``projections.views``: ``{"format", "status",
#: "stale_after"}``, the status as ``projections.status.platform_status`` gives it). Bump
#: it whenever that status changes shape or meaning (tests/test_views.py fingerprints it):
#: rows of another format are read by nobody (reads fold afresh, ``verify`` does not
#: compare them), and the status view's tracking row is named after the format, so the
#: next catch-up rewrites every platform's row. Before formats, a release that added a
#: status field made ``verify`` call every kept row altered.
STATUS_FORMAT = 5  # 3: jurisdictions, orders and observations say theirs; 4: a
# jurisdiction's answer keeps the latest observation of a target and, as status --jurisdiction,
# no request naming no order yet made; 5: the same shape, an observation diverges only from
# the orders that bind where it was made (a regional order is no answer for another
# region), and a penalty counts where its order binds whatever the as-of


def tracking_name(view: str) -> str:
    """The tracking row of a view (the library's tracking table, keyed by name); the
    status view's names its row format (``STATUS_FORMAT``)."""
    if view == "status":
        return f"blockledger-view-status-v{STATUS_FORMAT}"
    return f"blockledger-view-{view}"


def _drop_old_layout(c: Any, tracking: str, param: str) -> None:
    for table in (FACTS, STATUS, MOVES):
        c.execute(f"DROP TABLE IF EXISTS {table}")
    for view in VIEWS:
        c.execute(f"DELETE FROM {tracking} WHERE application_name = {param}",
                  (tracking_name(view),))
