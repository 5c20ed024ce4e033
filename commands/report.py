"""The reports' commands: report provenance, and verify-proof (which needs no ledger).

Registered on the ``blockledger`` group by ``cli``; thin like the rest of the CLI.
"""

from __future__ import annotations

import json
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import click
import orjson

from commands.audit import _read
from commands.completion import references
from commands.context import Context, as_known_at_option, as_of_option, pass_context
from commands.output import check_output, force_option, write_text, written
from commands.read import format_options
from domain.errors import BadInput, IntegrityFailure
from ledger.checkpoint import load_private_key, load_public_key
from projections.proof import prove_report
from projections.provenance import provenance, sign_report
from projections.report_render import first_line, render_markdown, render_prov
from projections.report_times import Clock, user_zone


@click.group()
def report() -> None:
    """Reports for auditors and courts."""


def produced_by() -> dict[str, str]:
    """The program that makes the report: a statement of the producer, like
    ``generated_at`` (nothing in the evidence proves it; the report's signature covers it)."""
    try:
        version = metadata.version("blockledger")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        version = "unknown"
    return {"name": "blockledger", "version": version}


def _failed(ledger: Any, subject: str, as_of: Any, as_known_at: Any, note: str | None,
            error: IntegrityFailure, jurisdiction: str | None = None) -> dict[str, Any]:
    """The report of a ledger that does not give its checkpoint: still made, from a replay
    of the log and without proofs (as a report without a checkpoint is), and FAILED."""
    from projections.provenance import _unproven  # the lead's replay; no public name yet

    result = _unproven(ledger, subject, as_of, as_known_at, note,
                       f"the ledger fails verification: {error}", jurisdiction)
    if result["verification"].get("ok"):  # the chain holds, but not the checkpoint's roots
        result["verification"] = {"ok": False, "events": result["ledger"]["events"],
                                  "first_bad_position": None, "reason": str(error)}
    return result


def _template_dir(value: str | None) -> str | None:
    if value is not None and not Path(value).is_dir():
        raise BadInput(f"--template {value!r} is not a directory of templates",
                       field="template")
    return value


@report.command("provenance")
@click.argument("subject", shell_complete=references("platform", "order", "request"))
@click.option("--format", "fmt", type=click.Choice(["md", "html", "pdf", "json", "prov-json"]),
              default=None, help="md (the default), html, pdf (the html page printed by "
              "headless Chromium; needs -o FILE), json or prov-json.")
@click.option("-o", "--output", metavar="FILE", help="Write to FILE instead of stdout (never "
              "over an existing file without --force, never over the ledger).")
@force_option
@click.option("--checkpoint", "checkpoint_file", metavar="FILE",
              help="Cite this checkpoint (default: the latest kept in the ledger).")
@click.option("--key", "key_file", metavar="PEM", help="Sign the report with this Ed25519 "
              "private key (default: the operator's, --key or BLOCKLEDGER_SIGNING_KEY).")
@click.option("--tz", "tz", metavar="ZONE", help="Show times in this IANA zone (md, html, "
              "pdf; JSON stays ISO 8601). Default: BLOCKLEDGER_TZ, else UTC.")
@click.option("--paper", type=click.Choice(["a4", "letter"]), default=None,
              help="Page size to print on (html: default the printer's; pdf: default a4).")
@click.option("--template", "template_dir", metavar="DIR", help="Your own templates (html, "
              "pdf): a report.html.j2 or report.css there replaces the bundled one.")
@click.option("--jurisdiction", metavar="CC", help="Answer for one state (ISO 3166-1 alpha-2, "
              "or an ISO 3166-2 subdivision): the summary, timeline and status are its own, "
              "as 'status --jurisdiction' gives them; every event is still listed, marked "
              "with where it counts. Proven against a checkpoint of index version 3.")
@as_of_option
@as_known_at_option
@pass_context
def provenance_report(obj: Context, subject: str, fmt: str, output: str | None,
                      checkpoint_file: str | None, as_of: str | None,
                      as_known_at: str | None, force: bool, key_file: str | None,
                      tz: str | None, paper: str | None, template_dir: str | None,
                      jurisdiction: str | None) -> None:
    """Every event concerning SUBJECT with its sources, hash and inclusion proof, and the
    proof that none was left out; signed as a whole when a key is given.

    The html form opens with a summary (the subject's state, each order's authority,
    basis, targets and every interval in which it was in force, the requests and their
    conditions) and a timeline, and embeds the JSON report, so that 'verify-proof
    report.html' checks it as it checks the JSON. The pdf form is that page printed by
    headless Chromium (exit 2, nothing written, without it); keep the html or json form
    beside it for verify-proof. Exit 3 when the ledger fails verification: the report is
    still written, and says FAILED first.

    \b
    Examples:
      blockledger report provenance telegram            # Markdown on stdout
      blockledger report provenance telegram --format html -o telegram.html --tz Asia/Jakarta
      blockledger report provenance telegram --format pdf -o telegram.pdf
      blockledger report provenance telegram --format json -o r.json
      blockledger report provenance telegram --jurisdiction BR --format html -o br.html
      blockledger verify-proof r.json
    """
    from commands.context import parse_when
    from commands.read import check_jurisdiction

    if jurisdiction is not None:
        jurisdiction = check_jurisdiction(jurisdiction)

    # --format and --tz given before the command count too (commands.context.Context).
    if fmt is None:
        fmt = obj.fmt or "md"
        if fmt not in ("md", "html", "pdf", "json", "prov-json"):
            raise BadInput(f"--format {fmt} is not one of this command's formats (md, html, "
                           "pdf, json, prov-json)", field="format")
    if tz is None:
        tz = obj.tz
    clock = Clock(user_zone(tz))
    template_dir = _template_dir(template_dir)
    if fmt == "pdf" and not output:
        raise BadInput("--format pdf writes a file: give -o FILE", field="output")
    if output:
        check_output(output, force=force, target=obj.target)
    if fmt == "pdf":
        from projections.report_pdf import chromium

        chromium()  # no Chromium: say so before reading the ledger
    note = _read(checkpoint_file, "checkpoint") if checkpoint_file else None
    key = load_private_key(key_file) if key_file else obj.signing_key()
    when, known = parse_when(as_of, "as-of"), parse_when(as_known_at, "as-known-at")
    with obj.ledger() as ledger:
        broken: IntegrityFailure | None = None
        try:
            result = provenance(ledger, subject, as_of=when, as_known_at=known,
                                checkpoint_note=note, jurisdiction=jurisdiction)
        except IntegrityFailure as error:
            broken = error
            try:
                result = _failed(ledger, subject, when, known, note, error, jurisdiction)
            except IntegrityFailure:  # too damaged to replay: no report, exit 3
                raise error from None
    covered = (result.get("checkpoint") or {}).get("tree_size")
    held = (result.get("ledger") or {}).get("events")
    if result.get("proven") and isinstance(covered, int) and isinstance(held, int) \
            and held > covered:  # an unproven report is a replay of every event
        click.echo(f"note: the checkpoint covers {covered} of the ledger's {held} events; "
                   f"the {held - covered} recorded after it are not in this report (run "
                   "'blockledger checkpoint' first to include them)", err=True)
    result = sign_report({**result, "produced_by": produced_by()}, key)
    if fmt == "json":
        text = orjson.dumps(result, option=orjson.OPT_INDENT_2).decode() + "\n"
    elif fmt == "md":
        text = render_markdown(result, clock=clock)
    elif fmt == "prov-json":
        text = render_prov(result)
    else:
        from projections.report_html import render_html  # Jinja2: only html and pdf need it

        text = render_html(result, clock=clock, template_dir=template_dir,
                           paper=paper or ("a4" if fmt == "pdf" else None))
    if fmt == "pdf":
        from projections.report_pdf import print_pdf

        with written(output, force=force, target=obj.target) as out:  # type: ignore[arg-type]
            out.write(print_pdf(text))
    elif output:
        write_text(output, text, force=force, target=obj.target)
    else:
        click.echo(text, nl=False)
    failed = first_line(result)
    if output and not failed:
        click.echo(f"report written to {output}", err=True)
    if failed:
        why = str(broken) if broken else failed[len("FAILED: "):]
        click.echo(f"error: {why}; the report was "
                   f"{'written' if output else 'printed'} and says FAILED first", err=True)
        sys.exit(IntegrityFailure.exit_code)


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
@click.argument("report_file", metavar="REPORT")
@click.option("--public-key", metavar="PEM", help="The checkpoints must be signed by this key.")
@click.option("--report-key", metavar="PEM", help="The report must be signed by this key.")
@click.option("--template", "template_dir", metavar="DIR", help="An HTML report made with "
              "'report --template DIR': render it with the same templates to compare.")
@click.option("--embedded-only", is_flag=True, help="For an HTML report: prove only the JSON "
              "it embeds, and say that its visible text was not checked.")
@format_options(choices=("text", "json"), default="text")
def verify_proof(report_file: str, public_key: str | None, report_key: str | None,
                 template_dir: str | None, embedded_only: bool, fmt: str) -> None:
    """Check a provenance report on its own, without any ledger: every event's hash,
    inclusion proof and signature, the proof that no event was left out or added, and that
    every other field is what those events give; with --public-key the checkpoints'
    signatures, with --report-key the report's. Exit 3 names what fails.

    REPORT is the JSON report, or an HTML report: its embedded JSON is checked exactly as
    the JSON one, and the page must be exactly what that proven report renders to (so
    that what a reader sees is proven too); otherwise exit 3, unless --embedded-only.

    A page drawn by an earlier version's rules (its summary's divergences) verifies only
    if the report's signature covers a generated_at before that rule was replaced: the
    page is then an honest render of a proven report by the version that made it (exit 0),
    and the ok line names the rule and, per target, what the page draws and what the
    current rules draw. A report made since, or unsigned, rendered by the earlier rule
    fails (exit 3).

    --json prints {"ok", "events", "tree_size", "checkpoint_signature", "report_signature",
    "page"}: page is null for a JSON report, else {"checked" (false with
    --embedded-only), "rule" ("current" or the earlier rule's name), "earlier" (null, or
    its words, generated_at, replaced_at and differences: [{"target", "page",
    "current"}])}. A failure is the one-line error and its exit code, as without --json.
    """
    text = _read(report_file, "report")
    page = text if text.lstrip()[:1] == "<" else None
    if page is not None:
        from projections.proof import embedded_report

        text = embedded_report(page)
    template_dir = _template_dir(template_dir)
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
    page_said, earlier, checked = "", None, page is not None and not embedded_only
    if page is not None and embedded_only:
        page_said = ("; ONLY the JSON embedded in the page is proven: what the page shows "
                     "was not checked")
    elif page is not None:
        from projections.proof import check_page

        earlier = check_page(page, report_obj, template_dir)
        page_said = "; the page is exactly what the proven report renders to" + (
            f" {earlier.said()}" if earlier else "")
    if fmt == "json":
        click.echo(orjson.dumps({
            "ok": True, "events": proven.events, "tree_size": proven.tree_size,
            "checkpoint_signature": "valid" if key else "not checked",
            "report_signature": proven.report_signed,
            "page": None if page is None else {
                "checked": checked, "rule": None if not checked else (
                    earlier.rule if earlier else "current"),
                "earlier": earlier.to_json() if earlier else None}}).decode())
        return
    report_said = {"signed by the key": "report signed by --report-key",
                   "signed": "report signature valid but its key not checked (no "
                             "--report-key)",
                   "unsigned": "report not signed"}[proven.report_signed]
    click.echo(f"ok: {proven.events} events proven complete against the checkpoint of "
               f"{proven.tree_size} events; "
               + ("checkpoint signature valid" if key
                  else "checkpoint signature not checked (no --public-key)")
               + f"; {report_said}{page_said}")


def register(group: click.Group) -> None:
    """Add the reports' commands to the ``blockledger`` group."""
    for command in (report, verify_proof):
        group.add_command(command)
