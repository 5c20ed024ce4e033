"""Where a ledger lives: a SQLite file (the default) or a PostgreSQL database.

Everything goes through the eventsourcing library's own persistence modules. The settings
are passed as keys prefixed with the application's name (``BLOCKLEDGER_SQLITE_DBNAME``),
which the library ranks above the plain keys, so a stray ``SQLITE_DBNAME`` or
``PERSISTENCE_MODULE`` in the shell cannot redirect ``--db``.

The cipher key (``BLOCKLEDGER_CIPHER_KEY``) is passed the same way, and the cipher settings
are passed blank when there is none, so that a stray ``CIPHER_KEY`` cannot encrypt a ledger
by accident (``ledger.encryption``).
"""

from __future__ import annotations

import os
import sqlite3
import time
from contextlib import closing
from pathlib import Path
from urllib.parse import unquote, urlsplit

from attrs import field, frozen

from domain.errors import BadInput
from ledger import encryption

DEFAULT_DB = "blockledger.db"
PREFIX = "BLOCKLEDGER_"
#: How long a SQLite writer waits for another one to finish, in seconds, unless
#: ``BLOCKLEDGER_BUSY_TIMEOUT`` says otherwise.
SQLITE_BUSY_TIMEOUT = 30
BUSY_TIMEOUT_VARIABLE = "BLOCKLEDGER_BUSY_TIMEOUT"


def busy_timeout() -> int:
    """The SQLite busy timeout in seconds: ``BLOCKLEDGER_BUSY_TIMEOUT`` if set (whole
    seconds, from 1 to 86,400: the library takes an integer), else ``SQLITE_BUSY_TIMEOUT``."""
    text = os.environ.get(BUSY_TIMEOUT_VARIABLE, "").strip()
    if not text:
        return SQLITE_BUSY_TIMEOUT
    if not (text.isdigit() and 1 <= int(text) <= 86_400):
        raise BadInput(f"{BUSY_TIMEOUT_VARIABLE} is {text[:40]!r}: give the whole seconds a "
                       "SQLite writer waits for another one, from 1 to 86400")
    return int(text)


def settle_wal(database: str, timeout: float) -> None:
    """Put the SQLite file ``database`` in WAL mode, waiting up to ``timeout`` seconds for
    other connections, before the library opens it.

    The library switches every file to WAL as it connects (``PRAGMA journal_mode=WAL``),
    and SQLite answers that switch with "database is locked" at once, without waiting the
    busy timeout, while other connections are opening the same new file: several operators
    starting on a new ledger at one moment (seen in 1 of 30 trials of 8 processes, 16 of
    200 of 8 threads). Here the switch is tried again until it holds or ``timeout``
    passes. WAL mode is kept in the file, so the library then finds it set and switches
    nothing. Any other error (a read-only file, not a database) is left for the library
    to report as it does.
    """
    deadline = time.monotonic() + timeout
    try:
        conn = sqlite3.connect(database, uri=True, timeout=timeout, isolation_level=None)
    except sqlite3.Error:
        return
    with closing(conn):
        while True:
            try:
                if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal":
                    return
                conn.execute("PRAGMA journal_mode=WAL")
            except sqlite3.Error as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    return
                import random

                time.sleep(random.uniform(0.001, 0.02))


@frozen
class Target:
    """A parsed ``--db`` value."""

    text: str
    postgres: bool
    settings: dict[str, str]
    #: The base64 AES key the events are encrypted with, or None (kept out of the repr).
    cipher_key: str | None = field(default=None, repr=False)

    @property
    def encrypted(self) -> bool:
        """Whether events are encrypted at rest (a cipher key is given)."""
        return self.cipher_key is not None

    @property
    def path(self) -> Path | None:
        """The SQLite file, or None for PostgreSQL."""
        return None if self.postgres else Path(self.settings["SQLITE_DBNAME"])

    def exists(self) -> bool:
        """Whether there is a store to read (a PostgreSQL server is assumed to have one)."""
        return self.postgres or self.path.exists()  # type: ignore[union-attr]

    def settle_wal(self) -> None:
        """A SQLite file in WAL mode before the library connects (``settle_wal``); nothing
        for PostgreSQL or an in-memory database."""
        if self.postgres:
            return
        from eventsourcing.sqlite import SQLiteConnectionPool  # a writer's: not for reads

        name = self.settings["SQLITE_DBNAME"]
        if not SQLiteConnectionPool.detect_memory_mode(name):
            settle_wal(name, int(self.settings["SQLITE_LOCK_TIMEOUT"]))

    def env(self, *, create_tables: bool) -> dict[str, str]:
        """The application environment: our settings and the cipher's, each under the
        prefixed key."""
        settings = dict(self.settings, CREATE_TABLE="y" if create_tables else "n",
                        **encryption.settings(self.cipher_key))
        return {PREFIX + key: value for key, value in settings.items()}

    def __str__(self) -> str:
        if not self.postgres:
            return self.text
        parts = urlsplit(self.text)
        return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()  # no password


def parse_target(text: str | None, cipher_key: str | None = None) -> Target:
    """A ``--db`` value (or ``BLOCKLEDGER_DB``): a file path, or a ``postgresql://`` URL.

    ``cipher_key`` defaults to ``BLOCKLEDGER_CIPHER_KEY`` (pass ``""`` for none, whatever
    the environment says); a malformed key is ``BadInput``.
    """
    text = text or os.environ.get("BLOCKLEDGER_DB") or DEFAULT_DB
    key = encryption.checked_key(
        cipher_key if cipher_key is not None else os.environ.get(encryption.KEY_VARIABLE))
    if text.startswith(("postgresql://", "postgres://")):
        return Target(text=text, postgres=True, settings=_postgres(text), cipher_key=key)
    if "://" in text:
        raise BadInput(f"{text!r}: --db takes a file path or a postgresql:// URL", field="db")
    return Target(text=text, postgres=False, cipher_key=key, settings={
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "APPLICATION_RECORDER_TOPIC": "ledger.recorders:ChainedSQLiteApplicationRecorder",
        "SQLITE_DBNAME": text,
        "SQLITE_LOCK_TIMEOUT": str(busy_timeout()),
    })


def _postgres(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    shown = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()  # no password
    if parts.query or parts.fragment:
        # Dropped silently, ?sslmode=require would leave the connection without TLS.
        raise BadInput(f"{shown!r}: parameters after '?' are not taken here; give libpq's "
                       "environment variables instead (PGSSLMODE=require, ...)", field="db")
    try:
        dbname = unquote(parts.path.lstrip("/"), errors="strict")
    except UnicodeDecodeError:
        raise BadInput(f"{shown!r}: the database name is not UTF-8", field="db") from None
    if not dbname:
        raise BadInput(f"{shown!r} names no database: postgresql://user@host:port/dbname",
                       field="db")
    if any(ord(c) < 32 or ord(c) == 127 for c in dbname) or "/" in dbname:
        raise BadInput(f"{shown!r}: the database name holds a control character or '/'",
                       field="db")
    if len(dbname.encode()) > 63:
        # PostgreSQL would cut it to 63 bytes and open another database of that prefix.
        raise BadInput(f"{shown!r}: a PostgreSQL database name is at most 63 bytes",
                       field="db")
    try:
        port = parts.port or 5432
    except ValueError:
        raise BadInput(f"{shown!r} has a bad port", field="db") from None
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "APPLICATION_RECORDER_TOPIC":
            "ledger.recorders_postgres:ChainedPostgresApplicationRecorder",
        "POSTGRES_DBNAME": dbname,
        "POSTGRES_HOST": parts.hostname or "localhost",
        "POSTGRES_PORT": str(port),
        "POSTGRES_USER": unquote(parts.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_CONNECT_TIMEOUT": "10",
        "POSTGRES_LOCK_TIMEOUT": "30",
    }
