"""Where signatures are kept: a table beside the chain, written in the same transaction.

``<events>_signatures`` holds one row per signed event: its ``position``, the ``key_id`` of
the Ed25519 key that signed it and the 64-byte ``signature`` of its event hash
(``ledger.signatures.message``). The recorders sign inside the insert transaction,
because the event hash covers the position, which only the database assigns; the key stays
in the operator's process and never reaches the database.

The same transaction enforces attribution: an event must be signed when an operator event
stands before it in the ledger, so an insert without a signer is refused and rolls back
once any operator is registered (the first ``operator-added`` itself may go unsigned).
Operator events are found through a partial index on their topics, so the check costs one
index probe, however large the ledger.

These mixins hold the SQL for each store; ``ledger.recorders`` mixes them in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import orjson

from domain.errors import BadInput, Refused
from domain.fact import Fact
from domain.operators import Roster, key_bytes, key_id
from domain.subjects import OPERATOR_TOPICS
from ledger.chain import ChainRow


class Signer(Protocol):
    """What the recorders need of a signer: its key's id, and a signature of a hash."""

    key_id: str
    operator: str

    def sign(self, event_hash: bytes) -> bytes: ...


class Unsigned(BadInput):
    """An unsigned write to a ledger that has registered operators."""

    def __init__(self) -> None:
        super().__init__("this ledger has registered operators: every event must be signed "
                         "by one (--operator NAME --key FILE, or BLOCKLEDGER_SIGNING_KEY)",
                         field="key")


_TOPICS_SQL = ", ".join(f"'{topic}'" for topic in OPERATOR_TOPICS)  # constants, no input


def authorize(operator_rows: Sequence[tuple[int, bytes]], rows: Sequence[ChainRow],
              signer: Signer | None, unsigned_error: Exception | None,
              decode: Any) -> list[ChainRow]:
    """Refuse the insert of ``rows`` unless each may be written by ``signer``, judged by
    the operator events before its position (``operator_rows``: every operator event's
    ``(position, stored state)`` in ledger order, this transaction's own included);
    return the rows the signer signs.

    Run inside the insert transaction, after the store's write lock is taken, so what it
    reads cannot change before the commit. Before the first operator event, anyone may
    write, unsigned: a signature there could name no registered key (``verify`` would flag
    it for ever), so none is made, except on the trust anchor itself, which may be signed
    by the key it registers and by no other. From the anchor on, every event needs a
    signer whose key is a registered, unrevoked recorder's, and that recorder is who the
    events are recorded as. New operator events must also keep the rules that span
    operators (``domain.operators.Roster``).
    """
    if not operator_rows and signer is None:
        return []
    roster = Roster()
    first_new = rows[0].position
    pending = iter(sorted(operator_rows))
    nxt = next(pending, None)
    signed: list[ChainRow] = []
    for row in rows:
        while nxt is not None and nxt[0] < row.position:
            _fold(roster, nxt, decode, check=nxt[0] >= first_new)
            nxt = next(pending, None)
        if roster:
            if signer is None:
                raise unsigned_error or Unsigned()
            why = roster.standing(signer.key_id, signer.operator, row.position)
            if why is not None:
                raise Refused(f"refused: {why}")
            signed.append(row)
        elif signer is not None and nxt is not None and nxt[0] == row.position:
            anchor = _fact(nxt, decode)
            if anchor.type == "operator-added":
                registered = key_id(key_bytes(anchor.data.public_key))
                if registered != signer.key_id:
                    raise Refused(f"refused: the trust anchor {anchor.subject!r} is signed by "
                                  f"another key (key id {signer.key_id}) than the one it "
                                  f"registers ({registered}): sign it with that key, or "
                                  "not at all")
                signed.append(row)
    while nxt is not None:  # the batch's own last operator events: their rules
        _fold(roster, nxt, decode, check=nxt[0] >= first_new)
        nxt = next(pending, None)
    return signed


def _fact(row: tuple[int, bytes], decode: Any) -> Fact:
    state = bytes(row[1])
    return Fact.from_stored(orjson.loads(decode(state) if decode else state))


def _fold(roster: Roster, row: tuple[int, bytes], decode: Any, *, check: bool) -> None:
    roster.apply(row[0], _fact(row, decode), check=check)


class SQLiteSignatures:
    """Signatures and operator lookups in a SQLite ledger."""

    signer: Signer | None = None
    #: Why this writer may not write events, found when the ledger was opened (if so).
    unsigned_error: Exception | None = None
    #: The ledger's ``mapper.decode_state`` (decrypts), set by ``ledger.application``.
    decode_state: Any = None
    events_table_name: str
    chain_table_name: str
    datastore: Any

    def signature_statements(self) -> list[str]:
        e = self.events_table_name
        return [
            f"CREATE TABLE IF NOT EXISTS {e}_signatures (position INTEGER PRIMARY KEY, "
            "key_id TEXT NOT NULL, "
            "signature BLOB NOT NULL CHECK (length(signature) = 64))",
            f"CREATE INDEX IF NOT EXISTS {e}_operators ON {e} (topic) "
            f"WHERE topic IN ({_TOPICS_SQL})",
        ]

    def _attribute(self, c: Any, rows: Sequence[ChainRow]) -> None:
        """Authorize ``rows`` against the operators as this transaction sees them
        (``authorize``), then sign them when a signer is set."""
        e = self.events_table_name
        c.execute(f"SELECT rowid, state FROM {e} WHERE topic IN ({_TOPICS_SQL}) "
                  "AND rowid <= ? ORDER BY rowid", (rows[-1].position,))
        signed = authorize([(row[0], row[1]) for row in c.fetchall()], rows, self.signer,
                           self.unsigned_error, self.decode_state)
        if signed:
            kid, sign = self.signer.key_id, self.signer.sign
            c.executemany(f"INSERT INTO {e}_signatures (position, key_id, signature) "
                          "VALUES (?, ?, ?)",
                          [(row.position, kid, sign(row.event_hash)) for row in signed])

    def operator_events(self) -> list[tuple[int, bytes]]:
        """``(position, stored state)`` of every operator event, in ledger order."""
        e = self.events_table_name
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT rowid, state FROM {e} WHERE topic IN ({_TOPICS_SQL}) "
                      "ORDER BY rowid")
            return [(row[0], bytes(row[1])) for row in c.fetchall()]

    def signature_rows(self, after_seq: int, limit: int) -> list[tuple]:
        """``(seq, position, event_hash, key_id, signature, state)`` in chain order, with
        key_id, signature and state None for an unsigned event (state only where signed)."""
        e, t = self.events_table_name, self.chain_table_name
        with self.datastore.transaction(commit=False) as c:
            if not self._has_signatures(c):
                c.execute(f"SELECT seq, position, event_hash, NULL, NULL, NULL FROM {t} "
                          "WHERE seq > ? ORDER BY seq LIMIT ?", (after_seq, limit))
            else:
                c.execute(f"SELECT c.seq, c.position, c.event_hash, s.key_id, s.signature, "
                          f"CASE WHEN s.position IS NULL THEN NULL ELSE e.state END "
                          f"FROM {t} c LEFT JOIN {e}_signatures s ON s.position = c.position "
                          f"LEFT JOIN {e} e ON e.rowid = c.position "
                          "WHERE c.seq > ? ORDER BY c.seq LIMIT ?", (after_seq, limit))
            return [tuple(row) for row in c.fetchall()]

    def signatures_at(self, positions: Sequence[int]) -> dict[int, tuple[str, bytes]]:
        """``position -> (key_id, signature)`` for those of ``positions`` that are signed."""
        e, out = self.events_table_name, {}
        with self.datastore.transaction(commit=False) as c:
            if not self._has_signatures(c):
                return {}
            for i in range(0, len(positions), 500):
                batch = list(positions[i:i + 500])
                c.execute(f"SELECT position, key_id, signature FROM {e}_signatures WHERE "
                          f"position IN ({','.join('?' * len(batch))})", batch)
                out.update((row[0], (row[1], bytes(row[2]))) for row in c.fetchall())
        return out

    def _has_signatures(self, c: Any) -> bool:
        # A ledger last written by an older version may not have the table yet.
        c.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                  (f"{self.events_table_name}_signatures",))
        return c.fetchone() is not None
