"""The event types' payload classes (``domain.payloads``): made on first use, and equal,
hashed and shown exactly as attrs' own generated methods would."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path

import attrs
import pytest

import domain.vocabulary
from domain.declaration import REGISTRY

ROOT = Path(__file__).resolve().parent.parent


def _reference(cls: type) -> type:
    """The class attrs makes of the same fields with every method its own."""
    return attrs.make_class(cls.__qualname__, {field.name: attrs.field(kw_only=True)
                                               for field in attrs.fields(cls)}, frozen=True)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_a_payload_is_equal_hashed_and_shown_as_attrs_would(name):
    cls = REGISTRY[name].payload
    reference = _reference(cls)
    names = [field.name for field in attrs.fields(cls)]
    assert names, name
    values = {n: (f"{n}-1", n) if i % 2 else f"{n}-1" for i, n in enumerate(names)}
    one, same = cls(**values), cls(**values)
    expected = reference(**values)
    assert repr(one) == repr(expected)
    assert (one == same) is True and (one != same) is False
    assert hash(one) == hash(same)
    for changed in names:
        other = cls(**{**values, changed: "else"})
        assert (one == other) is False and (one != other) is True, changed
        assert repr(other) == repr(reference(**{**values, changed: "else"}))
    # Never equal to another class's instance, even with the same fields and values.
    assert (one == expected) is False and (one != expected) is True
    assert one.__eq__(expected) is NotImplemented
    assert {one, same} == {one}
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        one.__setattr__(names[0], "changed")
    assert pickle.loads(pickle.dumps(one)) == one
    assert getattr(domain.vocabulary, cls.__qualname__) is cls
    assert cls.event_type == name and REGISTRY[name].payload is cls


def test_no_payload_class_is_made_at_import():
    """Importing the domain (as every command does) makes none of them: each is made when
    its type is first met."""
    probe = ("import json, domain.fact, projections.book\n"
             "from domain.payloads import MADE\n"
             "print(json.dumps(sorted(MADE)))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    assert json.loads(done.stdout) == []
