"""``blockledger import-ooni``: OONI measurements into the ledger, through the one import path.

Registered on the ``blockledger`` group by ``cli``. The reading is ``sources.ooni``; the
writing is ``projections.importing``, as for ``import``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import IO, Any

import click

from commands.context import Context, pass_context
from commands.importing import batch_options
from domain.errors import BadInput
from projections.importing import import_facts
from sources.holders import read_holders
from sources.measurements import Place, files_of, read_objects, spooled
from sources.ooni import READ, Conversion

#: Unknown hosts listed by name in the summary (the most measured first); the rest counted.
LISTED = 20


@click.command("import-ooni")
@click.argument("source", metavar="FILE|DIR|-")
@click.option("--register", is_flag=True,
              help="Register one platform per registrable domain (Public Suffix List) of "
              "the hosts no platform holds, before their observations.")
@batch_options
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@pass_context
def import_ooni(obj: Context, source: str, register: bool, batch_commit: bool,
                batch_size: int, as_json: bool) -> None:
    """Import OONI Web Connectivity measurements as access-observed events.

    FILE is JSON Lines of measurements as OONI publishes them, gzip-compressed or not; DIR
    a directory of such files (*.jsonl, *.json, *.jsonl.gz, *.json.gz, read in sorted
    order of their paths); - standard input. Each measurement becomes an observation of
    the platform that held the measured host at that time (the host itself, else its
    nearest parent domain up to the registrable domain): accessible from
    test_keys.accessible, method from test_keys.blocking, network from probe_asn and
    probe_network_name, jurisdiction from probe_cc, its time from measurement_start_time,
    its source the measurement's OONI Explorer page. Measurements of other tests, with
    accessible null, failing for OONI's control too (blocking false), or from a probe
    that did not share its country (ZZ) are skipped and counted; hosts no platform holds
    are counted and listed.

    As import: streamed, all or nothing (a malformed line, named by file and line, exits
    2; an observation the rules refuse exits 1; nothing is written), or in batches with
    --batch-commit; ids derive from report_id and input, so importing again adds nothing.

    \b
    Examples:
      blockledger import-ooni 2024011500_ID_webconnectivity.n1.0.jsonl.gz
      blockledger import-ooni measurements/ --register --json
      zcat *.jsonl.gz | blockledger import-ooni -
    """
    if obj.fmt not in (None, "json"):
        raise BadInput(f"--format {obj.fmt} is not one of this command's formats (json)",
                       field="format")
    as_json = as_json or obj.fmt == "json"
    files, others = ([], 0) if source == "-" else files_of(source)
    with ExitStack() as stack:
        stdin: IO[bytes] | None = None
        if source == "-":
            stdin = stack.enter_context(click.open_file("-", "rb"))
            if register:  # read twice: once to plan the registrations
                stdin = stack.enter_context(spooled(stdin))
        ledger = stack.enter_context(obj.ledger(write=True))
        conversion = Conversion(read_holders(ledger))

        def read() -> Iterator[tuple[Place, Any]]:
            if stdin is not None:
                if register:
                    stdin.seek(0)
                yield from read_objects(stdin, "stdin", READ)
                return
            for path in files:
                try:
                    with path.open("rb") as stream:
                        yield from read_objects(stream, str(path), READ)
                except OSError as error:
                    raise BadInput(f"{path}: {error.strerror or error}",
                                   field="file") from None

        def facts() -> Iterator[tuple[Place, Any]]:
            if register:
                conversion.plan(read())
                yield from conversion.registrations()
            yield from conversion.facts(read())

        done = import_facts(ledger, facts(), operator=obj.operator, batch_size=batch_size,
                            batch_commit=batch_commit)
    summary = _summary(conversion, done, len(files) if source != "-" else 1, others)
    if as_json:
        click.echo(_json(summary))
    else:
        click.echo(_human(summary))


def _summary(conversion: Conversion, done: Any, files: int, others: int) -> dict[str, Any]:
    registered = len(conversion.registered)
    hosts = sorted(conversion.unknown.items(), key=lambda item: (-item[1], item[0]))
    return {
        "files": files,
        "other_files": others,
        "measurements": conversion.measurements,
        "imported": done.recorded - registered,
        "already_present": done.skipped,
        "registered": conversion.registered,
        "matched_by_parent_domain": conversion.by_parent,
        "skipped": dict(sorted(conversion.skipped.items())),
        "unknown_hosts": {
            "hosts": len(conversion.unknown),
            "measurements": conversion.unknown_measurements,
            "listed": [{"host": host, "measurements": n} for host, n in hosts[:LISTED]],
            "more": max(0, len(hosts) - LISTED),
        },
    }


def _json(summary: dict[str, Any]) -> str:
    import json

    return json.dumps(summary, indent=2)


def _n(count: int, word: str) -> str:
    """``count`` and ``word``, plural unless one."""
    return f"{count} {word}{'s' * (count != 1)}"


def _human(s: dict[str, Any]) -> str:
    files = _n(s["files"], "file")
    if s["other_files"]:
        files += f" ({s['other_files']} other files in the directory not read)"
    lines = [f"read {_n(s['measurements'], 'measurement')} from {files}",
             f"imported {_n(s['imported'], 'observation')}"
             + (f" ({s['already_present']} already in the ledger, skipped)"
                if s["already_present"] else "")]
    if s["registered"]:
        names = ", ".join(s["registered"][:LISTED])
        more = len(s["registered"]) - LISTED
        lines.append(f"registered {_n(len(s['registered']), 'platform')}: {names}"
                     + (f" and {more} more" if more > 0 else ""))
    if s["matched_by_parent_domain"]:
        lines.append(f"{_n(s['matched_by_parent_domain'], 'observation')} of a subdomain "
                     "recorded at the parent domain its platform holds")
    if s["skipped"]:
        total = sum(s["skipped"].values())
        lines.append(f"skipped {_n(total, 'measurement')}: "
                     + ", ".join(f"{n} {_REASONS.get(k, k)}" for k, n in s["skipped"].items()))
    unknown = s["unknown_hosts"]
    if unknown["hosts"]:
        lines.append(f"{_n(unknown['measurements'], 'measurement')} of "
                     f"{_n(unknown['hosts'], 'host')} no platform holds (record them, or "
                     "import again with --register):")
        lines += [f"  {row['host']}  {row['measurements']}" for row in unknown["listed"]]
        if unknown["more"]:
            lines.append(f"  ... and {_n(unknown['more'], 'more host')} (--json lists the "
                         f"first {LISTED} too)")
    return "\n".join(lines)


_REASONS = {
    "other-test": "of other tests",
    "accessible-null": "with accessible null (OONI could not tell)",
    "site-down": "down for OONI's control too (blocking false, accessible false)",
    "ambiguous-host": "of a host several platforms held then",
    "platform-named-like-an-order": "of a platform that shares its name with an order",
    "country-not-shared": "from a probe that did not share its country (ZZ)",
}


def register(group: click.Group) -> None:
    group.add_command(import_ooni)

