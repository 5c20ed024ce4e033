"""A damaged or forged stored event (issue 13, the review of the whole ledger's history):
every reader of stored events (``verify``, ``history SUBJECT``, the whole ledger's
``history`` in each format and as known at a time) holds it to one definition of a
well-formed stored event (``domain.stored.read``) and refuses it alike, in one
line naming its position (exit 3): never a traceback, never its bytes printed.

Edits without re-hashing are what a damaged disk or a careless hand leaves; edits re-hashed
and re-chained are what a holder of the database can forge when no checkpoint is checked.
"""

from __future__ import annotations

import json
from datetime import datetime
from itertools import product
from typing import Any

import msgspec
import orjson
import pytest

from domain.declaration import REGISTRY
from domain.fact import Fact
from domain.stored import DATA, _recorded, read
from ledger.canonical import canonical
from tests import facts
from tests.clitools import one_line_error, run
from tests.test_history_stored import EVERY_KIND, stored
from tests.test_integrity import Store

#: Every way the whole ledger's history is written, then one subject's.
WHOLE = [[], ["--format", "json"], ["--format", "csv"], ["--format", "jsonl"],
         ["--as-known-at", "2100-01-01"], ["--as-known-at", "2100-01-01", "--format", "jsonl"]]


@pytest.fixture
def ledger(runner, sqlite_path, example) -> str:
    assert run(runner, sqlite_path, "import", str(example)).exit_code == 0
    return sqlite_path


def position(db: str, marker: bytes) -> int:
    """The position of the one event whose stored bytes hold ``marker``."""
    store = Store(db)
    found = [p for (p,) in store.sql(f"SELECT {store.pos} FROM {store.events}")
             if marker in store.state(p)]
    assert len(found) == 1, marker
    return found[0]


def corrected(db: str) -> int:
    """The position of an event a correction targets (so an amendment touches it)."""
    store = Store(db)
    for (p,) in store.sql(f"SELECT {store.pos} FROM {store.events}"):
        obj = orjson.loads(store.state(p))
        if obj["type"] == "correction":
            return position(db, b'"id":"%s"' % obj["data"]["target"].encode())
    raise AssertionError("the example has no correction")


def edit(db: str, at: int, old: bytes, new: bytes, *, rechain: bool) -> None:
    """Replace ``old`` by ``new`` in the stored bytes at ``at`` (then, with ``rechain``,
    recompute every hash and link, so that the chain holds)."""
    store = Store(db)
    state = store.state(at)
    assert old in state, (old, state)
    store.set_state(at, state.replace(old, new, 1))
    if rechain:
        store.rechain()


def refused_by_every_reader(runner, db: str, at: int) -> None:
    """``verify`` names the event at ``at``; each history refuses it in one line."""
    result = run(runner, db, "verify", "--json")
    out = json.loads(result.stdout)
    assert result.exit_code == 3 and out["first_bad_position"] == at, out
    for args in [*WHOLE, ["telegram"], ["telegram", "--format", "jsonl"]]:
        error = one_line_error(run(runner, db, "history", *args), 3)
        assert f"the event at position {at} is damaged" in error, (args, error)


class TestDamaged:
    """One edited byte, no hash recomputed (``verify`` fails on the hash)."""

    @pytest.mark.parametrize(("old", "new"), [
        (b'"title":"The Jakarta Post', b'"title":"The \xff Jakarta Post'),  # not UTF-8
        (b'"title":"The Jakarta Post', b'"title":1e400,"t":"The Jakarta Post'),  # no float
        (b'"recorded_at"', b'"x":"\xed\xa0\x80","recorded_at"'),  # an encoded surrogate
    ], ids=["invalid-utf8", "huge-number", "surrogate-in-unknown-key"])
    def test_an_untouched_event(self, runner, ledger, old, new):
        """Before: the whole ledger's history crashed with a traceback (table, json, csv,
        as known at) or printed the event (jsonl, exit 0)."""
        at = position(ledger, b'"medium":"Twitter"')
        edit(ledger, at, old, new, rechain=False)
        refused_by_every_reader(runner, ledger, at)

    def test_an_unknown_source_key_on_an_event_an_amendment_touches(self, runner, ledger):
        """Before: its sources were laid out without it, and the history printed."""
        at = corrected(ledger)
        edit(ledger, at, b'"sources":[{', b'"sources":[{"forged":"x",', rechain=False)
        refused_by_every_reader(runner, ledger, at)


class TestForged:
    """Bytes re-hashed and re-chained: the hashes and chain hold, so only the bytes' own
    form shows the forgery. ``verify`` used to accept each, and the JSON Lines copied
    them."""

    @pytest.mark.parametrize(("old", "new"), [
        (b'{"data":', b'{"zzz":\n{"id":"forged","type":"blocked","summary":"FORGED"}\n,"data":'),
        (b'"by":"Pavel Durov"', b'"by": "Pavel Durov"'),
        (b'"data":{', b'"data":\n{'),
        (b'"recorded_by":"', b'"recorded_by":"mallory","recorded_by":"'),
        (b'"recorded_at"', b'"corrected_by":["x"],"position":999,"recorded_at"'),
        (b'"by":"Pavel Durov"', b'"by":"Pavel\\u2028Durov"'),
        (b'"by":"Pavel Durov"', b'"by":"Pavel\\u0020Durov"'),
        (b'"medium":"Twitter"', b'"medium":5'),
        (b'"medium":"Twitter"', b'"medium":null'),
    ], ids=["forged-line", "space", "line-break", "duplicate-key", "row-keys",
            "escaped-u2028", "escaped-space", "number-for-text", "null"])
    def test_an_untouched_event(self, runner, ledger, old, new):
        at = position(ledger, b'"medium":"Twitter"')
        edit(ledger, at, old, new, rechain=True)
        refused_by_every_reader(runner, ledger, at)

    def test_what_the_ledger_could_have_written_still_reads(self, runner, ledger):
        """An empty text in a data field is what ``to_json`` writes of one (no rule of
        today's records it, but forms are checked, not rules): every reader reads it."""
        at = position(ledger, b'"medium":"Twitter"')
        edit(ledger, at, b'"medium":"Twitter"', b'"medium":""', rechain=True)
        assert run(runner, ledger, "verify").exit_code == 0
        lines = run(runner, ledger, "history", "--format", "jsonl").stdout.splitlines()
        assert [json.loads(line)["data"].get("medium") for line in lines
                if json.loads(line)["position"] == at] == [""]

    def test_a_trailing_line_break(self, runner, ledger):
        at = position(ledger, b'"medium":"Twitter"')
        store = Store(ledger)
        store.set_state(at, store.state(at) + b"\n")
        store.rechain()
        refused_by_every_reader(runner, ledger, at)

    @pytest.mark.parametrize(("field", "value"), [
        ("occurred_at", "2017-07-14T11:00+07:00"),  # When writes the seconds
        ("occurred_at", "2017-07-14T04:00:00Z"),
        ("recorded_at", "2026-01-01T00:00:00.000000+00:00"),  # isoformat drops them
        ("recorded_at", "2026-01-01T00:00:00Z"),
        ("id", None),  # the id in capitals
        ("note", ""),
        ("sources", []),
        ("sources", [{"title": "t", "url": None}]),
    ])
    @pytest.mark.parametrize("touched", [False, True], ids=["untouched", "touched"])
    def test_a_value_not_in_its_written_form(self, runner, ledger, field, value, touched):
        """Before: the whole ledger's history printed an untouched event's value as stored,
        a subject's history as the fact writes it (an event an amendment touches: as the
        fact writes it in both)."""
        at = corrected(ledger) if touched else position(ledger, b'"medium":"Twitter"')
        store = Store(ledger)
        obj = orjson.loads(store.state(at))
        obj[field] = obj["id"].upper() if value is None else value
        store.set_state(at, orjson.dumps(obj, option=orjson.OPT_SORT_KEYS))
        store.rechain()
        if field == "id":  # (the chain indexes events by id: verify names that first)
            Store(ledger).sql("UPDATE stored_events_chain SET event_id = ? WHERE position = ?",
                              (obj["id"], at))
        refused_by_every_reader(runner, ledger, at)


# --- the definition, event by event -----------------------------------------------------

PENALTY = facts.penalty_imposed()
KINDS = [*EVERY_KIND, facts.targets_removed(), facts.penalty_paid(penalty=str(PENALTY.id)),
         facts.penalty_lifted(penalty=str(PENALTY.id)), facts.commitment(), facts.condition_met(),
         facts.condition_waived(), facts.no_response(regarding=str(facts.email().id)),
         facts.operator_added(), facts.operator_revoked()]

#: What a damaged or forged value may be: of another kind, empty, null, in another form.
VALUES = [None, "", [], {}, 5, True, "x", ["x"], [None], [""], ["x", "x"], {"title": "t"},
          {"url": None}, {"title": ""}, "2017-07-14T11:00+07:00", "2017-07-14T04:00:00Z",
          "2017-07-14", "2017-07-14T11:00:00+07:00", "6D9B0FED-1C6E-4C8E-9B4E-1A2B3C4D5E6F",
          "6d9b0fed-1c6e-4c8e-9b4e-1a2b3c4d5e6f", "2026-01-01T00:00:00+00:00",
          "2026-01-01T00:00:00.000000+00:00", "2026-01-01T00:00:00.5+00:00",
          "2026-02-30T00:00:00.000001+00:00"]


def paths(obj: Any, at: tuple = ()) -> list[tuple]:
    """Every place in ``obj`` a value can be replaced, taken out or added (a new key)."""
    if isinstance(obj, dict):
        places = [(*at, "zz")]
        items: Any = obj.items()
    elif isinstance(obj, list):
        places, items = [], enumerate(obj)
    else:
        return []
    for key, value in items:
        places += [(*at, key), *paths(value, (*at, key))]
    return places


def changed(obj: Any, path: tuple, value: Any, drop: bool) -> Any:
    """A copy of ``obj`` with the value at ``path`` replaced by ``value`` (or taken out)."""
    obj = orjson.loads(orjson.dumps(obj))
    *inner, last = path
    node = obj
    for step in inner:
        node = node[step]
    if drop and not (isinstance(node, dict) and last not in node):
        del node[last]
    else:
        node[last] = value
    return obj


@pytest.mark.parametrize("fact", KINDS, ids=lambda f: f.type)
def test_every_kind_as_the_ledger_writes_it_is_well_formed(fact):
    """Each type's events, with and without their optional fields, read: ``to_json`` of
    the fact is what ``read`` takes (and describes as the fact does)."""
    plain = canonical(stored(fact))
    read(plain)
    obj = orjson.loads(plain)
    if REGISTRY[fact.type].subject != "any":  # (an amendment is described through its fact)
        assert REGISTRY[fact.type].describe(DATA[fact.type](**obj["data"])) == fact.describe()


def variants(value: Any) -> list[Any]:
    """The value at a place written otherwise: a text in capitals, with a space, a time
    without its seconds or in Z; a list empty, or twice over."""
    if isinstance(value, str):
        out = [value.upper(), f"{value} ", value.replace(":00+", "+").replace(":00-", "-")]
        if value.endswith("+00:00"):
            out.append(value[:-6] + "Z")
        return out
    if isinstance(value, list):
        return [[], value + value]
    return [None]


def at(obj: Any, path: tuple) -> Any:
    for step in path:
        obj = obj.get(step) if isinstance(obj, dict) else obj[step]
    return obj


@pytest.mark.parametrize("fact", KINDS, ids=lambda f: f.type)
def test_what_is_well_formed_is_what_the_ledger_writes(fact):
    """Whatever value goes wherever in a stored event (each of ``VALUES``, each variant of
    the value there, or none), in canonical JSON: either ``read`` refuses it, or its
    bytes are exactly what the ledger writes for the fact they hold (``to_json``, in
    canonical JSON), so that a row as stored and a row from the fact are the same."""
    obj = stored(fact)
    taken = 0
    for path in paths(obj):
        for value, drop in [*((v, False) for v in [*VALUES, *variants(at(obj, path))]),
                            (None, True)]:
            plain = canonical(changed(obj, path, value, drop))
            try:
                read(plain)
            except Exception:
                continue
            taken += 1
            fact = Fact.from_stored(orjson.loads(plain))
            assert canonical(fact.to_json()) == plain, (path, value, drop)
    assert taken  # (some changes are what the ledger could write: a text for a text)


def test_a_correction_set_out_of_key_order_is_refused():
    """A correction's ``set`` (an object of any keys) holds its keys in canonical order:
    decoding keeps the order it finds, so that is checked on its own."""
    fix = facts.correction("kominfo-1", target=facts.blocked().id,
                           set={"authority": "Kominfo RI", "method": "DNS"})
    plain = canonical(stored(fix))
    read(plain)
    swapped = plain.replace(b'{"authority":"Kominfo RI","method":"DNS"}',
                            b'{"method":"DNS","authority":"Kominfo RI"}')
    assert swapped != plain
    with pytest.raises(ValueError, match=r"data\.set"):
        read(swapped)


def test_every_string_is_escaped_as_canonical_json_escapes_it():
    """``read`` compares the stored bytes with msgspec's encoding: for every code point,
    msgspec writes a string as orjson (``ledger.canonical``) does."""
    every = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    assert msgspec.json.encode(every) == orjson.dumps(every)


#: The parts of a record time, each as written and otherwise.
TIME_PARTS = (["2026", "0001", "9999", "226"], ["-"], ["01-31", "02-29", "02-30", "13-01", "1-01"],
              ["T", " ", "t"], ["00:00:00", "23:59:59", "24:00:00", "12:30", "12:30:60"],
              ["", ".000000", ".5", ".123456", ".1234567", ".000001"],
              ["", "Z", "+00:00", "-00:00", "+05:30", "-05:30", "+0530", "+23:59", "+24:00",
               "+00:00:30", "+00:00:00"])


def test_a_record_time_is_read_as_isoformat_writes_it():
    """``_recorded`` (a pattern, then ``fromisoformat``) takes a record time exactly when
    ``isoformat`` writes it back as it is (but for offsets in seconds: never recorded)."""
    for parts in product(*TIME_PARTS):
        text = "".join(parts)
        try:
            round_trip = datetime.fromisoformat(text).isoformat() == text
        except ValueError:
            round_trip = False
        try:
            _recorded(text)
            taken = True
        except ValueError:
            taken = False
        assert taken == (round_trip and parts[-1].count(":") < 2), text
