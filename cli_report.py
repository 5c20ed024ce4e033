"""The reports' commands: report provenance, and verify-proof (which needs no ledger).

Registered on the ``blockledger`` group by ``cli``; thin like the rest of the CLI.
"""

from __future__ import annotations

import json
from typing import Any

import click
import orjson

from cli import Context, as_known_at_option, as_of_option, pass_context
from cli_audit import _read
from cli_output import check_output, force_option, write_text
from domain.errors import BadInput, IntegrityFailure
from ledger.checkpoint import load_private_key, load_public_key
from projections.proof import prove_report
from projections.provenance import provenance, sign_report
from projections.report_render import render_html, render_markdown, render_prov


@click.group()
def report() -> None:
    """Reports for auditors and courts."""


RENDERERS = {"md": render_markdown, "html": render_html, "prov-json": render_prov}


@report.command("provenance")
@click.argument("subject")
@click.option("--format", "fmt", type=click.Choice(["md", "html", "json", "prov-json"]),
              default="md", show_default=True)
@click.option("-o", "--output", metavar="FILE", help="Write to FILE instead of stdout (never "
              "over an existing file without --force, never over the ledger).")
@force_option
@click.option("--checkpoint", "checkpoint_file", metavar="FILE",
              help="Cite this checkpoint (default: the latest kept in the ledger).")
@click.option("--key", "key_file", metavar="PEM", help="Sign the report with this Ed25519 "
              "private key (default: the operator's, --key or BLOCKLEDGER_SIGNING_KEY).")
@as_of_option
@as_known_at_option
@pass_context
def provenance_report(obj: Context, subject: str, fmt: str, output: str | None,
                      checkpoint_file: str | None, as_of: str | None,
                      as_known_at: str | None, force: bool, key_file: str | None) -> None:
    """Every event concerning SUBJECT with its sources, hash and inclusion proof, and the
    proof that none was left out; signed as a whole when a key is given."""
    from cli import parse_when

    if output:
        check_output(output, force=force, target=obj.target)
    note = _read(checkpoint_file, "checkpoint") if checkpoint_file else None
    key = load_private_key(key_file) if key_file else obj.signing_key()
    with obj.ledger() as ledger:
        result = provenance(ledger, subject, as_of=parse_when(as_of, "as-of"),
                            as_known_at=parse_when(as_known_at, "as-known-at"),
                            checkpoint_note=note)
    covered = (result.get("checkpoint") or {}).get("tree_size")
    held = (result.get("ledger") or {}).get("events")
    if isinstance(covered, int) and isinstance(held, int) and held > covered:
        click.echo(f"note: the checkpoint covers {covered} of the ledger's {held} events; "
                   f"the {held - covered} recorded after it are not in this report (run "
                   "'blockledger checkpoint' first to include them)", err=True)
    result = sign_report(result, key)
    text = (orjson.dumps(result, option=orjson.OPT_INDENT_2).decode() + "\n" if fmt == "json"
            else RENDERERS[fmt](result))
    if output:
        write_text(output, text, force=force, target=obj.target)
        click.echo(f"report written to {output}", err=True)
    else:
        click.echo(text, nl=False)


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise IntegrityFailure(f"the report gives the key {key[:40]!r} twice in one "
                                   "object: readers differ on which value it means "
                                   "(altered)")
        seen.add(key)
    return dict(pairs)


@click.command("verify-proof")
@click.argument("report_file", metavar="REPORT.json")
@click.option("--public-key", metavar="PEM", help="The checkpoints must be signed by this key.")
@click.option("--report-key", metavar="PEM", help="The report must be signed by this key.")
def verify_proof(report_file: str, public_key: str | None, report_key: str | None) -> None:
    """Check a JSON provenance report on its own, without any ledger: every event's hash,
    inclusion proof and signature, the proof that no event was left out or added, and that
    every other field is what those events give; with --public-key the checkpoints'
    signatures, with --report-key the report's. Exit 3 names what fails."""
    text = _read(report_file, "report")
    try:
        report_obj: Any = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        raise BadInput(f"{report_file} is not JSON: {error}") from None
    # A key given twice in one object reads differently with other JSON readers (the
    # first value, or the last): such a file says two things, and is refused.
    try:
        json.loads(text, object_pairs_hook=_unique_pairs)
    except RecursionError:
        raise BadInput(f"{report_file} nests too deep to be a report") from None
    key = load_public_key(public_key) if public_key else None
    signer = load_public_key(report_key) if report_key else None
    proven = prove_report(report_obj, key, signer)
    report_said = {"signed by the key": "report signed by --report-key",
                   "signed": "report signature valid but its key not checked (no "
                             "--report-key)",
                   "unsigned": "report not signed"}[proven.report_signed]
    click.echo(f"ok: {proven.events} events proven complete against the checkpoint of "
               f"{proven.tree_size} events; "
               + ("checkpoint signature valid" if key
                  else "checkpoint signature not checked (no --public-key)")
               + f"; {report_said}")


def register(group: click.Group) -> None:
    """Add the reports' commands to the ``blockledger`` group."""
    for command in (report, verify_proof):
        group.add_command(command)
