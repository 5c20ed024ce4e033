"""Errors in the words the user typed: a ``BadInput`` of the command line names the option
(or environment variable) it is about, not the ledger's internal field name ("field 'db':
no ledger..." becomes "--db / BLOCKLEDGER_DB: no ledger...")."""

from __future__ import annotations

from domain.errors import BadInput, LedgerError

#: Internal field names and the options (and variables) that set them.
OPTIONS = {
    "db": "--db / BLOCKLEDGER_DB",
    "operator": "--operator / BLOCKLEDGER_OPERATOR",
    "key": "--key / BLOCKLEDGER_SIGNING_KEY",
    "tz": "--tz / BLOCKLEDGER_TZ",
    "occurred_at": "--at",
    "as-of": "--as-of", "as_of": "--as-of",
    "as-known-at": "--as-known-at", "as_known_at": "--as-known-at",
    "sources": "--source", "id": "--id",
    # Arguments: the message quotes what was typed, which says enough.
    "subject": "", "type": "", "platform": "", "file": "",
}


def option_for(field: str) -> str:
    """The option a field is given with on the command line."""
    base = field.split("[")[0]
    if base in OPTIONS:
        return OPTIONS[base]
    name = field.removeprefix("data.").split(".")[0].split("[")[0]
    from domain.declaration import REGISTRY

    for kind in REGISTRY.values():
        spec = dict(kind.fields()).get(name)
        if spec is not None:
            flag = (spec.singular or name).replace("_", "-")
            return f"--{flag}/--not-{flag}" if spec.kind == "bool" else f"--{flag}"
    return "--" + name.replace("_", "-")


def flag_of(field: str) -> str:
    """The first flag of ``option_for(field)``: what an error message names (empty for
    an argument, whose value the message quotes)."""
    return option_for(field).split(" / ")[0].split("/")[0]


def in_users_words(error: LedgerError) -> str:
    """The one line to show for ``error``."""
    if not isinstance(error, BadInput) or error.line is not None or not error.field:
        return str(error)
    option = option_for(error.field)
    if not option or flag_of(error.field) in error.message:
        return error.message
    return f"{option}: {error.message}"
