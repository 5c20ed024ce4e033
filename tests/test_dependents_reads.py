"""``ledger.dependents.Naming``: the subjects that may name a changed one are read many a
query (``events_of`` of the recorders), in the order the check asks for them, and give the
same facts as one ``select_events`` each (``naming_facts``). On both stores, and on an
encrypted ledger."""

from __future__ import annotations

import pytest

from domain.declaration import REGISTRY
from domain.values import aggregate_id
from ledger.application import open_ledger
from ledger.dependents import Naming, naming_facts
from ledger.encryption import new_key
from ledger.storage import parse_target
from tests.test_dependents import _base, _write


def test_read_many_a_query_the_facts_are_those_read_one_by_one(db, monkeypatch):
    _read_many(db, "", monkeypatch)


def test_an_encrypted_ledger_read_many_a_query(sqlite_path, monkeypatch):
    """(One store is enough: the cipher sits above the recorder.)"""
    _read_many(sqlite_path, new_key(), monkeypatch)


def _read_many(db: str, key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(db, _base(), "call", key=key)
    monkeypatch.setattr(Naming, "READ_AT_ONCE", 2)  # (several chunks, and a partial one)
    with open_ledger(parse_target(db, cipher_key=key)) as ledger:
        from projections.views import Views

        Views(ledger).catch_up()
        queries: list[int] = []
        real = ledger.recorder.events_of

        def events_of(ids):
            ids = list(ids)
            queries.append(len(ids))
            return real(ids)

        monkeypatch.setattr(ledger.recorder, "events_of", events_of)
        naming = Naming(ledger)
        found = naming.candidates("platform", {"foo", "bar"}) | naming.candidates(
            "request", {"foo"}) | naming.candidates("order", {"foo", "bar"})
        assert ("request", "req") in found and ("order", "ob") in found
        types = frozenset(REGISTRY)  # (every fact: each subject gives some)
        for kind, ref in sorted(found):
            many = naming.facts_of(kind, ref, types)
            one = naming_facts(ledger, aggregate_id(kind, ref), types)
            assert [f.id for f in many] == [f.id for f in one] and many, (kind, ref)
            assert [f.to_json() for f in many] == [f.to_json() for f in one]
        assert queries and max(queries) == 2 and sum(queries) == len(found)
        assert naming.facts_of("order", "nope", types) == []  # (never a candidate)
