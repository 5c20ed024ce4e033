"""record: one subcommand per declared event type, its options derived from the declaration
(``domain.declaration``)."""

from __future__ import annotations

import json
from typing import Any

import click
import orjson

from commands.context import Context
from domain.declaration import REGISTRY, EventType, FieldSpec
from domain.errors import BadInput
from domain.fact import Fact


class RecordGroup(click.Group):
    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage(ctx.command_path, "TYPE SUBJECT --at WHEN --source S [OPTIONS]")


@click.group(cls=RecordGroup)
def record() -> None:
    """Record one event: TYPE SUBJECT --at WHEN --source S [type-specific options].

    Data fields are options named after them (legal_basis -> --legal-basis); a list field is
    a repeated option in the singular (--target t.me --target web.telegram.org). --data
    gives the data as a JSON object instead.

    \b
    Examples:
      blockledger record platform-registered telegram --at 2013-08-14 \\
          --source https://telegram.org --name Telegram --target t.me
      blockledger record email-sent telegram --at 2017-07-11 --source URL \\
          --sender Kominfo --recipient Telegram --summary "takedown request"
      blockledger record blocked kominfo-2017-07-14 --at 2017-07-14T11:00+07:00 \\
          --source URL --platform telegram --authority Kominfo --target t.me \\
          --reason "radical content"
      blockledger record unblocked kominfo-2017-07-14 --at 2017-08-10 --source URL
      blockledger record access-observed kominfo-2017-07-14 --at 2017-08-20 \\
          --source URL --target t.me --not-accessible --network AS7713
      blockledger types blocked                         # one type's options
    """


def _option_name(name: str, spec: FieldSpec) -> str:
    return "--" + (spec.singular or name).replace("_", "-")


def _record_command(kind: EventType) -> click.Command:
    params: list[click.Parameter] = [
        click.Argument(["subject"]),
        click.Option(["--at", "occurred_at"], metavar="WHEN",
                     help="When it happened: ISO 8601 date or date-time with offset."),
        click.Option(["--source", "sources"], multiple=True, metavar="S",
                     help="A citation, URL or text (repeatable; at least one source in "
                     "all, by any of the --source options)."),
        click.Option(["--source-url", "source_url"], metavar="URL",
                     help="One source given in parts: its URL ..."),
        click.Option(["--source-title", "source_title"], metavar="TEXT",
                     help="... its title ..."),
        click.Option(["--source-sha256", "source_sha256"], metavar="HEX",
                     help="... the SHA-256 of the document ..."),
        click.Option(["--source-quote", "source_quote"], metavar="TEXT",
                     help="... and the passage it rests on."),
        click.Option(["--source-json", "source_json"], multiple=True, metavar="JSON",
                     help='A source as JSON, {"url", "title", "sha256", "quote"} '
                     "(repeatable)."),
        click.Option(["--source-file", "source_file"], multiple=True, metavar="PATH",
                     help="A local document: its SHA-256 is computed and its file name "
                     "recorded as the title (repeatable)."),
        click.Option(["--note"], help="A free note on the event."),
        click.Option(["--id", "event_id"], metavar="UUID", help="The event's id (default: new)."),
        click.Option(["--data"], metavar="JSON", help="The data fields as one JSON object."),
    ]
    single, plural = kind.either or (None, None)
    for name, spec in kind.fields():
        decl = _option_name(name, spec)
        if name == plural:
            continue  # given as the repeated option of ``single``
        if name == single:
            params.append(click.Option([decl, name], multiple=True, metavar="VALUE...",
                                       help=spec.help + " (repeat for several)"))
        elif spec.kind == "fields":
            params.append(click.Option([decl, name], multiple=True, metavar="FIELD=VALUE",
                                       help=spec.help.split(" (")[0] + ": repeat FIELD=VALUE "
                                       "(VALUE as JSON where it parses, else as text)"))
        elif spec.kind == "bool":
            params.append(click.Option([f"{decl}/--not-{decl[2:]}", name], default=None,
                                       help=spec.help))
        else:
            required = "" if spec.required else " (optional)"
            params.append(click.Option([decl, name], multiple=spec.is_list,
                                       help=spec.help + required,
                                       metavar="VALUE" if not spec.is_list else "VALUE..."))

    def run(subject: str, occurred_at: str | None, sources: tuple[str, ...], note: str | None,
            event_id: str | None, data: str | None, **fields: Any) -> None:
        obj = click.get_current_context().find_object(Context)
        assert obj is not None
        given = [*sources, *_structured_sources(
            {part: fields.pop(f"source_{part}") for part in ("url", "title", "sha256",
                                                            "quote")},
            fields.pop("source_json"), fields.pop("source_file"))]
        fact = _fact_from_options(kind, subject, occurred_at, tuple(given), note, event_id,
                                  data, fields)
        with obj.ledger(write=True) as ledger:
            outcome = ledger.record([fact], operator=obj.operator)
        if outcome.skipped:
            click.echo(f"skipped: event {fact.id} is already in the ledger")
        else:
            click.echo(f"recorded {kind.name} {subject} {fact.id}")

    return click.Command(kind.name, params=params, callback=run, help=kind.help,
                         short_help=kind.help.split(".")[0])


def _structured_sources(parts: dict[str, str | None], as_json: tuple[str, ...],
                        files: tuple[str, ...]) -> list[Any]:
    """The sources given by --source-url/-title/-sha256/-quote (one), --source-json and
    --source-file (one each), as the interchange format writes them."""
    out: list[Any] = []
    one = {key: value for key, value in parts.items() if value is not None}
    if one:
        out.append(one)
    out += [_json_object(text, "source-json") for text in as_json]
    for path in files:
        import hashlib
        import os
        import stat
        from pathlib import Path

        digest = hashlib.sha256()
        try:
            # Non-blocking open, then only a regular file: a FIFO or /dev/zero would hang,
            # /dev/stdin would record the digest of whatever was piped in.
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
            with os.fdopen(fd, "rb") as document:
                if not stat.S_ISREG(os.fstat(document.fileno()).st_mode):
                    raise BadInput(f"--source-file {path}: not a regular file",
                                   field="source-file")
                for block in iter(lambda document=document: document.read(1 << 20), b""):
                    digest.update(block)
        except OSError as error:
            raise BadInput(f"--source-file {path}: {error.strerror or error}",
                           field="source-file") from None
        out.append({"title": Path(path).name, "sha256": digest.hexdigest()})
    return out


def _fact_from_options(kind: EventType, subject: str, occurred_at: str | None,
                       sources: tuple[str, ...], note: str | None, event_id: str | None,
                       data: str | None, fields: dict[str, Any]) -> Fact:
    if occurred_at is None:
        raise BadInput("--at WHEN is required (when it happened)", field="occurred_at")
    raw: dict[str, Any] = {} if data is None else _json_object(data, "data")
    specs = dict(kind.fields())
    if kind.either is not None:  # one --platform: platform; several: platforms
        single, plural = kind.either
        given = fields.pop(single, ()) or ()
        if len(given) > 1:
            fields[plural] = tuple(given)
        elif given:
            fields[single] = given[0]
    for name, value in fields.items():
        if value is None or value == ():
            continue
        if name in raw:
            option = _option_name(name, specs[name])
            raise BadInput(f"{name} is given both in --data and as {option}: which value "
                           "is meant?", field=name)
        if specs[name].kind == "fields":
            raw[name] = _assignments(value, name)
        else:
            raw[name] = list(value) if isinstance(value, tuple) else value
    obj: dict[str, Any] = {"type": kind.name, "subject": subject, "occurred_at": occurred_at,
                           "sources": list(sources), "data": raw}
    if note is not None:
        obj["note"] = note
    obj["id"] = event_id if event_id is not None else str(__import__("uuid").uuid4())
    return Fact.from_json(obj)


def _assignment(item: str, option: str) -> tuple[str, Any]:
    """``FIELD=VALUE``: VALUE as JSON where it is a list, a string, true, false or null,
    else as text (so ``note=2017`` sets the text "2017", not a number)."""
    name, eq, text = item.partition("=")
    if not eq or not name:
        raise BadInput(f"{item!r} is not FIELD=VALUE", field=option)
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return name.strip(), text
    if value is None or isinstance(value, (bool, str, list)):
        return name.strip(), value
    return name.strip(), text


def _assignments(items: tuple[str, ...], option: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        name, value = _assignment(item, option)
        if name in out:
            raise BadInput(f"{name} is set twice: which value is meant?", field=option)
        out[name] = value
    return out


def _json_object(text: str, option: str) -> dict[str, Any]:
    """A JSON object from an option, refusing a key given twice (JSON readers keep one)."""
    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [key for key, _ in pairs]
        twice = next((key for key in keys if keys.count(key) > 1), None)
        if twice is not None:
            raise BadInput(f"{twice!r} is given twice: which value is meant?", field=option)
        return dict(pairs)

    try:
        value = orjson.loads(text)  # strict: no NaN, no number too large for a float
    except orjson.JSONDecodeError as error:
        raise BadInput(f"--{option} is not valid JSON ({error})", field=option) from None
    if not isinstance(value, dict):
        raise BadInput(f"--{option} must be a JSON object", field=option)
    return json.loads(text, object_pairs_hook=unique)


for _kind in REGISTRY.values():
    record.add_command(_record_command(_kind))


def register(group: click.Group) -> None:
    group.add_command(record)
