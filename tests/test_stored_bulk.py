"""``domain.stored.read_many`` is ``read`` in bulk: for any batch of bodies it gives what
``read`` gives each of them, or None exactly when ``read`` refuses one of them. The whole
ledger's history reads every group of platforms so, and reads each event in turn only to
name the first damaged one."""

from __future__ import annotations

import gc
from itertools import product

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.errors import IntegrityFailure
from domain.stored import read, read_many
from ledger.application import open_ledger
from ledger.canonical import canonical
from ledger.storage import parse_target
from projections.history import ledger_lines, ledger_rows
from projections.views import Views
from tests.test_history_damage import TIME_PARTS
from tests.test_history_stored import EVERY_KIND, stored
from tests.test_integrity import Store
from tests.test_stored_forms import encoded, id_texts
from tests.test_terminal_stream import mixed_ledger  # noqa: F401 (a fixture)

BODIES = [canonical(stored(fact)) for fact in EVERY_KIND] + [  # (and by no one named)
    canonical({k: v for k, v in stored(fact).items() if k != "recorded_by"})
    for fact in EVERY_KIND]


def agrees(bodies: list[bytes]) -> bool:
    """Whether ``read_many(bodies)`` is what ``read`` says of each; whether it took them."""
    each, refused = [], False
    for body in bodies:
        try:
            each.append(read(body))
        except Exception:
            refused = True
    found = read_many(bodies)
    if refused:
        assert found is None
        return False
    assert found is not None
    events, whens = found
    assert list(zip(events, whens, strict=True)) == each
    assert [e.__class__ for e in events] == [e.__class__ for e, _ in each]
    return True


def test_every_kind_is_read_in_bulk_as_alone():
    assert agrees(BODIES)
    assert agrees([])
    assert agrees(BODIES[:1])


@pytest.mark.parametrize("where", ["id", "target", "recorded_at"])
def test_each_form_is_taken_in_bulk_exactly_when_read_takes_it(where):
    """Every id, reference and record time the form tests try, in the middle of a batch of
    good events: taken in bulk exactly when ``read`` takes it (the bulk check reads ids and
    times joined, so each place in the batch counts)."""
    obj = stored(EVERY_KIND[-2])  # (a retraction: an id and a reference)
    texts = (["".join(parts) for parts in product(*TIME_PARTS)]
             + ["2026-01-01T00:00:00.000001+00:00", "2026-01-01T00:00:00+00:00",
                "2026-01-01T00:00:00.123456-00:00", "2026-01-01T00:00:00.000000+00:00"]
             if where == "recorded_at" else id_texts())
    taken = 0
    for text in texts:
        changed = dict(obj)
        if where == "target":
            changed["data"] = {**obj["data"], "target": text}
        else:
            changed[where] = text
        for at in (0, 3, len(BODIES)):
            batch = [*BODIES[:at], encoded(changed), *BODIES[at:]]
            taken += agrees(batch)
    assert taken  # (some of them are well-formed)


@pytest.mark.parametrize("kind, field", [("email-sent", "deadline"), ("unblocked", "until")])
def test_each_valid_time_in_data_is_taken_in_bulk_exactly_when_read_takes_it(kind, field):
    """Every written form of a time the form tests try, as a data field of valid time, in
    the middle of a batch of good events, and twice in one batch (``read_many`` reads a
    time it has found written before from its cache, and the rest of a type's field at a
    time): taken in bulk exactly when ``read`` takes it."""
    fact = next(fact for fact in EVERY_KIND if stored(fact)["type"] == kind)
    obj = stored(fact)
    texts = (["".join(parts) for parts in product(*TIME_PARTS)]
             + ["2017-03-08", "2017-3-08", "2017-02-30", "20170308", "2017-03-08 ", "",
                "\u0662017-03-08", "2017-03-08T10:00:00+07:00", "2017-03-08T10:00+07:00"])
    taken = refused = 0
    for text in texts:
        changed = dict(obj)
        changed["data"] = {**obj["data"], field: text}
        for batch in ([*BODIES[:3], encoded(changed), *BODIES[3:]],
                      [encoded(changed), *BODIES, encoded(changed)]):
            if agrees(batch):
                taken += 1
            else:
                refused += 1
    assert taken and refused


def test_record_times_not_all_utc_are_taken_as_read_takes_them():
    """A batch whose record times are not all UTC to the microsecond (another offset, no
    fraction, the offset ``-00:00`` that ``isoformat`` never writes), two at a time among
    good events: taken in bulk exactly when ``read`` takes each."""
    times = ["2026-01-01T00:00:00.123456+05:30", "2026-01-01T00:00:00+00:00",
             "2026-01-01T00:00:00.123456-05:30", "2026-01-01T00:00:00.123456-00:00"]
    for chosen in product(times, repeat=2):
        batch = []
        for text, body in zip(chosen, BODIES, strict=False):
            obj = dict(stored(EVERY_KIND[0]))
            obj["recorded_at"] = text
            batch += [encoded(obj), body]
        agrees(batch)


def test_bodies_split_or_joined_otherwise_are_refused():
    """The bytes check compares the batch joined: a body cut and its end moved to the next,
    two bodies in one, an empty one, white space around one: each refused as ``read``
    refuses it."""
    a, b, c = BODIES[0], BODIES[5], BODIES[9]
    for k in (1, 2, 10):
        assert not agrees([a[:-k], a[-k:] + b, c])
    assert not agrees([a + b"," + b, c])
    assert not agrees([a, b"", b, c])
    assert not agrees([a, b" " + b, c])
    assert not agrees([a, b + b" ", c])
    assert not agrees([a, b + b"\n", c])


_MUTATIONS = st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from(
    ["replace", "insert", "delete", "move"]), st.integers(0, 10**6), st.binary(min_size=1,
                                                                             max_size=3)),
    max_size=3)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(range(len(BODIES))), min_size=1, max_size=8), _MUTATIONS)
def test_bulk_agrees_with_read_on_damaged_batches(picks, mutations):
    bodies = [BODIES[i] for i in picks]
    for which, how, place, data in mutations:
        i = which % len(bodies)
        body = bodies[i]
        at = place % (len(body) + 1)
        if how == "replace":
            bodies[i] = body[:at] + data + body[at + len(data):]
        elif how == "insert":
            bodies[i] = body[:at] + data + body[at:]
        elif how == "delete":
            bodies[i] = body[:at] + body[at + len(data):]
        elif i + 1 < len(bodies):  # the end of one moved to the start of the next
            bodies[i], bodies[i + 1] = body[:at], body[at:] + bodies[i + 1]
    agrees(bodies)


_TEXT_FIELDS = [("id",), ("recorded_at",), ("occurred_at",), ("subject",),
                ("data", "target"), ("data", "regarding"), ("data", "penalty"),
                ("data", "deadline"), ("data", "until"), ("data", "effective_at")]
_ODD = "0123456789abcdefABCDEFg-:+.TZ \u0660\u00e9"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(range(len(EVERY_KIND))),
                          st.sampled_from(_TEXT_FIELDS), st.integers(0, 40),
                          st.sampled_from(_ODD), st.sampled_from(["replace", "insert",
                                                                  "delete"])),
                min_size=1, max_size=6))
def test_bulk_agrees_with_read_on_values_changed_in_canonical_bytes(changes):
    """Values changed one character at a time and written back as canonical JSON, so the
    bytes check passes and the id, record time and valid time checks decide (where random
    bytes are mostly refused by the decode alone)."""
    batch = list(BODIES)
    for kind, field, place, char, how in changes:
        obj = stored(EVERY_KIND[kind])
        holder = obj["data"] if field[0] == "data" else obj
        key = field[-1]
        if not isinstance(holder.get(key), str):
            continue
        text = holder[key]
        at = place % (len(text) + 1)
        holder[key] = (text[:at] + char + text[at + 1:] if how == "replace" else
                       text[:at] + char + text[at:] if how == "insert" else
                       text[:at] + text[at + 1:])
        batch.insert(place % len(batch), encoded(obj))
    agrees(batch)


def test_the_collector_is_on_again_after_a_history(mixed_ledger):  # noqa: F811
    """Paused while each group is made, the collector is on again after a whole history,
    after a history abandoned after its first line, and after a damaged event's refusal."""
    assert gc.isenabled()
    with open_ledger(parse_target(mixed_ledger)) as ledger:
        views = Views(ledger)
        views.catch_up()
        assert list(ledger_lines(views, workers=False)) and gc.isenabled()
        lines = ledger_lines(views, workers=False)
        next(lines)
        assert gc.isenabled()
        lines.close()
    store = Store(mixed_ledger)
    (first,) = store.sql(f"SELECT MIN({store.pos}) FROM {store.events}")[0]
    store.set_state(first, store.state(first).replace(b'"id":"', b'"id": "', 1))
    with open_ledger(parse_target(mixed_ledger)) as ledger:
        views = Views(ledger)
        with pytest.raises(IntegrityFailure):
            list(ledger_lines(views, workers=False))
    assert gc.isenabled()


def test_a_group_is_made_without_reference_cycles(mixed_ledger):  # noqa: F811
    """The whole ledger's history pauses the cyclic collector while it makes a group
    (``projections.history_stream``): making one leaves nothing for it to find, corrected,
    retracted and disputed events included."""
    with open_ledger(parse_target(mixed_ledger)) as ledger:
        views = Views(ledger)
        views.catch_up()
        for _ in range(2):  # (the first run makes the structs of each type: not garbage)
            gc.collect()
            enabled = gc.isenabled()
            gc.disable()
            try:
                lines = list(ledger_lines(views, workers=False))
                rows = list(ledger_rows(views))
                unreachable = gc.collect()
            finally:
                if enabled:
                    gc.enable()
        assert len(lines) == len(rows) > 1500
        assert any(row["corrected_by"] for row in rows)
        assert any(row["retracted_by"] for row in rows)
        assert any(row["disputed_by"] for row in rows)
        assert unreachable == 0
