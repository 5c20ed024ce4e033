"""How an event type is declared once, and everything derived from that declaration.

An event type is an attrs class whose fields carry a ``FieldSpec`` in their metadata. From it
come the validation of imported JSON (``EventType.parse``), the JSON form (``to_json``), the
command-line options (``cli``) and the reference docs (``blockledger types``).
"""

from __future__ import annotations

import inspect
import re
import uuid
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import attrs
from attrs import frozen

from domain.errors import BadInput
from domain.identifiers import check_target, clean_target
from domain.payloads import MADE, payload
from domain.values import (
    MAX_ITEMS,
    SLUG,
    When,
    check_slug,
    check_text,
    clean_text,
    is_free_text,
    json_kind,
    shown,
    stored_when,
)

KINDS = ("text", "slug", "choice", "target", "texts", "slugs", "targets", "time", "bool", "event",
         "fields", "jurisdiction", "decimal", "currency")
#: A money amount: a decimal string, more than zero, no sign, no exponent (never a float).
DECIMAL = re.compile(r"(0|[1-9][0-9]{0,19})(\.[0-9]{1,8})?")
#: ISO 4217: three capital letters (BRL, EUR, USD).
CURRENCY = re.compile(r"[A-Z]{3}")
#: ISO 3166-1 alpha-2 (``BR``), or an ISO 3166-2 subdivision (``IN-JK``) for a regional order.
JURISDICTION = re.compile(r"[A-Z]{2}(-[A-Z0-9]{1,3})?")
#: How a field is named in a correction's ``set`` (and in every declaration).
FIELD_NAME = re.compile(r"[a-z][a-z0-9_]{0,49}")
#: At most this many fields are replaced by one correction.
MAX_FIELDS = 100


@frozen
class FieldSpec:
    """What a data field holds, for validation, the CLI and the docs."""

    kind: str
    help: str
    required: bool = True
    choices: tuple[str, ...] = ()
    singular: str | None = None  # the CLI option of a list field is the singular name

    @property
    def is_list(self) -> bool:
        return self.kind in ("texts", "slugs", "targets")

    @property
    def is_plain(self) -> bool:
        """Whether its JSON value is its domain value (nothing to convert either way)."""
        return self.kind in ("text", "slug", "choice", "target", "bool", "jurisdiction",
                             "decimal", "currency")

    def parse(self, value: Any, field: str) -> Any:
        """Validate one JSON value of this field and return its domain value."""
        if self.is_list:
            if not isinstance(value, list):
                raise BadInput(f"expected a list, got {json_kind(value)}", field=field)
            if self.required and not value:
                raise BadInput("must list at least one item", field=field)
            if len(value) > MAX_ITEMS:
                raise BadInput(f"lists more than {MAX_ITEMS:,} items", field=field)
            items = _clean_items(value, self.kind)
            if items is None:  # an item is refused: name it
                check = _ITEM_CHECKS[self.kind]
                items = [check(item, f"{field}[{i}]") for i, item in enumerate(value)]
            return tuple(dict.fromkeys(items))  # duplicates say nothing more
        if self.kind == "text":
            return check_text(value, field)
        if self.kind == "slug":
            return check_slug(value, field)
        if self.kind == "target":
            return check_target(value, field)
        if self.kind == "choice":
            if not isinstance(value, str) or value not in self.choices:
                raise BadInput(f"{shown(value)} is not one of {', '.join(self.choices)}",
                               field=field)
            return value
        if self.kind == "time":
            return When.parse(value, field)
        if self.kind == "jurisdiction":
            if not isinstance(value, str) or not JURISDICTION.fullmatch(value):
                raise BadInput(f"{shown(value)} is not a jurisdiction: an ISO 3166-1 alpha-2 "
                               "code (BR, RU) or an ISO 3166-2 subdivision (IN-JK)",
                               field=field)
            from domain.jurisdictions import check_country

            why = check_country(value)
            if why is not None:
                raise BadInput(f"{shown(value)} is not a jurisdiction: {why}", field=field)
            return value
        if self.kind == "decimal":
            if not isinstance(value, str) or not DECIMAL.fullmatch(value) or (
                    not value.strip("0.")):
                raise BadInput(f"{shown(value)} is not an amount: a decimal string more than "
                               "zero, such as \"1000000\" or \"28.50\" (no sign, exponent "
                               "or separators; at most 20 digits and 8 decimals)", field=field)
            return value
        if self.kind == "currency":
            if not isinstance(value, str) or not CURRENCY.fullmatch(value):
                raise BadInput(f"{shown(value)} is not an ISO 4217 currency code (BRL, EUR)",
                               field=field)
            return value
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise BadInput(f"expected true or false, got {json_kind(value)}", field=field)
            return value
        if self.kind == "event":
            try:
                return uuid.UUID(check_text(value, field))
            except ValueError:
                raise BadInput(f"{shown(value)} is not an event id (a UUID)",
                               field=field) from None
        if self.kind == "fields":
            return FieldValues(tuple(sorted(_check_replacements(value, field).items())))
        raise AssertionError(self.kind)  # pragma: no cover

    def checker(self, field: str) -> Callable[[Any], Any]:
        """``parse`` for the field at path ``field``, as a function of the value alone, with
        what depends on the path alone worked out once (a text's kind of text)."""
        if self.kind == "text":
            multiline = is_free_text(field)
            return lambda value: check_text(value, field, multiline=multiline)
        if self.kind == "slug":
            return lambda value: check_slug(value, field)
        if self.kind == "target":
            return lambda value: check_target(value, field)
        parse = self.parse
        return lambda value: parse(value, field)

    def load(self, value: Any) -> Any:
        """The domain value of a JSON value this ledger stored itself (already validated)."""
        if self.is_list:
            return tuple(value)
        if self.kind == "time":
            return stored_when(value)
        if self.kind == "event":
            return uuid.UUID(value)
        if self.kind == "fields":
            return FieldValues(tuple(sorted(value.items())))
        return value

    def to_json(self, value: Any) -> Any:
        """The JSON form of a domain value of this field."""
        if self.is_list:
            return list(value)
        if self.kind == "time":
            return value.text
        if self.kind == "event":
            return str(value)
        if self.kind == "fields":
            return dict(value.items)
        return value


def _check_replacements(value: Any, field: str) -> dict[str, Any]:
    """A correction's ``set``, checked as far as it can be without its target: field names,
    and values that some field could hold (text, a list of texts, true, false or null; never
    a number, an object or a nested list). Each value is checked against the target event's
    own declaration when the ledger applies the correction. A target (``target``,
    ``targets``) is written in its stored spelling here already: the correction is stored
    as returned, and replay loads its values as they are.
    """
    if not isinstance(value, dict) or not value:
        raise BadInput("expected an object of the fields to replace", field=field)
    if len(value) > MAX_FIELDS:
        raise BadInput(f"replaces more than {MAX_FIELDS} fields", field=field)
    targets = _target_names(len(REGISTRY))
    out = dict(value)
    for name, new in value.items():
        if not FIELD_NAME.fullmatch(name):
            raise BadInput(f"{shown(name)} is not a field name", field=field)
        where = f"{field}.{name}"
        if new is None or isinstance(new, bool):
            continue
        check = check_target if name in targets else check_text
        if isinstance(new, str):
            checked = check(new, where)
            if check is check_target:
                out[name] = checked
        elif isinstance(new, list) and name != "note":
            if len(new) > MAX_ITEMS:
                raise BadInput(f"lists more than {MAX_ITEMS:,} items", field=where)
            checked = [check(item, f"{where}[{i}]") for i, item in enumerate(new)]
            if check is check_target:
                out[name] = checked
        else:
            raise BadInput(f"a replaced value is text, a list of texts, true, false or null; "
                           f"got {json_kind(new)}", field=where)
    return out


@lru_cache(maxsize=4)
def _target_names(registered: int) -> frozenset[str]:
    """The data fields that hold targets wherever a correctable type declares them (worked
    out again if ``registered``, the number of declared types, changes)."""
    kinds: dict[str, set[str]] = {}
    for kind in REGISTRY.values():
        if kind.subject != "any":  # an amendment is never corrected
            for name, spec in kind.fields():
                kinds.setdefault(name, set()).add(spec.kind)
    return frozenset(name for name, found in kinds.items() if found <= {"target", "targets"})


@frozen
class FieldValues:
    """Field names and JSON values, as a correction's ``set`` gives them (kept hashable)."""

    items: tuple[tuple[str, Any], ...]

    def as_dict(self) -> dict[str, Any]:
        return dict(self.items)


def _field(kind: str, help: str, *, required: bool, **extra: Any) -> Any:
    spec = FieldSpec(kind=kind, help=help, required=required, **extra)
    if required:
        return attrs.field(metadata={"spec": spec})
    return attrs.field(default=() if spec.is_list else None, metadata={"spec": spec})


def text(help: str, *, required: bool = True) -> Any:
    """A free-text field."""
    return _field("text", help, required=required)


def slug(help: str, *, required: bool = True) -> Any:
    """A reference (slug) field."""
    return _field("slug", help, required=required)


def choice(help: str, choices: tuple[str, ...], *, required: bool = True) -> Any:
    """A field taking one of fixed ``choices``."""
    return _field("choice", help, required=required, choices=choices)


def texts(help: str, *, singular: str, required: bool = True) -> Any:
    """A list of texts; on the command line a repeated ``--<singular>`` option."""
    return _field("texts", help, required=required, singular=singular)


def target(help: str, *, required: bool = True) -> Any:
    """A target: a domain name, an IP address or network, or an app id, stored in one
    spelling (``domain.identifiers``)."""
    return _field("target", help, required=required)


def targets(help: str, *, singular: str, required: bool = True) -> Any:
    """A list of targets; on the command line a repeated ``--<singular>`` option."""
    return _field("targets", help, required=required, singular=singular)


def slugs(help: str, *, singular: str, required: bool = True) -> Any:
    """A list of references; on the command line a repeated ``--<singular>`` option."""
    return _field("slugs", help, required=required, singular=singular)


def moment(help: str, *, required: bool = False) -> Any:
    """A valid time (ISO 8601 date or date-time with offset)."""
    return _field("time", help, required=required)


def jurisdiction(help: str, *, required: bool = False) -> Any:
    """A state's code: ISO 3166-1 alpha-2, or an ISO 3166-2 subdivision."""
    return _field("jurisdiction", help, required=required)


def money(help: str, *, required: bool = True) -> Any:
    """A money amount, as a decimal string (``decimal.Decimal`` in the domain's sums)."""
    return _field("decimal", help, required=required)


def iso_currency(help: str) -> Any:
    """An ISO 4217 currency code."""
    return _field("currency", help, required=True)


def fields(help: str) -> Any:
    """An object of field names and new values (a correction's ``set``)."""
    return _field("fields", help, required=True)


def flag(help: str) -> Any:
    """A true/false field (required: an observation must say which)."""
    return _field("bool", help, required=True)


def event_ref(help: str, *, required: bool = True) -> Any:
    """The id of another event in the ledger."""
    return _field("event", help, required=required)


@frozen
class EventType:
    """One declared event type: its name, its subject kind and its data class.

    ``declared`` is the class as ``domain.vocabulary`` writes it; ``payload``, the frozen
    attrs class of the events' data, is made from it when it is first asked for: making
    all thirty at import cost more than anything else a command such as ``status`` starts
    with (attrs compiles each class's methods), and a command meets only a few types.
    """

    name: str
    subject: str  # "platform", "order", "request", or "any" (the subject of its target)
    creates: bool
    declared: type
    help: str
    describe: Callable[[Any], str]
    also: tuple[str, ...] = ()  # other kinds of subject it may be about (see ``about``)
    #: ``(single, plural)``: two optional fields of which exactly one is given, one value
    #: or a list of them (an order's ``platform`` or ``platforms``); on the command line
    #: one repeatable option named after ``single``.
    either: tuple[str, str] | None = None

    @property
    def payload(self) -> type:
        """The frozen attrs class of this type's data, made once (``domain.payloads``)."""
        made = MADE.get(self.name)
        return made if made is not None else payload(self.name, self.declared)

    @property
    def subjects(self) -> tuple[str, ...]:
        """Every kind of subject an event of this type may be about, the declared first."""
        return (self.subject, *self.also)

    def about(self, ref: str, exists: Callable[[str, str], bool]) -> str:
        """The kind of subject an event of this type called ``ref`` is about.

        Its declared kind; for a type about one of several kinds (an observation: of an
        order or of a platform), the first kind of which a subject called ``ref`` exists
        where the event stands in the log (``exists(kind, ref)``), else the declared one.
        So an observation is an order's whenever an order of that name exists, as every
        observation was before platforms could be observed, and a platform's otherwise;
        every reader that folds the log in order (record, import, views, the platform
        index, books) decides the same.
        """
        if not self.also:
            return self.subject
        return next((kind for kind in self.subjects if exists(kind, ref)), self.subject)

    def fields(self) -> list[tuple[str, FieldSpec]]:
        """The data fields, in declaration order, with their specs."""
        return list(self._specs().items())

    def _specs(self) -> dict[str, FieldSpec]:
        # Asked for every event read or written: worked out once per type.
        specs = _SPECS.get(self.name)
        if specs is None:
            specs = _SPECS[self.name] = {f.name: f.metadata["spec"]
                                         for f in attrs.fields(self.payload)}
        return specs

    def parse(self, raw: Any, prefix: str = "data") -> Any:
        """Validate a JSON ``data`` object and build the payload, naming the bad field."""
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise BadInput(f"expected an object, got {json_kind(raw)}", field=prefix)
        specs = self._specs()
        if not raw.keys() <= specs.keys():
            unknown = [k for k in raw if k not in specs]
            raise BadInput(f"{self.name} has no field {shown(unknown[0])} "
                           f"(it takes: {', '.join(specs) or 'none'})", field=prefix)
        values = {}
        for name, required, optional_list, check in self._checkers(prefix):
            value = raw.get(name)
            if value is None or (optional_list and value == []):
                if required:
                    raise BadInput(f"{self.name} requires it", field=f"{prefix}.{name}")
                continue
            values[name] = check(value)
        if self.either is not None:
            self.check_either(values, prefix)
        return self.payload(**values)

    def check_either(self, values: dict[str, Any], prefix: str = "data") -> None:
        """``BadInput`` unless exactly one of the ``either`` pair is given in ``values``."""
        single, plural = self.either  # type: ignore[misc]
        given = [name for name in (single, plural) if values.get(name) not in (None, (), [])]
        if len(given) != 1:
            what = "both" if given else "neither"
            raise BadInput(f"{self.name} takes exactly one of {single} and {plural}; "
                           f"{what} given", field=f"{prefix}.{single}")
        if given == [plural] and len(values[plural]) < 2:
            raise BadInput(f"{plural} names two or more; for one, give {single}",
                           field=f"{prefix}.{plural}")

    def _checkers(self, prefix: str) -> tuple[tuple[str, bool, bool, Callable], ...]:
        """Per data field: its name, whether it is required, whether it is an optional list
        (an empty one means none) and its ``FieldSpec.checker``; worked out once."""
        key = (self.name, prefix)
        checkers = _CHECKERS.get(key)
        if checkers is None:
            checkers = _CHECKERS[key] = tuple(
                (name, spec.required, spec.is_list and not spec.required,
                 spec.checker(f"{prefix}.{name}"))
                for name, spec in self._specs().items())
        return checkers

    def load(self, raw: dict[str, Any]) -> Any:
        """The payload of a ``data`` object this ledger stored itself: no re-validation, so
        that reading stays fast and a later, stricter rule never makes old events unreadable.
        """
        loaders = _LOADERS.get(self.name)
        if loaders is None:
            loaders = _LOADERS[self.name] = {
                name: None if spec.is_plain else spec.load
                for name, spec in self._specs().items()}
        values = {}
        for name, value in raw.items():
            load = loaders[name]
            values[name] = value if load is None else load(value)
        return self.payload(**values)

    def to_json(self, payload: Any) -> dict[str, Any]:
        """The ``data`` object of a payload, leaving out empty optional fields."""
        out = {}
        for name, is_list, convert in self._writers():
            value = getattr(payload, name)
            if value is None or (is_list and not value):
                continue
            out[name] = value if convert is None else convert(value)
        return out

    def _writers(self) -> tuple[tuple[str, bool, Callable | None], ...]:
        """Per data field: its name, whether it is an optional list, and its
        ``FieldSpec.to_json`` (None where the JSON value is the domain value itself)."""
        writers = _WRITERS.get(self.name)
        if writers is None:
            writers = _WRITERS[self.name] = tuple(
                (name, spec.is_list and not spec.required,
                 None if spec.is_plain else spec.to_json)
                for name, spec in self._specs().items())
        return writers


def _clean_items(items: list[Any], kind: str) -> list[str] | None:
    """The items of a list field of ``kind`` if every one is acceptable (a reference, a
    target in its stored spelling, or a one-line text, stripped), else None; without
    building each item's path for an error that does not happen (``FieldSpec.parse`` then
    names the item at fault)."""
    out = []
    for item in items:
        if kind == "slugs":
            checked = item if item.__class__ is str and SLUG.fullmatch(item) else None
        elif kind == "targets":
            checked = clean_target(item)
        else:
            checked = clean_text(item, False)
        if checked is None:
            return None
        out.append(checked)
    return out


#: How a list field's items are checked, one by one, to name the item at fault.
_ITEM_CHECKS: dict[str, Callable[[Any, str], str]] = {
    "texts": check_text, "slugs": check_slug, "targets": check_target}


REGISTRY: dict[str, EventType] = {}
_SPECS: dict[str, dict[str, FieldSpec]] = {}
_CHECKERS: dict[tuple[str, str], tuple[tuple[str, bool, bool, Callable], ...]] = {}
_LOADERS: dict[str, dict[str, Callable | None]] = {}
_WRITERS: dict[str, tuple[tuple[str, bool, Callable | None], ...]] = {}


def declare(name: str, *, subject: str, creates: bool = False,
            describe: Callable[[Any], str],
            also: tuple[str, ...] = (),
            either: tuple[str, str] | None = None) -> Callable[[type], type]:
    """Class decorator: register ``cls`` as the declaration of event ``name`` (about a
    ``subject``, or about one of ``subject`` and ``also``: ``EventType.about``); its
    payload class is made from it on first use (``EventType.payload``)."""

    def register(cls: type) -> type:
        REGISTRY[name] = EventType(name=name, subject=subject, creates=creates,
                                   declared=cls, help=inspect.cleandoc(cls.__doc__ or ""),
                                   describe=describe, also=also, either=either)
        return cls

    return register


def event_type(name: object, field: str = "type") -> EventType:
    """The declared event type called ``name``, or ``BadInput`` suggesting the nearest
    (``block`` -> ``blocked``), else listing the known ones."""
    try:
        return REGISTRY[name]  # type: ignore[index]
    except (KeyError, TypeError):
        from difflib import get_close_matches

        near = get_close_matches(name, list(REGISTRY), n=1) if isinstance(name, str) else []
        hint = f"did you mean {near[0]}?" if near else f"known: {', '.join(REGISTRY)}"
        raise BadInput(f"unknown event type {shown(name)} ({hint})", field=field) from None
