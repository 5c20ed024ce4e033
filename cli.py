"""The blockledger command line: the entry point, and only that.

Errors reach the user as one line on stderr: exit 1 for a refusal by a rule, 2 for bad
usage or input, 3 for an integrity failure (what is stored, or a report, does not verify;
a read that meets damage), 4 for a store that cannot be reached or used; ``--debug`` shows
the traceback instead (``commands.context.LedgerGroup``).

The commands live in ``commands/``, one module per group, with what they share at its
bottom (``commands.context``): arrows run one way, ``cli → commands → projections →
ledger → domain``. A command's module is imported when that command runs (``LAZY``), so
that ``blockledger status`` does not pay for the report renderers, the auditors' commands
or the operators' keys; ``--help`` imports them all to list them.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from commands.context import Context, LedgerGroup
from commands.environment import ENVIRONMENT

#: The module that registers each command (``register(group)``); tests/test_commands.py
#: checks that every module's commands are here and nowhere else.
LAZY: dict[str, str] = {
    "checkpoint": "commands.audit",
    "copy": "commands.copy",
    "demo": "commands.setup",
    "export": "commands.exporting",
    "history": "commands.read",
    "import": "commands.importing",
    "import-ooni": "commands.sources",
    "import-registry": "commands.registry",
    "init": "commands.setup",
    "key": "commands.key",
    "operator": "commands.operator",
    "projections": "commands.audit",
    "publish": "commands.publish",
    "record": "commands.record",
    "report": "commands.report",
    "serve": "commands.publish",
    "status": "commands.read",
    "types": "commands.vocabulary",
    "verify": "commands.audit",
    "verify-proof": "commands.report",
}


#: Options accepted after the command too: (flag, Context attribute, help). There they
#: win over the same option before it; a command that has an option of that name keeps
#: its own. --tz, --format and --json are taken before the command only, and after it
#: by the commands that have them (a command without them refuses them rather than
#: ignoring them).
SHARED = [
    ("--db", "db", "SQLite file (default ./blockledger.db) or postgresql://user@host:port/"
     "dbname."),
    ("--operator", "_operator", "Who records (default: your login name)."),
    ("--key", "key", "Your Ed25519 private key (PEM), which signs what you record once the "
     "ledger has operators."),
]


def _shared_option(flag: str, attr: str, text: str) -> click.Option:
    def keep(ctx: click.Context, _param: click.Parameter, value: Any) -> Any:
        obj = ctx.find_object(Context)
        if obj is not None and value is not None:
            setattr(obj, attr, value)
        return value

    return click.Option([flag], metavar=attr.strip("_").upper(), expose_value=False,
                        callback=keep, help=text + " As before the command.", hidden=True)


def _accept_shared(command: click.Command) -> None:
    """Let ``command`` (and its subcommands) take the shared options after its name."""
    taken = {opt for param in command.params for opt in getattr(param, "opts", ())}
    for flag, attr, text in SHARED:
        if flag not in taken:
            command.params.append(_shared_option(flag, attr, text))
    for sub in getattr(command, "commands", {}).values():
        _accept_shared(sub)


class LazyGroup(LedgerGroup):
    """The ``blockledger`` group: a command's module is imported when it is asked for, and
    its commands take the shared options after their name too."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(LAZY) | set(self.commands))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in LAZY:
            importlib.import_module(LAZY[name]).register(self)
            for loaded in self.commands.values():
                if not getattr(loaded, "_blockledger_shared", False):
                    _accept_shared(loaded)
                    loaded._blockledger_shared = True  # type: ignore[attr-defined]
        return self.commands.get(name)


def _env_help(name: str) -> str:
    return ENVIRONMENT[name][1][0].upper() + ENVIRONMENT[name][1][1:] + "."


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]},
             no_args_is_help=True,
             epilog="Exit codes: 0 done; 1 refused by a rule; 2 bad usage or input; 3 an "
             "integrity failure (the ledger or a report does not verify); 4 the store cannot "
             "be reached or used. Environment: " + ", ".join(ENVIRONMENT) + " (README).")
@click.option("--db", metavar="TARGET", envvar="BLOCKLEDGER_DB", show_envvar=True,
              help=_env_help("BLOCKLEDGER_DB"))
@click.option("--operator", metavar="NAME", envvar="BLOCKLEDGER_OPERATOR", show_envvar=True,
              help=_env_help("BLOCKLEDGER_OPERATOR"))
@click.option("--key", metavar="FILE", envvar="BLOCKLEDGER_SIGNING_KEY", show_envvar=True,
              help=_env_help("BLOCKLEDGER_SIGNING_KEY"))
@click.option("--tz", metavar="ZONE", envvar="BLOCKLEDGER_TZ", show_envvar=True,
              help=_env_help("BLOCKLEDGER_TZ"))
@click.option("--format", "fmt", metavar="FORMAT", help="Output format of the command that "
              "follows (table, json, jsonl, csv; each command lists its own).")
@click.option("--json", "as_json", is_flag=True, help="Short for --format json.")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.version_option(package_name="blockledger")
@click.pass_context
def cli(ctx: click.Context, db: str | None, operator: str | None, key: str | None,
        tz: str | None, fmt: str | None, as_json: bool, debug: bool) -> None:
    """An event-sourced ledger of government blocking decisions against online platforms.

    Options before the command (--db, --operator, --key, --tz, --format, --json) are
    also taken after it.
    """
    if as_json and fmt not in (None, "json"):
        raise click.UsageError(f"--json and --format {fmt} disagree: give one")
    if tz is not None and ctx.get_parameter_source("tz") is click.core.ParameterSource.ENVIRONMENT:
        tz = None  # (read again where it is used, so that a bad one is named as the variable)
    ctx.obj = Context(db, operator, debug, key, tz=tz, fmt="json" if as_json else fmt)


def main() -> None:
    """The console script."""
    cli(prog_name="blockledger")  # (a reader gone away: LedgerGroup.invoke, exit 0)


if __name__ == "__main__":  # pragma: no cover
    main()
