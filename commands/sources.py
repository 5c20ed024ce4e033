"""``blockledger import-ooni``: OONI measurements into the ledger, through the one import path.

Registered on the ``blockledger`` group by ``cli``. The reading is ``sources.ooni``; the
writing is ``projections.importing``, as for ``import``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from typing import IO, Any

import click

from commands.context import Context, pass_context
from commands.importing import batch_options, default_jurisdiction
from domain.errors import BadInput
from projections.importing import import_facts
from sources.holders import read_holders
from sources.measurements import Place, files_of, read_objects, spooled
from sources.ooni import READ
from sources.ooni_conversion import REPEATED, Conversion
from sources.ooni_repeats import in_ledger

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
    accessible null, failing for OONI's control too (blocking false), from a probe that
    did not share its country (ZZ), reachable at a subdomain matched through its parent,
    of a host nobody held then, or repeating an earlier one's report_id and input with
    other content are skipped and counted; hosts no platform holds are counted and
    listed.

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
        conversion = Conversion(read_holders(ledger), in_ledger(ledger))

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
                    raise BadInput(f"{path}: {error.strerror or error}") from None

        def facts() -> Iterator[tuple[Place, Any]]:
            if register:
                conversion.plan(read())
                yield from conversion.registrations()
            yield from conversion.facts(read())

        done = import_facts(ledger, facts(), operator=obj.operator, batch_size=batch_size,
                            batch_commit=batch_commit)
        anywhere = _counted_anywhere(ledger, conversion)
    summary = _summary(conversion, done, len(files) if source != "-" else 1, others)
    if as_json:
        click.echo(_json(summary))
    else:
        click.echo(_human(summary))
    _warn_repeated(conversion)
    if anywhere:
        _warn_anywhere(anywhere)


def _summary(conversion: Conversion, done: Any, files: int, others: int) -> dict[str, Any]:
    registered = len(conversion.registered)
    repeats = conversion.repeats
    skipped = conversion.skipped + Counter({REPEATED: repeats.repeated})
    hosts = sorted(conversion.unknown.items(), key=lambda item: (-item[1], item[0]))
    return {
        "files": files,
        "other_files": others,
        "measurements": conversion.measurements,
        "imported": done.recorded - registered,
        "already_present": done.skipped + repeats.already,
        "already_present_other_target": repeats.rematched,
        "registered": conversion.registered,
        "matched_by_parent_domain": conversion.by_parent,
        "skipped": dict(sorted(skipped.items())),
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
    if s["already_present_other_target"]:
        lines.append(f"{s['already_present_other_target']} of them matched now at another "
                     "target than when imported (the ledger keeps the first match)")
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
        # one reason a line, as the hosts below: joined, they made a line of 200 characters
        lines.append(f"skipped {_n(total, 'measurement')}:")
        lines += [f"  {n} {_REASONS.get(k, k)}" for k, n in s["skipped"].items()]
    unknown = s["unknown_hosts"]
    if unknown["hosts"]:
        lines.append(f"{_n(unknown['measurements'], 'measurement')} of "
                     f"{_n(unknown['hosts'], 'host')} no platform holds:")
        lines += [f"  {row['host']}  {row['measurements']}" for row in unknown["listed"]]
        if unknown["more"]:
            lines.append(f"  ... and {_n(unknown['more'], 'more host')} (--json lists the "
                         f"first {LISTED} too)")
        lines.append("(record them as targets, or import again with --register)")
    return "\n".join(lines)


_REASONS = {
    "other-test": "of other tests",
    "accessible-null": "with accessible null (OONI could not tell)",
    "site-down": "down for OONI's control too (blocking false, accessible false)",
    "ambiguous-host": "of a host several platforms held then",
    "platform-named-like-an-order": "of a platform that shares its name with an order",
    "country-not-shared": "from a probe that did not share its country (ZZ)",
    "not-held-then": "of a host no platform held then (held from later: date its "
                     "registration or targets-added earlier to import them)",
    "reachable-subdomain": "reachable at a subdomain of the target its platform holds "
                           "(which says nothing of that target; add the subdomain as a "
                           "target to observe it)",
    "ambiguous-url": "of a URL with userinfo or a backslash before its host (which host "
                     "was measured cannot be told)",
    "repeated-measurement": "repeating the report_id and input of an earlier one with "
                            "other content (the first kept)",
}


def _counted_anywhere(ledger: Any, conversion: Conversion) -> Counter[str]:
    """The countries of the observations imported (how many each) of platforms with an
    order that names no jurisdiction, in a ledger with no default: such an order binds
    no country in particular, so status compares every observation with it, wherever it
    was made (``domain.jurisdictions.covers``)."""
    if not conversion.jurisdictions or default_jurisdiction(ledger) is not None:
        return Counter()
    from projections.status import platform_status
    from projections.views import Views

    views = Views(ledger)
    observed = conversion.jurisdictions
    # The kept status of every platform in one query where the import observed many of
    # them (a quarter or more), else platform by platform.
    every = (views.current_status() if len(observed) * 4 >= len(conversion.holders.platforms)
             else None)
    kept = {status["platform"]: status for status in every or ()}
    found: Counter[str] = Counter()
    for platform, countries in observed.items():
        status = kept.get(platform)
        if status is None:
            one = views.current_status(platform)
            status = one[0] if one else platform_status(views.book(platform=platform),
                                                        platform)
        if any(order["jurisdiction"] is None for order in status["orders"]):
            found.update(countries)
    return found


def _warn_anywhere(countries: Counter[str]) -> None:
    total = sum(countries.values())
    click.echo(f"warning: {_n(total, 'observation')} (from "
               f"{', '.join(sorted(countries))}) {'is' if total == 1 else 'are'} of "
               "platforms with orders that name no jurisdiction, and the ledger has no "
               "default: status compares them with those orders wherever they were made. "
               "Set the ledger's default (blockledger init --jurisdiction CC), or correct "
               "the orders (a correction setting data.jurisdiction)", err=True)


def _warn_repeated(conversion: Conversion) -> None:
    """One line on stderr for each repeated measurement named (the rest counted)."""
    repeats = conversion.repeats
    for r in repeats.named:
        click.echo(f"warning: {r.place} repeats the measurement of {r.first} (report_id "
                   f"{r.report_id}, input {r.input}) with other content: skipped, the "
                   "first kept", err=True)
    if repeats.repeated > len(repeats.named):
        more = repeats.repeated - len(repeats.named)
        click.echo(f"warning: and {_n(more, 'more repeated measurement')}", err=True)


def register(group: click.Group) -> None:
    group.add_command(import_ooni)

