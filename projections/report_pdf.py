"""The HTML report printed to PDF by headless Chromium (Debian's ``chromium`` package).

The PDF is the very page ``--format html`` writes, printed with its own print styles: the
page size (``@page size``, A4 or Letter), the running header (subject, checkpoint) and the
page numbers come from CSS paged-media margin boxes, which Chromium prints since version
131; Chromium's own header and footer are turned off (``--no-pdf-header-footer``). Nothing
is fetched: the page loads nothing, and the browser runs with a fresh profile in a
temporary directory, without network services.

Chromium is found at ``BLOCKLEDGER_CHROMIUM``, else ``chromium`` or ``chromium-browser``
on the PATH; without it ``ChromiumMissing`` (exit 2) says how to get it, and nothing is
written.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from domain.errors import BadInput

TIMEOUT = 180  # seconds: a report of thousands of events takes a while to lay out


class ChromiumMissing(BadInput):
    """``--format pdf`` without a Chromium to print with: exit 2, nothing written."""


class PrintFailed(BadInput):
    """Chromium ran but wrote no PDF: exit 2, nothing written."""


def chromium() -> str:
    """The path of the Chromium that prints reports."""
    given = os.environ.get("BLOCKLEDGER_CHROMIUM")
    if given:
        if not (Path(given).is_file() and os.access(given, os.X_OK)):
            raise ChromiumMissing(f"BLOCKLEDGER_CHROMIUM={given!r} is not an executable "
                                  "file: --format pdf needs headless Chromium")
        return given
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    raise ChromiumMissing("--format pdf needs headless Chromium, which is not installed "
                          "(apt-get install chromium, or set BLOCKLEDGER_CHROMIUM to its "
                          "path); --format html writes the same page, to print from any "
                          "browser")


def chromium_args(binary: str, profile: Path, *extra: str) -> list[str]:
    """A headless Chromium that keeps to itself: a fresh profile, no network services."""
    return [binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--disable-default-apps", "--disable-extensions",
            "--disable-quic", "--mute-audio", f"--user-data-dir={profile}", *extra]


def print_pdf(html: str) -> bytes:
    """``html`` printed to PDF by headless Chromium."""
    binary = chromium()
    with tempfile.TemporaryDirectory(prefix="blockledger-pdf-") as tmp:
        page, pdf = Path(tmp) / "report.html", Path(tmp) / "report.pdf"
        page.write_text(html, encoding="utf-8")
        try:
            done = subprocess.run(
                chromium_args(binary, Path(tmp) / "profile", f"--print-to-pdf={pdf}",
                              "--no-pdf-header-footer", "--virtual-time-budget=10000",
                              page.as_uri()),
                capture_output=True, text=True, timeout=TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise PrintFailed(f"Chromium ({binary}) could not print the report: "
                              f"{error}") from None
        if not pdf.is_file() or pdf.stat().st_size == 0:
            why = [line for line in done.stderr.splitlines() if line.strip()][-1:] or [
                f"exit {done.returncode}"]
            raise PrintFailed(f"Chromium ({binary}) wrote no PDF: {why[0][:200]}")
        return pdf.read_bytes()
