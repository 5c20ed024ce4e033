"""How the data class of a declared event type is made (``EventType.payload``).

A frozen attrs class with keyword-only fields, made when its type is first used, not when
``domain.vocabulary`` is imported: attrs compiles each class's generated methods, and
making the thirty of them was the largest part of importing the domain. Of the methods
attrs would generate, ``__eq__``, ``__hash__`` and ``__repr__`` are written here once for
every payload instead (attrs generates and compiles them for each class: more than half of
making one). They behave as attrs' own do: equal when of the same class with equal fields
in declaration order, a hash consistent with that, the repr ``Name(field=value, ...)``
(``tests/test_payloads.py`` holds them to attrs' for every type). ``__init__`` stays
attrs': it is what reading and importing call for every event.
"""

from __future__ import annotations

import sys
from operator import attrgetter
from typing import Any

from attrs import fields, frozen

#: The payload class of each type made so far.
MADE: dict[str, type] = {}


def payload(name: str, declared: type) -> type:
    """The payload class of type ``name``, made from ``declared`` on the first call.

    The made class stands in the declaring module under the declaration's name from then
    on (``domain.vocabulary.Blocked`` is the class of the events' data, and pickle finds
    it). Of two threads making one at the same moment, both keep the first stored.
    """
    made = MADE.get(name)
    if made is not None:
        return made
    declared.__eq__ = _eq  # type: ignore[method-assign]
    declared.__hash__ = _hash  # type: ignore[method-assign]
    declared.__repr__ = _repr  # type: ignore[method-assign]
    made = frozen(kw_only=True, eq=False, repr=False)(declared)
    names = tuple(field.name for field in fields(made))
    made._bl_values = attrgetter(*names) if len(names) > 1 else (  # type: ignore[attr-defined]
        (lambda obj, name=names[0]: (getattr(obj, name),)) if names else (lambda obj: ()))
    made._bl_names = names  # type: ignore[attr-defined]
    made.event_type = name  # type: ignore[attr-defined]
    made = MADE.setdefault(name, made)
    module = sys.modules.get(declared.__module__)
    if module is not None and getattr(module, declared.__qualname__, None) is declared:
        setattr(module, declared.__qualname__, made)
    return made


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is not self.__class__:
        return NotImplemented
    values = self.__class__._bl_values
    return values(self) == values(other)


def _hash(self: Any) -> int:
    return hash((self.__class__.__qualname__, self.__class__._bl_values(self)))


def _repr(self: Any) -> str:
    return f"{self.__class__.__qualname__}(" + ", ".join(
        f"{name}={getattr(self, name)!r}" for name in self.__class__._bl_names) + ")"
