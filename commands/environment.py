"""The environment variables blockledger reads: the one list. The options that have one
declare it with click's ``envvar=`` (shown in ``--help``); the README's table is checked
against this list (tests/test_commands.py)."""

from __future__ import annotations

#: name -> (the option it stands for, or "", what it sets)
ENVIRONMENT: dict[str, tuple[str, str]] = {
    "BLOCKLEDGER_DB": ("--db", "the ledger: a SQLite file (default ./blockledger.db) or a "
                               "postgresql://user@host:port/dbname URL"),
    "BLOCKLEDGER_OPERATOR": ("--operator", "who records (default: your login name)"),
    "BLOCKLEDGER_SIGNING_KEY": ("--key", "your Ed25519 private key (PEM), which signs what "
                                         "you record, checkpoints and reports"),
    "BLOCKLEDGER_TZ": ("--tz", "the IANA time zone times are shown in (default UTC)"),
    "BLOCKLEDGER_CIPHER_KEY": ("", "the AES-256 key that encrypts the ledger at rest "
                                   "(blockledger key new-cipher makes one; "
                                   "docs/encryption.md)"),
    "BLOCKLEDGER_JURISDICTION": ("--jurisdiction", "init: the ledger's default jurisdiction "
                                                   "(ISO 3166-1 alpha-2 or 3166-2)"),
    "BLOCKLEDGER_ORIGIN": ("--origin", "the origin line of the checkpoints written"),
    "BLOCKLEDGER_BUSY_TIMEOUT": ("", "seconds a SQLite writer waits for another (default "
                                     "30)"),
    "BLOCKLEDGER_CHROMIUM": ("", "the Chromium that prints PDF reports (default "
                                 "/usr/bin/chromium)"),
    "BLOCKLEDGER_JOBS": ("", "processes that make the whole ledger's history as JSON Lines "
                             "(default: the cores free, at most 4; 1: one)"),
}
