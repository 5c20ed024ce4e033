"""PostgreSQL without ceremony: a database that does not exist is created by the first
write (or one line says which createdb to run), a read of one says there is no ledger
there, and a server that cannot be reached is one line and exit 4 at once, not the
library's ten-second "couldn't get a connection"."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.clitools import one_line_error, run
from tests.conftest import PG_SERVER, _admin_connect, pg_available

pytestmark = pytest.mark.postgres


@pytest.fixture
def missing() -> Iterator[str]:
    """The URL of a database that does not exist yet (dropped afterwards if made)."""
    if not pg_available():
        pytest.skip("no PostgreSQL server")
    name = f"bl_missing_{uuid.uuid4().hex[:12]}"
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        with _admin_connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _exists(url: str) -> bool:
    name = url.rsplit("/", 1)[1]
    with _admin_connect() as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                            (name,)).fetchone() is not None


def test_the_first_write_creates_the_database(runner, missing, example):
    result = run(runner, missing, "import", str(example))
    assert result.exit_code == 0, result.output
    assert _exists(missing)
    assert "accessible since 2017-08-10" in run(runner, missing, "status", "telegram").output


def test_a_read_of_a_database_that_does_not_exist_creates_nothing(runner, missing):
    line = one_line_error(run(runner, missing, "status"), 2)
    assert "does not exist" in line and "blockledger init" in line
    assert not _exists(missing)


def test_a_role_that_may_not_create_databases_is_told_what_to_run(runner, missing):
    role = f"bl_nocreate_{uuid.uuid4().hex[:8]}"
    with _admin_connect() as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN NOCREATEDB')
    try:
        url = missing.replace("postgres@", f"{role}@", 1)
        line = one_line_error(run(runner, url, "init"), 4)
        assert "createdb" in line and role in line and "cannot create it" in line
        assert not _exists(missing)
    finally:
        with _admin_connect() as conn:
            conn.execute(f'DROP ROLE IF EXISTS "{role}"')


def test_a_server_that_cannot_be_reached_is_exit_4_naming_it(runner):
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    for command in (("status",), ("init",), ("verify", "--json")):
        result = run(runner, f"postgresql://postgres@127.0.0.1:{port}/ledger", *command)
        assert result.exit_code == 4, result.output
        assert f"cannot connect to PostgreSQL at 127.0.0.1:{port}" in result.output
        assert "couldn't get a connection" not in result.output


@pytest.mark.parametrize(("name", "why"), [
    ("ledger%00other", "control character"), ("ledger%0Aother", "control character"),
    ("x" * 64, "at most 63 bytes"), ("ledger%FF%FE", "not UTF-8"),
    ("ledger?sslmode=require", "parameters after '?'"), ("a%2Fb", "'/'"),
])
def test_a_database_name_that_would_open_another_is_refused(runner, name, why):
    """A NUL would cut the name short, PostgreSQL would truncate a long one to a database
    that exists, and a dropped ?sslmode=require would leave the connection without TLS."""
    line = one_line_error(run(runner, f"{PG_SERVER}/{name}", "status"), 2)
    assert why in line


def test_two_first_writers_both_find_the_database(missing):
    """Racing CREATE DATABASE: the loser sees the database the winner made."""
    import threading

    from ledger import pg_admin
    from ledger.storage import parse_target

    target = parse_target(missing)
    barrier, errors = threading.Barrier(4), []

    def first_writer() -> None:
        barrier.wait()
        try:
            pg_admin.prepare(target, create=True)
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=first_writer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and _exists(missing)


def test_the_createdb_advice_is_quoted_for_the_shell(runner, missing):
    role = "bl no'create"
    with _admin_connect() as conn:
        conn.execute(f"CREATE ROLE \"{role}\" LOGIN NOCREATEDB")
    try:
        url = missing.replace("postgres@", "bl%20no%27create@", 1)
        line = one_line_error(run(runner, url, "init"), 4)
        assert "-U 'bl no'\"'\"'create'" in line
    finally:
        with _admin_connect() as conn:
            conn.execute(f"DROP ROLE IF EXISTS \"{role}\"")
