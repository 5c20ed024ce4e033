"""Where commands write their ``-o FILE``: never over an existing file unless ``--force``,
and never over the ledger's own files, whatever the flags.

A careless ``export -o blockledger.db`` used to replace the ledger with its own export.
Now every ``-o`` goes through ``written``: the output is written to a temporary file
beside the destination and moved into place only when complete, so an interrupted
command leaves nothing half-written either.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import click

from domain.errors import BadInput
from ledger.storage import Target

#: The files SQLite keeps beside a database.
_SIDE_FILES = ("", "-wal", "-shm", "-journal")

force_option = click.option("--force", is_flag=True,
                            help="Overwrite the -o file if it exists (never the ledger's own).")


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
    except OSError:
        return False


def check_output(path: str, *, force: bool, target: Target | None) -> Path:
    """The destination ``path``, after refusing the ledger's own files and (without
    ``force``) an existing file; ``BadInput`` naming the path otherwise."""
    out = Path(path)
    if target is not None and target.path is not None:
        for suffix in _SIDE_FILES:
            if _same(out, Path(str(target.path) + suffix)):
                raise BadInput(f"-o {path!r} is the ledger's own file ({target.path}{suffix}); "
                               "write the output elsewhere", field="output")
    if out.is_dir():
        raise BadInput(f"-o {path!r} is a directory: give a file name", field="output")
    if out.is_symlink() or (out.exists() and not out.is_file()):
        # os.replace would put a regular file where a device, FIFO, socket or link was
        # (as root, '-o /dev/null --force' replaced the device).
        raise BadInput(f"-o {path!r} is not a regular file (a device, pipe, socket or "
                       "link): give a file name, or leave -o out to write to stdout",
                       field="output")
    if out.exists() and not force:
        raise BadInput(f"-o {path!r} exists; pass --force to overwrite it", field="output")
    if not out.parent.exists():
        raise BadInput(f"-o {path!r}: the directory {str(out.parent)!r} does not exist",
                       field="output")
    return out


@contextlib.contextmanager
def written(path: str, *, force: bool, target: Target | None) -> Iterator[IO[bytes]]:
    """A binary file to write the output to; it replaces ``path`` only once complete.

    The checks of ``check_output`` run first, before anything is read or written.
    """
    out = check_output(path, force=force, target=target)
    tmp = tempfile.NamedTemporaryFile("wb", dir=out.parent, prefix=f".{out.name}.",  # noqa: SIM115 (closed below, then moved into place)
                                      delete=False)
    try:
        with tmp:
            yield tmp
        # Checked again at the end: the file may have appeared meanwhile.
        check_output(path, force=force, target=target)
        os.replace(tmp.name, out)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp.name)
        raise


def write_text(path: str, text: str, *, force: bool, target: Target | None) -> None:
    """``written`` for a whole text at once (UTF-8)."""
    with written(path, force=force, target=target) as out:
        out.write(text.encode("utf-8"))
