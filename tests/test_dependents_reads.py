"""``ledger.dependents.Naming``: the subjects that may name a changed one are read many a
query (``events_of`` of the recorders), in the order the check asks for them, and give the
same facts as one ``select_events`` each (``naming_facts``). On both stores, and on an
encrypted ledger."""

from __future__ import annotations

import pytest

from domain.declaration import REGISTRY
from domain.dependents import named
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
        types = frozenset(REGISTRY)  # (every fact that names something)
        given = 0
        for kind, ref in sorted(found):
            many = naming.facts_of(kind, ref, types)
            one = naming_facts(ledger, aggregate_id(kind, ref), types)
            assert [f.id for f in many] == [f.id for f in one], (kind, ref)
            assert [f.to_json() for f in many] == [f.to_json() for f in one]
            assert all(named(f) or f.type in ("correction", "retraction") for f in many)
            given += bool(many)
        assert given >= 3  # (an order's, a request's, a platform's fines)
        assert queries and max(queries) == 2 and sum(queries) == len(found)
        assert naming.facts_of("order", "nope", types) == []  # (never a candidate)


def test_an_order_as_the_rules_read_it_is_the_order_as_the_ledger_holds_it(db):
    """``verify``'s rules part reads an order from its creating event and the amendments
    of it alone (``Naming.order``): what the rules between subjects read of it (its
    state's ``created``, ``platforms``, ``jurisdiction``) is what the whole order gives,
    amended, re-amended, or not."""
    from tests.test_dependents import _amend

    _write(db, [*_base(),
                _amend("c1", "correction", "ob", "ob", "2020-02-01",
                       set={"occurred_at": "2020-01-20"}),
                _amend("c2", "correction", "onet", "onet", "2020-02-01",
                       set={"occurred_at": "2020-01-25"}),
                _amend("r2", "retraction", "onet", "c2", "2020-02-01")], "call")
    with open_ledger(parse_target(db)) as ledger:
        from projections.views import Views

        Views(ledger).catch_up()
        naming = Naming(ledger)
        orders = {ref for kind, ref in naming.candidates("order", {"foo", "bar"})}
        assert {"ob", "onet"} <= orders
        for ref in [*sorted(orders), "nope"]:
            whole, light = ledger.subject("order", ref), naming.order(ref)
            assert (whole is None) == (light is None), ref
            if whole is None:
                continue
            for name in ("created", "platforms", "jurisdiction"):
                got = getattr(light.state(), name)
                want = getattr(whole.state(), name)
                assert got == want, (ref, name, got, want)
