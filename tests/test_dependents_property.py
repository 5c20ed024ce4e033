"""The rules between subjects from both sides, as a property: over random writes of
registrations, targets added and removed, orders, fines, requests, observations, the
ledger's default and corrections and retractions of any of them, each ``record`` call is
taken exactly when the ledger it leaves holds no fact that names another subject against
the rules (``check_references`` of every such fact as it counts; an oracle that knows
nothing of how the writers check, ``domain.dependents`` included).

- Sound: after every write taken, the oracle finds nothing against the rules.
- Not over-strict: a write refused as one that "would leave" a fact against the rules,
  written anyway into a copy by a writer without the check (a ledger written before it),
  leaves the copy with something the oracle finds against the rules.
- One rule for both writers: each write, imported (``ledger.bulk``) into a second ledger,
  is taken or refused in the same words.
"""

from __future__ import annotations

import re
import shutil
import uuid

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.errors import LedgerError
from ledger.application import open_ledger
from ledger.interchange import read_facts
from ledger.storage import parse_target
from projections.importing import import_facts
from tests.clitools import older_ledger
from tests.test_dependents_review import oracle

TARGETS = ["a.example", "b.example", "c.example"]
PLATFORMS = ["p1", "p2"]
DAYS = [f"2020-01-{d:02d}" for d in range(1, 21)]
SOURCE = [{"title": "s"}]


def _prelude() -> list[dict]:
    return [{"id": str(uuid.uuid5(uuid.NAMESPACE_URL, p)), "type": "platform-registered",
             "subject": p, "occurred_at": DAYS[0], "sources": SOURCE,
             "data": {"name": p, "targets": TARGETS}} for p in PLATFORMS]


def _step(draw, written: list[dict], n: int) -> dict:
    """One random event, about what has been written: mostly what its own rules take, so
    that what names what piles up, and then amendments and removals that may strand it."""
    day = draw(st.sampled_from(DAYS))
    some = st.lists(st.sampled_from(TARGETS), min_size=1, max_size=2, unique=True)
    orders = {o["subject"]: o["data"]["platform"] for o in written if o["type"] == "blocked"}
    targets = {o["subject"]: o["data"]["targets"] for o in written if o["type"] == "blocked"}
    choice = draw(st.sampled_from(["add", "remove", "order", "order", "fine", "fine",
                                   "request", "observe", "default", "correct", "correct",
                                   "correct", "retract"]))
    if not orders and choice in ("fine", "request", "observe"):
        choice = "order"
    order = draw(st.sampled_from(sorted(orders))) if orders else None
    base = {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"e{n}")), "occurred_at": day,
            "sources": SOURCE}
    if choice in ("add", "remove"):
        return {**base, "type": "targets-added" if choice == "add" else "targets-removed",
                "subject": draw(st.sampled_from(PLATFORMS)), "data": {"targets": draw(some)}}
    if choice == "order":
        data = {"platform": draw(st.sampled_from(PLATFORMS)), "authority": "A",
                "reasons": ["r"], "targets": draw(some)}
        if draw(st.booleans()):
            data["jurisdiction"] = draw(st.sampled_from(["BR", "RU"]))
        return {**base, "type": "blocked", "subject": f"o{n}", "data": data}
    if choice == "fine":
        return {**base, "type": "penalty-imposed", "subject": orders[order],
                "data": {"authority": "A", "amount": "1", "currency": "BRL", "per": "once",
                         "reason": "r", "order": order}}
    if choice == "request":
        return {**base, "type": "normalization-requested", "subject": f"r{n}",
                "data": {"platform": orders[order], "orders": [order], "requested_by": "P"}}
    if choice == "observe":
        return {**base, "type": "access-observed", "subject": order,
                "data": {"target": draw(st.sampled_from(targets[order])), "accessible": False,
                         "network": "AS1", "jurisdiction": draw(st.sampled_from(["BR",
                                                                                 "RU"]))}}
    if choice == "default":
        default = next((o for o in written if o["type"] == "jurisdiction-default"), None)
        if default is None:
            return {**base, "type": "jurisdiction-default", "subject": "ledger",
                    "data": {"jurisdiction": draw(st.sampled_from(["BR", "RU"]))}}
        return {**base, "type": "correction", "subject": "ledger",
                "occurred_at": default["occurred_at"], "data": {
                    "target": default["id"], "reason": "r",
                    "set": {"jurisdiction": draw(st.sampled_from(["BR", "RU"]))}}}
    target = draw(st.sampled_from(written))
    amend = {**base, "type": "retraction" if choice == "retract" else "correction",
             "subject": target["subject"], "occurred_at": target["occurred_at"],
             "data": {"target": target["id"], "reason": "r"}}
    if choice == "correct":
        field = draw(st.sampled_from(["occurred_at", "occurred_at", "targets", "platform",
                                      "order", "jurisdiction"]))
        value = {"occurred_at": day, "targets": draw(some),
                 "platform": draw(st.sampled_from(PLATFORMS)), "order": order,
                 "jurisdiction": draw(st.sampled_from(["BR", "RU", None]))}[field]
        amend["data"]["set"] = {field: value}
    return amend


def _fact(obj: dict):
    return next(iter(read_facts([orjson.dumps(obj)])))[1]


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(data=st.data())
def test_a_write_is_taken_exactly_when_it_leaves_nothing_against_the_rules(
        tmp_path_factory, data):
    root = tmp_path_factory.mktemp("dependents")
    db = str(root / "a.db")
    written = _prelude()
    with open_ledger(parse_target(db), create=True) as ledger:
        ledger.record([_fact(o) for o in written], operator="op")
    imported = str(root / "b.db")  # the same writes, each an import of one line
    with open_ledger(parse_target(imported), create=True) as ledger:
        import_facts(ledger, enumerate(map(_fact, written), start=1), operator="op")
    for n in range(data.draw(st.integers(4, 40))):
        obj = _step(data.draw, written, n)
        try:
            fact = _fact(obj)
        except LedgerError:
            continue  # (a malformed value: no write)
        outcomes = []
        for path, write in ((db, lambda ledger, f=fact: ledger.record([f], operator="op")),
                            (imported, lambda ledger, f=fact: import_facts(
                                ledger, [(1, f)], operator="op"))):
            try:
                with open_ledger(parse_target(path)) as ledger:
                    write(ledger)
                outcomes.append("taken")
            except LedgerError as error:  # (an import names the line, and a value's field)
                outcomes.append(re.sub(r"^(line 1(: |, ))?(field '[^']*': )?", "",
                                       str(error)))
        assert outcomes[0] == outcomes[1], (obj, outcomes)
        if outcomes[0] != "taken":
            error = outcomes[0]
            if "would leave" not in error:
                continue  # its own rules, or those of what it names
            copy = str(root / "copy.db")
            shutil.copy(db, copy)
            with pytest.MonkeyPatch.context() as patch:
                older_ledger(patch)
                with open_ledger(parse_target(copy)) as ledger:
                    ledger.record([fact], operator="op")
            assert oracle(copy), (error, obj)
            continue
        written.append(obj)
        assert oracle(db) == [], obj
