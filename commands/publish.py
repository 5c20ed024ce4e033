"""The publishing commands: publish (a static site that verifies itself in the reader's
browser) and serve (a read-only local preview of one).

Registered on the ``blockledger`` group by ``cli``; thin like the rest of the CLI: the
site is made by ``website``.
"""

from __future__ import annotations

from pathlib import Path

import click

from commands.audit import Verification, _origin
from commands.context import Context, pass_context
from commands.read import check_jurisdiction
from commands.report import produced_by
from domain.errors import BadInput, IntegrityFailure
from ledger.checkpoint import load_private_key


@click.command()
@click.argument("directory", metavar="DIR")
@click.option("--key", "key_file", metavar="PEM", help="Sign the publication's checkpoint "
              "with this Ed25519 private key (default: the operator's, BLOCKLEDGER_SIGNING_KEY)."
              " Readers' browsers check it against its public key, shown on every page.")
@click.option("--title", default="Blocking decisions: the ledger", show_default=True,
              help="The site's title.")
@click.option("--jurisdiction", metavar="CC", help="The site's own jurisdiction (ISO 3166-1 "
              "alpha-2, or a 3166-2 subdivision): its home opens on every platform's answer "
              "there, its platform pages show that answer first. Not a default: the "
              "ledger's own (init --jurisdiction) is.")
@click.option("--origin", help="The log's name in the checkpoint (default: blockledger/<db>; "
              "or set BLOCKLEDGER_ORIGIN). Keep it the same from one publication to the next.")
@click.option("--no-keep", is_flag=True, help="Keep no copy of the published checkpoint in "
              "the ledger: reads only, so a read-only auditor role can publish (slower: each "
              "platform's report then folds the platform index from the log).")
@pass_context
def publish(obj: Context, directory: str, key_file: str | None, title: str,
            jurisdiction: str | None, origin: str | None, no_keep: bool) -> None:
    """Write a static site of the ledger into DIR: a home page, a page per platform, order
    and request, and the downloads (export, intervals, checkpoint, provenance reports).

    Every page checks itself in the reader's browser: each event's SHA-256 and inclusion
    proof against a checkpoint signed now with --key, and (home page) that the checkpoints
    of earlier publications in DIR, kept under DIR/archive, are extended by it. It opens
    from file:// or any static host; it loads nothing from the network.

    Like 'checkpoint', it vouches for the history: the ledger must pass all of 'verify'
    first, and a copy of the published checkpoint is kept in the ledger unless --no-keep.

    The home lists every platform once per jurisdiction it has an answer in (the
    ledger's own per-jurisdiction status); --jurisdiction CC is the site's own: the
    home's filter starts on it and every platform gets CC's answer. It is no default for
    orders that name none: the ledger's own default is ('init --jurisdiction', a signed
    event), so that no setting outside the log moves an order to another state.

    Exit 2 (nothing written) for bad input, a DIR that is neither new, empty nor a
    publication, or --jurisdiction over a ledger with orders that bind none; exit 3
    (nothing written) when the ledger does not verify or does not extend the checkpoint
    last published in DIR.
    """
    from website.archive import earlier, proofs
    from website.files import check_directory, site_files, write_site
    from website.gather import gather, unattributed

    target = Path(directory)
    check_directory(target)
    if jurisdiction is not None:
        jurisdiction = check_jurisdiction(jurisdiction)
    key = load_private_key(key_file) if key_file else obj.signing_key()
    if key is None:
        raise BadInput("publish signs its checkpoint: give --key PEM (an Ed25519 private "
                       "key) or set BLOCKLEDGER_SIGNING_KEY", field="key")
    if not obj.target.exists():  # a write would create it: publishing nothing is a mistake
        raise BadInput(f"no ledger at {obj.target}: run 'blockledger init' or import first",
                       field="db")
    previous = earlier(target)
    log = _origin(obj, origin)
    with obj.ledger(write=not no_keep) as ledger:
        checked = Verification(ledger)
        if not checked.ok:
            raise IntegrityFailure(f"refused: no publication of a ledger that does not verify "
                                   f"({checked.failure()}); nothing written")
        if jurisdiction is not None and (unbound := unattributed(ledger)):
            raise BadInput(f"--jurisdiction {jurisdiction}: {len(unbound)} order(s) name no "
                           f"jurisdiction and the ledger has no default ({unbound[0]}); "
                           f"record it in the ledger with 'blockledger init --jurisdiction "
                           f"{jurisdiction}', then publish", field="jurisdiction")
        pub = gather(ledger, origin=log, key=key, keep=not no_keep,
                     jurisdiction=jurisdiction)
        archive = proofs(previous, pub.checkpoint, pub.leaves, key, pub.signer.name)
        files = site_files(ledger, pub, key=key, title=title, archive=archive,
                           previous=previous,
                           produced_by=produced_by())
    write_site(target, files)
    click.echo(f"published {len(pub.platforms)} platform(s), "
               f"{pub.checkpoint.tree_size} events to {target}/index.html"
               + (f"; {len(archive)} earlier publication(s) archived and proven extended"
                  if archive else ""), err=True)


@click.command()
@click.argument("directory", metavar="DIR")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="The port on 127.0.0.1 (0: any free one).")
def serve(directory: str, port: int) -> None:
    """Preview a publication: serve DIR read-only on 127.0.0.1 until interrupted.

    Only GET and HEAD, only files inside DIR, never a listing; for checking a site before
    uploading it, not for hosting it. Exit 2 when DIR is not a publication or the port is
    taken.
    """
    from website.serve import preview

    preview(Path(directory), port, lambda url: click.echo(f"serving {directory} at {url} "
                                                          "(Ctrl-C to stop)", err=True))


def register(group: click.Group) -> None:
    """Add the publishing commands to the ``blockledger`` group."""
    group.add_command(publish)
    group.add_command(serve)
