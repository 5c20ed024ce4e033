"""``blockledger serve``: a read-only preview of a publication on 127.0.0.1, with the
standard library's HTTP server (enough for one person checking a site before upload).

Read-only by construction: the handler answers GET and HEAD only (the base class answers
every other method 501), serves files under the directory only (``translate_path`` drops
``..``; a symbolic link that resolves out of it is not followed: 404), and lists no
directory.
"""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Callable
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from domain.errors import BadInput
from website.archive import CURRENT


class _Handler(SimpleHTTPRequestHandler):
    def send_head(self):  # type: ignore[no-untyped-def]
        # translate_path drops "..", but a symbolic link in the directory (etc -> /etc)
        # would still be followed out of it: the resolved path must stay inside.
        root = Path(self.directory).resolve()
        if not Path(self.translate_path(self.path)).resolve().is_relative_to(root):
            self.send_error(404, "File not found")
            return None
        return super().send_head()

    def list_directory(self, path: str):  # type: ignore[no-untyped-def]
        self.send_error(404, "No listing")
        return None

    def end_headers(self) -> None:
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass  # a preview: the terminal keeps only the line that says where it is


def preview(directory: Path, port: int, ready: Callable[[str], None]) -> None:
    """Serve ``directory`` on 127.0.0.1:``port`` until interrupted; ``ready`` gets the URL."""
    if not (directory / CURRENT).is_file() or not (directory / "index.html").is_file():
        raise BadInput(f"{directory} is not a publication (no index.html and "
                       f"{CURRENT}): run 'blockledger publish {directory}' first", field="dir")
    handler = partial(_Handler, directory=str(directory.resolve()))
    try:
        server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise BadInput(f"port {port} on 127.0.0.1 is taken: give another with --port",
                           field="port") from None
        raise BadInput(f"cannot serve on 127.0.0.1:{port}: {error.strerror}",
                       field="port") from None
    with server:
        ready(f"http://127.0.0.1:{server.server_address[1]}/index.html")
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: the preview is done
            server.serve_forever()
