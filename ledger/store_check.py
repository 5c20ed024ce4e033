"""The database's own check of its structure, for ``verify``: what the hashes and the chain
cannot see. The views are read through their indexes (``history`` finds a platform's events
by ``bl_view_history_platform``); an index that lacks a row of its table (a damaged file, or
a copy of the database edited below SQL) hides that event from every read through it, while
``verify``'s own reads of the tables find nothing wrong. Mixed into the chained recorders
(``ledger.recorders``).

- SQLite: ``PRAGMA integrity_check`` (``quick_check`` does not compare an index with its
  table), its findings a line each, at most ``LISTED``. About 3 s of a 1,000,000-event
  ledger. The check is SQLite's own code, in this process: a copy of the file cannot
  change what it does.
- PostgreSQL: amcheck's ``bt_index_check(index, heapallindexed => true)`` of every B-tree
  index of the tables the ledger reads (the events, its chain, checkpoints and signatures
  in the ledger's schema; the views' tables as the readers find them, by ``search_path``),
  when the database has the extension (``CREATE EXTENSION amcheck``, by its owner:
  ``verify`` writes nothing, so it never installs it) and this role may run it. Only
  amcheck's findings of damage (SQLSTATE XX001, XX002) are problems; another error (a
  timeout, a connection lost) is the store's (exit 4). The function called must be
  amcheck's own (C, from its library): one the database defines in its place is a
  problem. The check guards against damage, not against the server's owner, who can make
  any query answer anything (other index kinds unmaintained, a table shadowed in another
  schema): against the owner, keep checkpoints outside and ``verify --against`` them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

#: The most lines of the database's own findings ``verify`` lists.
LISTED = 20


class StoreCheck(NamedTuple):
    """What the database's own check found wrong (a line each), and why it did not run
    (None: it ran)."""

    problems: list[str]
    unchecked: str | None = None


class SQLiteStoreCheck:
    datastore: Any

    def store_check(self, tables: Sequence[str] = ()) -> StoreCheck:
        """What SQLite's ``integrity_check`` finds wrong (in the whole file: ``tables``
        are PostgreSQL's concern)."""
        import sqlite3

        with self.datastore.get_connection(commit=False) as conn:
            cursor = conn._sqlite_conn.cursor()
            cursor.row_factory = None
            try:
                rows = cursor.execute(f"PRAGMA integrity_check({LISTED})").fetchall()
            except sqlite3.DatabaseError as error:  # (a page it cannot even read)
                if getattr(error, "sqlite_errorcode", None) not in _SQLITE_DAMAGE:
                    raise  # (the store's: locked, say)
                return StoreCheck([str(error)])
        # (a finding of a page comes as lines under "*** in database main ***")
        found = [line for row in rows for line in str(row[0]).splitlines()
                 if line.strip() and not line.startswith("*** in database ")]
        return StoreCheck([] if found == ["ok"] else found[:LISTED])


#: SQLite's result codes of a damaged file: SQLITE_CORRUPT, SQLITE_NOTADB.
_SQLITE_DAMAGE = (11, 26)


#: amcheck's findings of damage: data_corrupted, index_corrupted.
_DAMAGE = ("XX001", "XX002")
#: Where amcheck's ``bt_index_check(regclass, boolean)`` is, if it is amcheck's own: a C
#: function of the extension, from its library.
_AMCHECK = ("SELECT n.nspname, l.lanname = 'c' AND p.probin = '$libdir/amcheck', "
            "has_function_privilege(p.oid, 'EXECUTE') "
            "FROM pg_extension e JOIN pg_depend d ON d.refobjid = e.oid AND d.deptype = 'e' "
            "AND d.classid = 'pg_proc'::regclass JOIN pg_proc p ON p.oid = d.objid "
            "JOIN pg_namespace n ON n.oid = p.pronamespace "
            "JOIN pg_language l ON l.oid = p.prolang WHERE e.extname = 'amcheck' "
            "AND p.proname = 'bt_index_check' AND p.pronargs = 2")
#: The B-tree indexes of the tables named (each resolved as a reader resolves it).
_INDEXES = ("SELECT c.oid, c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_am a ON a.oid = c.relam WHERE a.amname = 'btree' AND i.indrelid IN "
            "(SELECT to_regclass(name) FROM unnest(%s::text[]) AS name) ORDER BY c.relname")


class PostgresStoreCheck:
    datastore: Any
    events_table_name: str
    chain_table_name: str
    checkpoints_table_name: str
    _signature_names: Any  # (``ledger.signed_postgres``: the signatures table's name last)

    def store_check(self, tables: Sequence[str] = ()) -> StoreCheck:
        """What amcheck finds wrong in the B-tree indexes of the ledger's tables and of
        ``tables`` (names as the readers give them); not run without amcheck, or where
        this role may not run it."""
        from psycopg import errors
        from psycopg.rows import tuple_row
        from psycopg.sql import SQL, Identifier

        schema = _quoted(self.datastore.schema)
        names = [f"{schema}.{_quoted(name)}" for name in (
            self.events_table_name, self.chain_table_name, self.checkpoints_table_name,
            self._signature_names()[2])]
        names += [_quoted(table) for table in tables]
        found: list[str] = []
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as cur:
            amcheck = cur.execute(_AMCHECK).fetchall()
            indexes = cur.execute(_INDEXES, (names,)).fetchall()
            conn.rollback()
            if not amcheck:
                return StoreCheck([], "amcheck is not installed in this database")
            where, own, allowed = amcheck[0]
            if not own:
                return StoreCheck(["amcheck's bt_index_check is not amcheck's own C function "
                                   "(redefined in the database)"])
            if not allowed:
                return StoreCheck([], "this role may not run amcheck's bt_index_check")
            check = SQL("SELECT {0}.bt_index_check(%s::oid::regclass, true)").format(
                Identifier(where))
            for oid, name in indexes:
                try:
                    cur.execute(check, (oid,))
                except errors.DatabaseError as error:
                    if error.sqlstate not in _DAMAGE:
                        raise  # (the store's: a timeout, a connection lost)
                    found.append(f"index {name}: {str(error).splitlines()[0]}")
                finally:
                    conn.rollback()  # (each index in a transaction of its own)
                if len(found) >= LISTED:
                    break
        return StoreCheck(found)


def _quoted(name: str) -> str:
    """``name`` as a quoted SQL identifier (for ``to_regclass``)."""
    return '"' + name.replace('"', '""') + '"'
