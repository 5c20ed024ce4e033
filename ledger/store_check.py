"""The database's own check of its structure, for ``verify``: what the hashes and the chain
cannot see. The views are read through their indexes (``history`` finds a platform's events
by ``bl_view_history_platform``); an index that lacks a row of its table (a copy of the
database edited below SQL, or a damaged file) hides that event from every read through it,
while ``verify``, which reads the tables, finds nothing wrong. Mixed into the chained
recorders (``ledger.recorders``).

- SQLite: ``PRAGMA integrity_check`` (``quick_check`` does not compare an index with its
  table), at most ``LISTED`` lines. About 3 s of a 1,000,000-event ledger.
- PostgreSQL: amcheck's ``bt_index_check(index, heapallindexed => true)`` of every B-tree
  index in the ledger's schema, when the database has the extension (``CREATE EXTENSION
  amcheck``, by its owner: ``verify`` writes nothing, so it never installs it); without it,
  nothing is checked here, and ``verify`` says so.
"""

from __future__ import annotations

from typing import Any

#: The most lines of the database's own findings ``verify`` lists.
LISTED = 20
#: What ``store_problems`` gives when the database has no such check (PostgreSQL without
#: amcheck): not a problem, said once in ``verify``'s output.
UNCHECKED = "amcheck is not installed in this database"


class SQLiteStoreCheck:
    datastore: Any

    def store_problems(self) -> list[str] | None:
        """What SQLite's ``integrity_check`` finds wrong (none: an empty list)."""
        with self.datastore.get_connection(commit=False) as conn:
            cursor = conn._sqlite_conn.cursor()
            cursor.row_factory = None
            found = [row[0] for row in cursor.execute(f"PRAGMA integrity_check({LISTED})")]
        return [] if found == ["ok"] else found


class PostgresStoreCheck:
    datastore: Any

    def store_problems(self) -> list[str] | None:
        """What amcheck finds wrong in the B-tree indexes of the ledger's schema (none: an
        empty list); None without the extension."""
        from psycopg import errors
        from psycopg.rows import tuple_row
        from psycopg.sql import SQL, Identifier

        found: list[str] = []
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as cur:
            row = cur.execute("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON "
                              "n.oid = e.extnamespace WHERE e.extname = 'amcheck'").fetchone()
            conn.commit()
            if row is None:
                return None
            check = SQL("SELECT {0}.bt_index_check(%s::oid, true)").format(Identifier(row[0]))
            indexes = cur.execute(
                "SELECT c.oid, c.relname FROM pg_index i JOIN pg_class c ON c.oid = "
                "i.indexrelid JOIN pg_am a ON a.oid = c.relam JOIN pg_namespace n ON n.oid = "
                "c.relnamespace WHERE a.amname = 'btree' AND n.nspname = %s AND "
                "i.indisvalid ORDER BY c.relname", (self.datastore.schema,)).fetchall()
            conn.commit()
            for oid, name in indexes:
                try:
                    cur.execute(check, (oid,))
                except errors.DatabaseError as error:
                    found.append(f"index {name}: {str(error).splitlines()[0]}")
                conn.rollback()  # (each index in a transaction of its own)
                if len(found) >= LISTED:
                    break
        return found
