"""Encryption at rest: with BLOCKLEDGER_CIPHER_KEY no event content sits in the database in
plaintext, and a missing, wrong or unwanted key stops a command in one line."""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import subprocess
import uuid
from contextlib import closing
from pathlib import Path

import orjson
import pytest

from domain.fact import Fact
from ledger import encryption
from ledger.application import open_ledger
from ledger.blinding import ledger_blinder
from ledger.storage import parse_target
from tests.clitools import blockledger, one_line_error, run, run_json
from tests.test_integrity import Store

KEY = encryption.new_key()
OTHER_KEY = encryption.new_key()
OPERATOR = "Operator Wyvern-31"

#: Strings of the events that must never be found in the database of an encrypted ledger:
#: a platform's name, a summary, a source URL, subject references, the operator's name.
SECRETS = [
    "Zephyrgram Quux", "zq-secretgram", "zephyr-quux.example",
    "summary only the key holder may read 4711", "https://secret-source.example/notice-4711",
    OPERATOR,
    # From the bundled 2017 case.
    "Telegram", "telegram", "kominfo-2017-07-14", "telegram-id-2017", "liputan6.com",
    "Sixth and last email asking for channels to be taken down", "Kominfo",
]
WAL_SECRET = "written while the WAL is live 0815"

OWN_EVENTS = [
    ("record", "platform-registered", "zq-secretgram", "--at", "2020-01-01",
     "--source", "https://secret-source.example/notice-4711", "--name", "Zephyrgram Quux",
     "--target", "zephyr-quux.example"),
    ("record", "email-sent", "zq-secretgram", "--at", "2020-02-01",
     "--source", "https://secret-source.example/notice-4711", "--sender", "Ministry",
     "--recipient", "Zephyrgram Quux", "--summary", "summary only the key holder may read 4711"),
]


def use_key(monkeypatch: pytest.MonkeyPatch, key: str | None) -> None:
    """Set (or unset) BLOCKLEDGER_CIPHER_KEY for the commands that follow."""
    if key is None:
        monkeypatch.delenv(encryption.KEY_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(encryption.KEY_VARIABLE, key)


def fill(runner, db: str, example: Path) -> None:
    """The 2017 case and two events of our own, recorded by OPERATOR."""
    result = run(runner, db, "--operator", OPERATOR, "import", str(example))
    assert result.exit_code == 0, result.output
    for step in OWN_EVENTS:
        result = run(runner, db, "--operator", OPERATOR, *step)
        assert result.exit_code == 0, result.output


def count(db: str, key: str | None) -> int:
    with open_ledger(parse_target(db, cipher_key=key or "")) as ledger:
        return ledger.count()


def first_state(db: str) -> bytes:
    store = Store(db)
    [(state,)] = store.sql(f"SELECT state FROM {store.events} ORDER BY {store.pos} LIMIT 1")
    return bytes(state)


def table_contents(db: str) -> dict[str, bytes]:
    """Every table of the ledger's database, its rows as bytes (text as UTF-8, binary raw)."""
    out: dict[str, bytes] = {}
    if db.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(db) as conn:
            tables = [row[0] for row in conn.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'")]
            for table in tables:
                rows = conn.execute(f'SELECT * FROM "{table}"').fetchall()
                out[table] = b"\n".join(_cell(v) for row in rows for v in row)
        return out
    with closing(sqlite3.connect(db)) as conn:
        tables = [row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            rows = conn.execute(f'SELECT * FROM "{table}"').fetchall()
            out[table] = b"\n".join(_cell(v) for row in rows for v in row)
    return out


def _cell(value: object) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return str(value).encode()


def leaks(blobs: dict[str, bytes], secrets: list[str] = SECRETS) -> list[tuple[str, str]]:
    """``(where, secret)`` for each secret found in plaintext (case-sensitive bytes)."""
    return [(where, secret) for where, blob in blobs.items() for secret in secrets
            if secret.encode() in blob]


def files_of(path: str) -> dict[str, bytes]:
    """The SQLite file and its companions (-wal, -shm, -journal), as they are now."""
    base = Path(path)
    return {p.name: p.read_bytes() for p in base.parent.iterdir()
            if p.name.startswith(base.name)}


class TestKey:
    def test_a_new_key_is_256_bits_of_base64(self):
        """python -m ledger.encryption prints a fresh 32-byte key, base64."""
        out = subprocess.run([os.sys.executable, "-m", "ledger.encryption"], check=True,
                             capture_output=True, text=True).stdout.strip()
        assert len(base64.b64decode(out, validate=True)) == 32
        assert out != encryption.new_key()

    @pytest.mark.parametrize("bad", ["not a key!", base64.b64encode(b"ten bytes!").decode(),
                                     "QUJD" * 3 + "="])
    def test_a_malformed_key_is_bad_input_and_never_echoed(self, runner, monkeypatch,
                                                           sqlite_path, bad):
        """A key that is not base64 of 16, 24 or 32 bytes: exit 2, one line, key unsaid."""
        use_key(monkeypatch, bad)
        line = one_line_error(run(runner, sqlite_path, "init"), 2)
        assert "BLOCKLEDGER_CIPHER_KEY is not a key" in line and bad not in line
        assert not Path(sqlite_path).exists()

    def test_the_key_stays_out_of_the_targets_repr(self, sqlite_path):
        """A --debug traceback that shows the target does not show the key."""
        target = parse_target(sqlite_path, cipher_key=KEY)
        assert target.encrypted and KEY not in repr(target) and KEY not in str(target)

    def test_either_library_cipher_reads_what_the_other_wrote(self):
        """Our cipher (cryptography) and eventsourcing.cipher (pycryptodome) share bytes."""
        from eventsourcing.cipher import AESCipher as PyCryptodomeCipher
        from eventsourcing.utils import Environment

        env = Environment(env={"CIPHER_KEY": KEY})
        from ledger.cipher import LedgerCipher

        ours, theirs = LedgerCipher(env), PyCryptodomeCipher(env)
        assert theirs.decrypt(ours.encrypt(b"telegram")) == b"telegram"
        assert ours.decrypt(theirs.encrypt(b"telegram")) == b"telegram"

    def test_stray_plain_cipher_settings_do_not_leak_in(self, runner, monkeypatch,
                                                        sqlite_path, example):
        """CIPHER_KEY, CIPHER_TOPIC or COMPRESSOR_TOPIC in the shell change nothing: only
        BLOCKLEDGER_CIPHER_KEY encrypts."""
        monkeypatch.setenv("CIPHER_KEY", KEY)
        monkeypatch.setenv("CIPHER_TOPIC", "eventsourcing.cipher:AESCipher")
        monkeypatch.setenv("COMPRESSOR_TOPIC", "eventsourcing.compressor:ZlibCompressor")
        assert run(runner, sqlite_path, "import", str(example)).exit_code == 0
        assert orjson.loads(first_state(sqlite_path))["subject"] == "telegram"
        with open_ledger(parse_target(sqlite_path)) as ledger:
            assert ledger.mapper.cipher is None and ledger.mapper.compressor is None
        # And the grep of the tests below finds plaintext where there is some.
        assert ("ledger.db", "liputan6.com") in leaks(files_of(sqlite_path))
        assert ("stored_events", "Kominfo") in leaks(table_contents(sqlite_path))

    def test_the_view_blinder_finds_the_key(self, sqlite_path):
        """ledger.blinding reads the key from the ledger's env: keyed only with a key."""
        with open_ledger(parse_target(sqlite_path, cipher_key=KEY), create=True) as ledger:
            assert ledger.env.get("CIPHER_KEY") == KEY
            assert ledger_blinder(ledger)("telegram") != "telegram"
        with open_ledger(parse_target(sqlite_path, cipher_key="")) as ledger:
            assert ledger_blinder(ledger)("telegram") == "telegram"


@pytest.fixture
def encrypted(runner, monkeypatch, db, example) -> str:
    """A ledger on each store holding the 2017 case and SECRETS, encrypted under KEY."""
    use_key(monkeypatch, KEY)
    fill(runner, db, example)
    return db


class TestAtRest:
    def test_an_encrypted_ledger_answers_like_a_plaintext_one(self, runner, monkeypatch,
                                                              encrypted, tmp_path, example):
        """Status, history, provenance, verify and checkpoints work as without encryption."""
        plain = str(tmp_path / "plain.db")
        use_key(monkeypatch, None)
        fill(runner, plain, example)
        expected = {"status": run_json(runner, plain, "status"),
                    "history": run_json(runner, plain, "history", "telegram")["events"]}
        use_key(monkeypatch, KEY)
        assert run_json(runner, encrypted, "status") == expected["status"]
        history = run_json(runner, encrypted, "history", "telegram")["events"]
        assert _without_times(history) == _without_times(expected["history"])
        assert run(runner, encrypted, "checkpoint", "-o", str(tmp_path / "cp")).exit_code == 0
        result = run(runner, encrypted, "verify", "--against", str(tmp_path / "cp"))
        assert result.exit_code == 0, result.output
        report = json.loads(run(runner, encrypted, "report", "provenance", "zq-secretgram",
                                "--format", "json").stdout)
        assert "summary only the key holder may read 4711" in json.dumps(report)

    def test_export_is_plaintext_and_imports_into_an_encrypted_ledger(self, runner,
                                                                       monkeypatch, encrypted,
                                                                       tmp_path):
        """The key holder exports plaintext lines (hashes as ever); a new ledger under
        another key imports them: the way to re-key, or to encrypt a plaintext ledger."""
        exported = run(runner, encrypted, "export").stdout
        assert "Zephyrgram Quux" in exported
        fresh = str(tmp_path / "rekeyed.db")
        use_key(monkeypatch, OTHER_KEY)
        assert run(runner, fresh, "import", "-", input=exported).exit_code == 0
        assert run(runner, fresh, "verify").exit_code == 0
        assert run_json(runner, fresh, "status", "zq-secretgram")["name"] == "Zephyrgram Quux"
        assert not leaks(files_of(fresh))

    def test_the_chain_checkpoints_and_tracking_tables_hold_no_content(self, runner,
                                                                       encrypted, tmp_path):
        """Beside the events, the library's tracking table, the chain and the checkpoints
        hold only positions, hashes, ids and view names."""
        assert run(runner, encrypted, "checkpoint", "-o", str(tmp_path / "cp")).exit_code == 0
        tables = table_contents(encrypted)
        events = "blockledger_events" if encrypted.startswith("postgresql") else "stored_events"
        tracking = "blockledger_tracking" if encrypted.startswith("postgresql") else "tracking"
        checked = {name: tables[name] for name in (f"{events}_chain", f"{events}_checkpoints",
                                                   tracking, events)}
        assert all(checked.values())  # each has rows: the check is not vacuous
        assert leaks(checked) == []

    def test_no_table_holds_event_content(self, encrypted):
        """Every table of the database, read models included, is free of the events'
        strings (the views index blinded values, ledger.blinding)."""
        assert leaks(table_contents(encrypted)) == []

    def test_the_sqlite_file_and_its_wal_hold_no_content(self, runner, monkeypatch,
                                                         sqlite_path, example):
        """Grepping the SQLite file and its -wal, also while a writer holds the WAL open,
        finds none of the events' strings."""
        use_key(monkeypatch, KEY)
        fill(runner, sqlite_path, example)
        encrypted = sqlite_path
        with open_ledger(parse_target(encrypted, cipher_key=KEY)) as ledger:
            fact = Fact.from_json({
                "id": str(uuid.uuid4()), "type": "statement-issued", "subject": "zq-secretgram",
                "occurred_at": "2020-03-01", "sources": ["https://secret-source.example/x"],
                "data": {"by": "Zephyrgram Quux", "summary": WAL_SECRET}})
            ledger.record([fact], operator=OPERATOR)
            live = files_of(encrypted)
            assert any(name.endswith("-wal") and blob for name, blob in live.items())
            assert leaks(live, [*SECRETS, WAL_SECRET]) == []
        assert leaks(files_of(encrypted), [*SECRETS, WAL_SECRET]) == []


def _without_times(events: list[dict]) -> list[dict]:
    return [{k: v for k, v in e.items() if k not in ("recorded_at", "hash")} for e in events]


#: Every command that opens the ledger, with what it needs besides the key.
COMMANDS = {
    "status": ("status",),
    "history": ("history", "telegram"),
    "report": ("report", "provenance", "telegram"),
    "export": ("export",),
    "checkpoint": ("checkpoint",),
    "projections status": ("projections", "status"),
    "projections rebuild": ("projections", "rebuild"),
    "init": ("init",),
    "record": OWN_EVENTS[0],
    "import": ("import", "-"),
}


class TestWrongKey:
    @pytest.mark.parametrize("command", COMMANDS.values(), ids=COMMANDS.keys())
    def test_without_the_key_every_command_stops_in_one_line(self, runner, monkeypatch,
                                                             encrypted, example, command):
        """No key for an encrypted ledger: exit 2, one line naming the variable, nothing
        written."""
        before = count(encrypted, KEY)
        use_key(monkeypatch, None)
        result = run(runner, encrypted, *command, input=example.read_text())
        line = one_line_error(result, 2)
        assert "this ledger is encrypted" in line and "BLOCKLEDGER_CIPHER_KEY" in line
        assert count(encrypted, KEY) == before

    def test_verify_says_why_it_needs_the_key(self, runner, monkeypatch, encrypted):
        """verify cannot recompute the event hashes without the plaintext, and says so."""
        use_key(monkeypatch, None)
        line = one_line_error(run(runner, encrypted, "verify"), 2)
        assert line == ("error: this ledger is encrypted: verify needs BLOCKLEDGER_CIPHER_KEY "
                        "to recompute event hashes (they cover the events' plaintext)")
        line = one_line_error(run(runner, encrypted, "verify", "--json"), 2)
        assert "recompute event hashes" in line

    @pytest.mark.parametrize("command", [COMMANDS["status"], COMMANDS["record"],
                                         COMMANDS["import"]], ids=["read", "record", "import"])
    def test_a_wrong_key_is_refused(self, runner, monkeypatch, encrypted, example, command):
        """Another key: exit 2, one line, nothing written under it."""
        before = count(encrypted, KEY)
        use_key(monkeypatch, OTHER_KEY)
        line = one_line_error(run(runner, encrypted, *command, input=example.read_text()), 2)
        assert "BLOCKLEDGER_CIPHER_KEY is not this ledger's key" in line
        assert count(encrypted, KEY) == before

    @pytest.mark.parametrize("command", [COMMANDS["status"], COMMANDS["record"],
                                         COMMANDS["import"]], ids=["read", "record", "import"])
    def test_a_key_for_a_plaintext_ledger_is_refused(self, runner, monkeypatch, db, example,
                                                     command):
        """A key given for a plaintext ledger never makes it mixed: exit 2, one line."""
        assert run(runner, db, "import", str(example)).exit_code == 0
        before = count(db, None)
        use_key(monkeypatch, KEY)
        line = one_line_error(run(runner, db, *command, input=example.read_text()), 2)
        assert "this ledger is not encrypted: unset BLOCKLEDGER_CIPHER_KEY" in line
        assert count(db, None) == before
        assert orjson.loads(first_state(db))["subject"] == "telegram"

    def test_an_empty_ledger_takes_the_mode_of_its_first_event(self, runner, monkeypatch,
                                                               sqlite_path, example):
        """'init' with a key marks nothing: the first event decides, and from then on the
        other mode is refused."""
        use_key(monkeypatch, KEY)
        assert run(runner, sqlite_path, "init").exit_code == 0
        use_key(monkeypatch, None)
        assert run(runner, sqlite_path, "status").exit_code == 0
        use_key(monkeypatch, KEY)
        assert run(runner, sqlite_path, "import", str(example)).exit_code == 0
        use_key(monkeypatch, None)
        one_line_error(run(runner, sqlite_path, "status"), 2)

    def test_an_altered_ciphertext_is_one_line_and_found_by_verify(self, runner, monkeypatch,
                                                                   encrypted):
        """A tampered encrypted event fails authentication: a read of the log stops in one
        line (exit 3) and verify names its position."""
        store = Store(encrypted)
        state = bytearray(store.state(9))
        state[-1] ^= 1
        store.set_state(9, bytes(state))
        line = one_line_error(run(runner, encrypted, "export"), 3)
        assert "does not decrypt" in line
        result = run(runner, encrypted, "verify", "--json")
        assert result.exit_code == 3
        out = json.loads(result.stdout)
        assert out["first_bad_position"] == 9 and "altered" in out["reason"]


@pytest.mark.e2e
def test_the_installed_command_takes_the_key_from_the_environment(tmp_path):
    """As an operator runs it: the key in the shell's environment, then without it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLOCKLEDGER_")}
    env.update(BLOCKLEDGER_OPERATOR=OPERATOR, BLOCKLEDGER_DB=str(tmp_path / "e2e.db"))

    def sh(*args: str, key: str | None) -> subprocess.CompletedProcess[str]:
        extra = {encryption.KEY_VARIABLE: key} if key else {}
        return subprocess.run([blockledger(), *args], env={**env, **extra}, cwd=tmp_path,
                              capture_output=True, text=True, timeout=120)

    for step in OWN_EVENTS:
        assert sh(*step, key=KEY).returncode == 0
    assert json.loads(sh("status", "zq-secretgram", "--json", key=KEY).stdout)["state"]
    refused = sh("status", key=None)
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1
    assert refused.stderr.startswith("error: this ledger is encrypted")
    assert not leaks(files_of(str(tmp_path / "e2e.db")))


def test_open_ledger_itself_refuses_a_key_that_does_not_fit(encrypted):
    """Not only the CLI: ``open_ledger``, the entry point of any other caller, refuses a
    missing or wrong key before anything is read or written, and opens with the key."""
    from domain.errors import BadInput

    target = encrypted
    for key, says in (("", "this ledger is encrypted"), (OTHER_KEY, "is not this ledger's key")):
        for create in (False, True):
            with pytest.raises(BadInput, match=says), open_ledger(
                    parse_target(target, cipher_key=key), create=create):
                raise AssertionError("opened")  # pragma: no cover
    assert count(target, KEY) > 0
