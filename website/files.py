"""Writing a publication into its directory: pages, static files, downloads, checkpoint
and archive, all at once or not at all.

The site is built in a fresh directory beside ``DIR`` and swapped in whole, so that a
failure leaves the old publication as it was and a reader never sees half of a new one.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from domain.errors import BadInput
from ledger.interchange import write_lines
from projections.formats import spreadsheet_safe
from projections.provenance import sign_report
from projections.report_summary import summarise
from projections.report_times import Clock
from website import pages
from website.archive import ARCHIVE, CURRENT, archived_name
from website.gather import Publication
from website.home import home_pages
from website.slider import chunk_files
from website.vendored import hashes_script, noble_script


def _package_text(package: str, *parts: str) -> str:
    return resources.files(package).joinpath(*parts).read_text(encoding="utf-8")


def _static() -> dict[str, str]:
    return {
        "static/report.css": _package_text("projections", "templates", "report.css"),
        "static/site.css": _package_text("website", "static", "site.css"),
        "static/verify.js": _package_text("website", "static", "verify.js"),
        **{f"static/{name}.js": _package_text("website", "static", f"{name}.js")
           for name in ("ui", "fresh", "views", "home", "page")},
        "static/noble-ed25519.js": noble_script(),
        "static/LICENSE-noble-ed25519.txt": _package_text("website", "vendor",
                                                          "noble-ed25519", "LICENSE"),
        "static/noble-hashes.js": hashes_script(),
        "static/LICENSE-noble-hashes.txt": _package_text("website", "vendor",
                                                         "noble-hashes", "LICENSE"),
    }


def intervals_csv(pub: Publication) -> str:
    """Every interval in which an order was in force for a platform, as the provenance
    report's summary gives them (``projections.report_summary``); each cell guarded as
    every CSV of the ledger is (``projections.formats.spreadsheet_safe``): an authority
    named ``=HYPERLINK(...)`` is text in a spreadsheet, not a formula."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["platform", "order", "authority", "state", "from", "to", "blocked"])
    for ref, page in sorted(pub.platforms.items()):
        for order in summarise(page["report"]).orders:
            for period in order.periods:
                writer.writerow([spreadsheet_safe(cell) for cell in (
                    ref, order.ref, order.authority, period.state,
                    period.start_text or period.start.isoformat(),
                    (period.end_text or period.end.isoformat()) if period.end else "",
                    " ".join(period.blocked))])
    return out.getvalue()


def _export(ledger: Any, size: int) -> bytes:
    """The export (JSON Lines) of the events the checkpoint covers."""
    entries = []
    for entry in ledger.entries():
        if len(entries) == size:
            break
        entries.append(entry)
    out = io.BytesIO()
    write_lines(entries, out)
    return out.getvalue()


def site_files(ledger: Any, pub: Publication, *, key: Ed25519PrivateKey, title: str,
               archive: list[dict[str, Any]], previous: list[tuple[str, str, Any]],
               produced_by: dict[str, str]) -> dict[str, str | bytes]:
    """Every file of the publication, by its path in the directory."""
    env = pages.environment()
    clock = Clock()
    files: dict[str, str | bytes] = _static()
    files.update(home_pages(env, pub, title=title, archive=archive, key=key))
    for ref in pub.platforms:
        files[f"platform/{ref}.html"] = pages.platform(env, pub, ref, title=title, clock=clock,
                                                       key=key)
        files.update(chunk_files(pub, ref))
        for part in range(2, pages.parts(pub, ref) + 1):
            files[f"history/{ref}/{part}.html"] = pages.history(env, pub, ref, part,
                                                                 title=title)
        report = sign_report({**pub.platforms[ref]["report"], "produced_by": produced_by}, key)
        files[f"downloads/provenance-{ref}.json"] = orjson.dumps(
            report, option=orjson.OPT_INDENT_2) + b"\n"
    for ref, info in pub.subjects.items():
        for part in range(1, pages.subject_parts(pub, ref) + 1):
            files[pages.subject_path(info["kind"], ref, part)] = pages.subject(
                env, pub, ref, title=title, key=key, part=part)
    files["downloads/index.html"] = pages.downloads(env, pub, title=title)
    files["downloads/export.jsonl"] = _export(ledger, pub.checkpoint.tree_size)
    files["downloads/intervals.csv"] = intervals_csv(pub)
    files[CURRENT] = pub.note
    files[LATEST] = latest_script(pub, archive)
    files["key.pub"] = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    for file, note, checkpoint in previous:
        files[file if file.startswith(ARCHIVE + "/") else archived_name(checkpoint)] = note
    return files


#: Rewritten by every publication at the site's root, and loaded by every page of any
#: publication: a page of an older one, copied over or cached, learns from it that it is
#: out of date (``static/fresh.js``).
LATEST = "latest.js"


def latest_script(pub: Publication, archive: list[dict[str, Any]]) -> str:
    """``latest.js``: this publication's signed checkpoint, and for every earlier one its
    size, root and consistency proof to it, as one global (data only: JSON, all of it
    ASCII, with ``<`` escaped)."""
    from ledger.checkpoint import Checkpoint, encode_hash

    latest = {"checkpoint": pub.note, "extends": [
        {"size": a["size"], "root": encode_hash(Checkpoint.parse(a["note"])[0].root_hash),
         "proof": a["proof"]} for a in archive]}
    text = json.dumps(latest, ensure_ascii=True, sort_keys=True).replace("<", "\\u003c")
    return ("/* The latest publication in this directory (blockledger publish rewrites it "
            "each time); every page checks it. Data only. */\n"
            f"globalThis.BL_LATEST = {text};\n")


def check_directory(directory: Path) -> None:
    """``directory`` must be new, empty, or an earlier publication (``BadInput``)."""
    if directory.exists() and not directory.is_dir():
        raise BadInput(f"{directory} is not a directory", field="dir")
    if directory.is_dir() and any(directory.iterdir()) and not (directory / CURRENT).is_file():
        raise BadInput(f"{directory} holds files but no {CURRENT}: publish into a new or "
                       "empty directory, or one published before", field="dir")


def write_site(directory: Path, files: dict[str, str | bytes]) -> None:
    """Write ``files`` as the whole content of ``directory``, swapped in at once."""
    parent = directory.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(prefix=f".{directory.name}.new-", dir=parent))
    try:
        for name, content in files.items():
            path = fresh / name
            path.parent.mkdir(parents=True, exist_ok=True)
            data = content.encode("utf-8") if isinstance(content, str) else content
            path.write_bytes(data)
        os.chmod(fresh, 0o755)
        if directory.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{directory.name}.old-", dir=parent))
            os.replace(directory, old / "site")
            os.replace(fresh, directory)
            shutil.rmtree(old)
        else:
            os.replace(fresh, directory)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
