"""``blockledger types``: the event vocabulary as a person reads it (folded at the
terminal's width), as Markdown, or as records (JSON, JSON Lines, CSV), each type's subject
and data fields from its one declaration (``domain.declaration.REGISTRY``)."""

from __future__ import annotations

from typing import Any

import click

from commands.read import _json, format_options, stdout
from domain.declaration import REGISTRY


@click.command()
@click.argument("type_name", metavar="[TYPE]", required=False,
                shell_complete=lambda ctx, param, incomplete: [
                    name for name in REGISTRY if name.startswith(incomplete)])
@click.option("--markdown", is_flag=True, help="As a Markdown reference.")
@format_options()
def types(type_name: str | None, markdown: bool, fmt: str) -> None:
    """The event vocabulary: every type (or TYPE alone, with an example), its subject and
    its data fields.

    --format csv has one row per field: type, subject, creates, field, option, required,
    list, help.

    \b
    Examples:
      blockledger types                 # every type
      blockledger types blocked         # one, with a command line that records it
      blockledger types --markdown      # the reference, as docs
    """
    from commands.record import _option_name
    from domain.declaration import event_type

    kinds = [event_type(type_name)] if type_name else list(REGISTRY.values())

    if fmt != "table":
        records = [{"type": kind.name, "subject": kind.subject,
                    "subjects": list(kind.subjects), "creates": kind.creates,
                    "help": kind.help, "either": list(kind.either or []),
                    "fields": [{"name": name, "option": _option_name(name, spec),
                                "required": spec.required, "list": spec.is_list,
                                "help": spec.help} for name, spec in kind.fields()]}
                   for kind in kinds]
        if fmt == "csv":
            from projections.formats import columns_of, write_csv

            flat = [{"type": r["type"], "subject": r["subject"], "creates": r["creates"],
                     "field": f["name"], "option": f["option"], "required": f["required"],
                     "list": f["list"], "help": f["help"]}
                    for r in records for f in r["fields"] or [{"name": None, "option": None,
                                                               "required": None, "list": None,
                                                               "help": None}]]
            write_csv(flat, columns_of(flat), stdout())
        elif fmt == "jsonl":
            from projections.formats import write_jsonl

            write_jsonl(records, stdout())
        else:
            _json(records)
        return
    from projections.terminal import Screen

    screen_ = Screen()  # (plain text folds at the terminal's width; Markdown never)
    fold = (lambda text, first="", rest="": first + text) if markdown else screen_.wrapped
    for kind in kinds:
        about = " or ".join(kind.subjects)  # access-observed: an order or a platform
        lines = [f"## `{kind.name}` ({about}{', creates it' if kind.creates else ''})"
                 if markdown else f"{kind.name}  [{about}]", "", fold(kind.help, rest=""), ""]
        either = kind.either or ()
        for name, spec in kind.fields():
            option = _option_name(name, spec) + (" (repeatable)" if spec.is_list
                                                 or name in either else "")
            need = "one of" if name in either else "required" if spec.required else "optional"
            if markdown:
                lines.append(f"- `{name}` ({option}, {need}): {spec.help}")
                continue
            head = f"  {name:14} {option:24} {need:9} "
            if screen_.width is not None and screen_.width - len(head) < 24:
                # (narrow: the help under its field, indented, rather than 24 columns wide)
                lines += [fold(f"{name}  {option}  {need}", first="  ", rest=" " * 6),
                          fold(spec.help, first=" " * 6, rest=" " * 6)]
            else:
                lines.append(fold(spec.help, first=head, rest=" " * len(head)))
        if either:
            lines += ["", fold(f"Exactly one of {' and '.join(either)}: "
                               f"--{either[0].replace('_', '-')} once gives {either[0]}, "
                               f"repeated gives {either[1]}.", rest="")]
        if type_name:
            lines += ["", "Example:", _shell_folded(_example(kind), screen_.width)]
        click.echo("\n".join(lines) + "\n")


def _shell_folded(command: str, width: int | None) -> str:
    """A command line indented by two, folded at ``width`` with a backslash at each
    line's end (so it can be pasted as it is); one line where there is no width."""
    if width is None or len(command) + 2 <= width:
        return "  " + command
    import textwrap

    return " \\\n".join(textwrap.wrap(command, width - 2, initial_indent="  ",
                                      subsequent_indent="      ", break_long_words=False,
                                      break_on_hyphens=False))


def _example(kind: Any) -> str:
    """A command line that records one event of ``kind``, its required fields filled with
    placeholders."""
    from commands.record import _option_name

    words = ["blockledger", "record", kind.name, kind.subject.upper(), "--at", "2017-07-14",
             "--source", "https://example.org/notice"]
    for name, spec in kind.fields():
        if not spec.required and name != (kind.either or ("",))[0]:
            continue
        option = _option_name(name, spec)
        if spec.kind == "bool":
            words.append(option)
        elif spec.kind == "fields":
            words += [option, "FIELD=VALUE"]
        else:
            words += [option, (spec.singular or name).upper()]
    return " ".join(words)


def register(group: click.Group) -> None:
    """Add ``types`` to the ``blockledger`` group."""
    group.add_command(types)
