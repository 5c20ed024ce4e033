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
import os
import sys

import click

from commands.context import Context, LedgerGroup

#: The module that registers each command (``register(group)``); tests/test_commands.py
#: checks that every module's commands are here and nowhere else.
LAZY: dict[str, str] = {
    "checkpoint": "commands.audit",
    "copy": "commands.copy",
    "demo": "commands.setup",
    "export": "commands.read",
    "history": "commands.read",
    "import": "commands.importing",
    "init": "commands.setup",
    "operator": "commands.operator",
    "projections": "commands.audit",
    "publish": "commands.publish",
    "record": "commands.record",
    "report": "commands.report",
    "serve": "commands.publish",
    "status": "commands.read",
    "types": "commands.read",
    "verify": "commands.audit",
    "verify-proof": "commands.report",
}


class LazyGroup(LedgerGroup):
    """The ``blockledger`` group: a command's module is imported when it is asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(LAZY) | set(self.commands))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in LAZY:
            importlib.import_module(LAZY[name]).register(self)
        return self.commands.get(name)


@click.group(cls=LazyGroup)
@click.option("--db", metavar="TARGET", help="SQLite file (default ./blockledger.db) or "
              "postgresql://user@host:port/dbname; or set BLOCKLEDGER_DB.")
@click.option("--operator", metavar="NAME", help="Who records (default: BLOCKLEDGER_OPERATOR, "
              "else your login name).")
@click.option("--key", metavar="FILE", help="Your Ed25519 private key (PEM), which signs what "
              "you record once the ledger has operators; or set BLOCKLEDGER_SIGNING_KEY.")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.version_option(package_name="blockledger")
@click.pass_context
def cli(ctx: click.Context, db: str | None, operator: str | None, key: str | None,
        debug: bool) -> None:
    """An event-sourced ledger of government blocking decisions against online platforms."""
    ctx.obj = Context(db, operator, debug, key)



def main() -> None:
    """The console script."""
    try:
        cli(prog_name="blockledger")
    except BrokenPipeError:
        # The reader went away (`blockledger export | head`): not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)


if __name__ == "__main__":  # pragma: no cover
    main()
