"""A PostgreSQL ledger's database, before the library opens it: reachable, and there.

The library's connection pool retries a connection it cannot make for its whole timeout
(10 s) and then says only "couldn't get a connection". One direct connection first tells
the three cases apart at once:

- the server cannot be reached (refused, unknown host, bad password): ``StoreUnreachable``
  (exit 4), naming the server and the driver's reason;
- the database does not exist: a command that writes creates it (``CREATE DATABASE``, when
  the role may; otherwise one line with the ``createdb`` command to run, exit 4); a
  command that reads says there is no ledger there (``BadInput``, exit 2, as for a SQLite
  file that does not exist);
- it is there: the library opens it as usual.

The probe costs one connection (a few milliseconds on a local server) per command.
"""

from __future__ import annotations

import shlex
from typing import Any

from domain.errors import BadInput, StoreUnreachable

#: Seconds to wait for the server to answer the probe (it answers a refusal at once).
CONNECT_TIMEOUT = 5


def prepare(target: Any, *, create: bool) -> None:
    """Make sure ``target``'s database can be opened (see the module)."""
    import psycopg

    settings = target.settings
    name = settings["POSTGRES_DBNAME"]
    try:
        _connect(settings, name).close()
        return
    except psycopg.OperationalError as error:
        reason = _reason(error)
        if not _missing(settings, name, reason):
            raise StoreUnreachable(f"cannot connect to PostgreSQL at {_server(settings)}: "
                                   f"{reason}") from None
    if not create:
        raise BadInput(f"no ledger at {target}: the database {name!r} does not exist (run "
                       "'blockledger init' or import first)", field="db")
    _create(settings, name)


def _create(settings: dict[str, str], name: str) -> None:
    import psycopg
    from psycopg import sql

    try:
        with _connect(settings, "postgres", autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {0}").format(sql.Identifier(name)))
    except psycopg.Error as error:
        # Two first writers at once: the loser's CREATE fails (DuplicateDatabase, or a
        # unique violation on the catalog when they race), and the database is there.
        if _exists(settings, name):
            return
        user, host, port = (settings["POSTGRES_USER"], settings["POSTGRES_HOST"],
                            settings["POSTGRES_PORT"])
        command = " ".join(shlex.quote(word) for word in
                           ("createdb", "-h", host, "-p", port, "-U", user, name))
        raise StoreUnreachable(
            f"the database {name!r} does not exist and the role {user!r} cannot create it "
            f"({_reason(error)}): run {command} as a role that may") from None


def _missing(settings: dict[str, str], name: str, reason: str) -> bool:
    """Whether a refused connection means the database is not there: the server says so
    (in English), or, whatever its language, the server answers and lists no such
    database."""
    if f'database "{name}" does not exist' in reason:
        return True
    try:
        return not _exists(settings, name)
    except Exception:
        return False


def _exists(settings: dict[str, str], name: str) -> bool:
    with _connect(settings, "postgres") as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                            (name,)).fetchone() is not None


def _connect(settings: dict[str, str], dbname: str, **kwargs: Any) -> Any:
    import psycopg

    return psycopg.connect(host=settings["POSTGRES_HOST"], port=settings["POSTGRES_PORT"],
                           user=settings["POSTGRES_USER"],
                           password=settings["POSTGRES_PASSWORD"] or None, dbname=dbname,
                           connect_timeout=CONNECT_TIMEOUT, **kwargs)


def _server(settings: dict[str, str]) -> str:
    return f"{settings['POSTGRES_HOST']}:{settings['POSTGRES_PORT']}"


def _reason(error: BaseException) -> str:
    """The driver's message in one line, without its "connection failed: connection to
    server at ... failed:" preamble."""
    text = " ".join(str(error).split())
    for marker in ("FATAL: ", "failed: "):
        if marker in text:
            text = text.rsplit(marker, 1)[1]
    return text.strip() or type(error).__name__
