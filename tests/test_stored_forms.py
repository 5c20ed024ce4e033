"""``domain.stored.read`` checks an id, an event reference and a record time by translating
their characters to shapes (``_is_uuid``, ``_is_record_time``), not by patterns: it takes
exactly the texts that ``uuid.UUID`` and ``datetime.isoformat`` write back as they are,
in the envelope and in the data alike."""

from __future__ import annotations

import uuid
from datetime import datetime
from itertools import product

import pytest

from domain.stored import _is_uuid, _recorded, read
from ledger.canonical import canonical
from tests import facts
from tests.test_history_damage import TIME_PARTS
from tests.test_history_stored import stored

GOOD = "6d9b0fed-1c6e-4c8e-9b4e-1a2b3c4d5e6f"


def id_texts() -> list[str]:
    """A written id, and each way of writing it otherwise, one character at a time: every
    character at every place (digits, capitals, letters past f, a hyphen, characters
    outside ASCII that are digits or look like them, a lone surrogate), and the whole
    written in other forms ``uuid.UUID`` also reads."""
    odd = "0f9aAFgG-_ {}:\u0663\uff10\u00e9\ud800\n"
    out = [GOOD, GOOD.upper(), GOOD.replace("-", ""), "{" + GOOD + "}", "urn:uuid:" + GOOD,
           GOOD + "0", GOOD[:-1], "", GOOD + "\n", " " + GOOD]
    for i in range(len(GOOD)):
        out += [GOOD[:i] + c + GOOD[i + 1:] for c in odd]
        out.append(GOOD[:i] + GOOD[i + 1:])
    return out


def encoded(obj: dict) -> bytes:
    """``canonical(obj)``; a lone surrogate, which orjson cannot write, escaped as JSON
    can write one (msgspec refuses to decode it, so ``read`` refuses it)."""
    def marked(value):
        if isinstance(value, dict):
            return {k: marked(v) for k, v in value.items()}
        return value.replace("\ud800", "@surrogate@") if isinstance(value, str) else value
    return canonical(marked(obj)).replace(b"@surrogate@", b"\\ud800")


def written_back(text: str) -> bool:
    try:
        return str(uuid.UUID(text)) == text
    except ValueError:
        return False


def test_an_id_is_taken_exactly_when_uuid_writes_it_back():
    for text in id_texts():
        assert _is_uuid(text) == written_back(text), repr(text)


@pytest.mark.parametrize("where", ["id", "target"])
def test_read_takes_an_id_and_a_reference_exactly_when_uuid_writes_them_back(where):
    obj = stored(facts.retraction("kominfo-1", target=facts.blocked().id))
    for text in id_texts():
        if where == "id":
            obj["id"] = text
        else:
            obj["data"]["target"] = text
        try:
            read(encoded(obj))
            taken = True
        except ValueError:
            taken = False
        assert taken == written_back(text), repr(text)


def test_read_takes_a_record_time_exactly_when_isoformat_writes_it_back():
    """``test_a_record_time_is_read_as_isoformat_writes_it`` of ``_recorded``, through
    ``read`` (which checks the same shapes inline), with a character outside ASCII too."""
    obj = stored(facts.blocked())
    for parts in [*product(*TIME_PARTS), ("2026-01-01T00:00:0\u0663",),
                  ("2026-01-01T00:00:00+\u0660\u0660:00",), ("2026-01-01T00:00:00\ud800",)]:
        text = "".join(parts)
        try:
            round_trip = datetime.fromisoformat(text).isoformat() == text
        except ValueError:
            round_trip = False
        obj["recorded_at"] = text
        try:
            read(encoded(obj))
            taken = True
        except ValueError:
            taken = False
        try:
            _recorded(text)
            alone = True
        except ValueError:
            alone = False
        expected = round_trip and parts[-1].count(":") < 2
        assert taken == alone == expected, repr(text)
