"""verify checks whole batches at once and walks a batch row by row only when it fails:
each tampering must be named exactly as the plain row-by-row walk names it, wherever it
falls against the batch boundaries, on each store."""

from __future__ import annotations

import hashlib

import pytest

import ledger.verify as verify_module
from ledger.application import open_ledger
from ledger.canonical import hash_stored, hash_stored_many
from ledger.chain import GENESIS
from ledger.storage import parse_target
from ledger.verify import verify
from tests.clitools import run
from tests.test_integrity import Store

EVENTS = 33  # examples/telegram-indonesia-2017.jsonl


def reference(db: str) -> tuple[int | None, str | None]:
    """The row-by-row walk as verify did it before batches: (first bad position, reason)."""
    with open_ledger(parse_target(db)) as ledger:
        recorder = ledger.recorder
        unchained = recorder.first_unchained_position()
        rows, seq_after = [], 0
        while batch := recorder.verification_rows(seq_after, 7):
            rows += batch
            seq_after = batch[-1][0]
        prev, seq, last = GENESIS, 0, 0
        for link_seq, position, recorded, chain, state in rows:
            if unchained is not None and unchained < position:
                break
            if link_seq != seq + 1:
                return last + 1, (f"the event after position {last} and its chain entry "
                                  f"{seq + 1} are missing (deleted)")
            if position <= last:
                return position, f"chain entry {link_seq} is out of order (reordered)"
            if state is None:
                return position, f"event at position {position} is missing (deleted)"
            try:
                hashed = hash_stored(bytes(state), position)
            except Exception as error:
                return position, (f"event at position {position} cannot be read "
                                  f"(altered): {error}")
            if hashed != bytes(recorded):
                return position, (f"event at position {position} does not match its "
                                  "recorded hash (altered or moved)")
            prev = hashlib.sha256(prev + hashed).digest()
            if prev != bytes(chain):
                return position, (f"the chain breaks at position {position} (the chain "
                                  "itself was edited)")
            seq, last = link_seq, position
        if unchained is not None:
            return unchained, (f"event at position {unchained} has no chain entry "
                               "(inserted outside the ledger)")
        return None, None


def renumber(store: Store) -> None:
    """Give the chain rows seqs 1..N again, in position order (after a link is removed)."""
    rows = store.sql(f"SELECT seq FROM {store.chain} ORDER BY seq")
    store.sql(f"UPDATE {store.chain} SET seq = -seq")
    for new, (old,) in enumerate(rows, start=1):
        store.sql(f"UPDATE {store.chain} SET seq = ? WHERE seq = ?", (new, -old))


def forge(store: Store, like: int) -> None:
    [(originator, version, topic)] = store.sql(
        f"SELECT originator_id, originator_version, topic FROM {store.events} "
        f"WHERE {store.pos} = ?", (like,))
    store.sql(f"INSERT INTO {store.events} (originator_id, originator_version, topic, state) "
              "VALUES (?, ?, ?, ?)", (originator, version + 1000, topic, store.state(like)))


def unmarked(store: Store, p: int) -> None:
    """The recorded_at key renamed, and every hash and link rewritten to match."""
    store.set_state(p, store.state(p).replace(b',"recorded_at":', b',"recorded_on":'))
    rows = store.sql(f"SELECT {store.pos}, state FROM {store.events} ORDER BY {store.pos}")
    prev = GENESIS
    for position, state in rows:
        state = bytes(state)
        at = state.find(b',"recorded_at":')
        hashed = hashlib.sha256(state if at < 0 else b'%b,"position":%d%b' % (
            state[:at], position, state[at:])).digest()
        prev = hashlib.sha256(prev + hashed).digest()
        store.sql(f"UPDATE {store.chain} SET event_hash = ?, chain = ? WHERE position = ?",
                  (hashed, prev, position))


TAMPERINGS = {
    "intact": lambda s, p: None,
    "changed byte": lambda s, p: s.set_state(p, s.state(p).replace(b'"tester"', b'"testes"')),
    "garbled": lambda s, p: s.set_state(p, s.state(p)[:-5]),
    "no recorded_at, hashes rewritten": unmarked,
    "event deleted": lambda s, p: s.delete(p),
    "event and link deleted": lambda s, p: s.delete(p, chain_too=True),
    "link deleted, event left unchained": lambda s, p: s.sql(
        f"DELETE FROM {s.chain} WHERE position = ?", (p,)),
    "unchained event appended": lambda s, p: forge(s, p),
    "swapped with the next": lambda s, p: (
        (a := s.state(p), b := s.state(p + 1), s.set_state(p, b), s.set_state(p + 1, a))),
    "recorded hash edited": lambda s, p: s.sql(
        f"UPDATE {s.chain} SET event_hash = ? WHERE position = ?", (b"\1" * 32, p)),
    "link edited": lambda s, p: s.sql(
        f"UPDATE {s.chain} SET chain = ? WHERE position = ?", (b"\2" * 32, p)),
    "gap in positions, chain rewritten": lambda s, p: (
        s.delete(p, chain_too=True), renumber(s), s.rechain()),
    "second recorded_at inside the data, chain rewritten": lambda s, p: (
        s.set_state(p, s.state(p).replace(b'{"data":{', b'{"data":{"x":{"recorded_at":2},', 1)),
        s.rechain()),
}


@pytest.mark.parametrize("tampering", list(TAMPERINGS))
def test_batches_name_what_the_row_walk_names(runner, db, monkeypatch, tampering):
    assert run(runner, db, "import", "examples/telegram-indonesia-2017.jsonl").exit_code == 0
    store = Store(db)
    # At and around the boundaries of batches of 4 and 5, from the end backwards: each
    # tampering comes before the ones already made, which stay.
    for p in (EVENTS - 1, 12, 10, 5, 4, 1):
        TAMPERINGS[tampering](store, p)
        expected = reference(db)
        for batch in (4, 5, verify_module.BATCH):
            monkeypatch.setattr(verify_module, "BATCH", batch)
            with open_ledger(parse_target(db)) as ledger:
                verdict = verify(ledger)
            assert (verdict.first_bad_position, verdict.reason) == expected, (p, batch)
            assert verdict.ok is (expected == (None, None))


def test_a_shifted_chain_verifies_in_whole_batches(runner, sqlite_path, monkeypatch):
    """Positions seq + 1 throughout (the first event and link gone, the rest renumbered and
    rechained): every batch after the first is taken whole at the new offset."""
    assert run(runner, sqlite_path, "import",
               "examples/telegram-indonesia-2017.jsonl").exit_code == 0
    store = Store(sqlite_path)
    store.delete(1, chain_too=True)
    renumber(store)
    store.rechain()
    monkeypatch.setattr(verify_module, "BATCH", 4)
    calls = []
    with open_ledger(parse_target(sqlite_path)) as ledger:
        recorder = ledger.recorder
        original = recorder.verification_rows
        monkeypatch.setattr(recorder, "verification_rows",
                            lambda *a: calls.append(a) or original(*a))
        leaves: list[tuple[int, bytes]] = []
        verdict = verify_module.walk(ledger, on_leaf=lambda p, h: leaves.append((p, h)))
    assert verdict == EVENTS - 1 and [p for p, _ in leaves] == list(range(2, EVENTS + 1))
    assert reference(sqlite_path) == (None, None)
    # The first batch found the offset; then whole batches, and one read past the head.
    assert calls == [(0, 4), (EVENTS - 1, 4)]


def test_hash_stored_many_is_hash_stored(runner, db):
    assert run(runner, db, "import", "examples/telegram-indonesia-2017.jsonl").exit_code == 0
    store = Store(db)
    states = [store.state(p) for p in range(1, EVENTS + 1)]
    positions = list(range(1, EVENTS + 1))
    assert hash_stored_many(states, positions) == tuple(map(hash_stored, states, positions))
    doubled = states[3].replace(b'{"data":{', b'{"data":{"a":{"recorded_at":1},', 1)
    assert hash_stored_many([doubled], [4]) == (hash_stored(doubled, 4),)
    assert hash_stored_many([*states[:5], states[5].replace(b'"recorded_at"', b'"recorded"')],
                            positions[:6]) is None
    with pytest.raises(TypeError):
        hash_stored_many([states[0].decode()], [1])
