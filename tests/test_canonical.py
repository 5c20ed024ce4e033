"""Our fast canonical encoding (orjson, sorted keys) is byte-equal to RFC 8785."""

from __future__ import annotations

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.canonical import canonical, event_hash

# Text as event fields hold it: any Unicode scalar (no surrogates), control characters,
# quotes, backslashes, line separators and bidi overrides included.
texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
keys = st.sampled_from(["id", "type", "subject", "occurred_at", "sources", "data", "note",
                        "recorded_at", "recorded_by", "position", "url", "title", "sha256",
                        "targets", "set", "legal_basis", "a", "B", "_", "z9"])
scalars = st.one_of(texts, st.booleans(), st.none(),
                    st.integers(-(2**53) + 1, 2**53 - 1))
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=5),
                            st.dictionaries(keys, inner, max_size=6)),
    max_leaves=30)


@settings(max_examples=500)
@given(st.dictionaries(keys, json_values, max_size=8))
def test_canonical_equals_rfc8785(obj):
    """For JSON without floats and with ASCII keys, orjson sorted equals RFC 8785."""
    assert canonical(obj) == rfc8785.dumps(obj)


@given(st.dictionaries(keys, json_values, max_size=8))
def test_event_hash_ignores_the_hash_field(obj):
    """The hash is over the event without its own hash."""
    assert event_hash({**obj, "hash": "x"}) == event_hash({k: v for k, v in obj.items()
                                                           if k != "hash"})


def test_the_bundled_events_encode_identically(example):
    """Every event of the 2017 case, as exported, encodes the same way both ways."""
    import orjson

    for line in example.read_text().splitlines():
        obj = orjson.loads(line)
        obj.update(recorded_at="2026-11-29T03:45:27.738925+00:00", recorded_by="t",
                   position=1)
        assert canonical(obj) == rfc8785.dumps(obj)
