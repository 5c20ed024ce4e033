"""blockledger serve: a read-only preview on 127.0.0.1 where the pages verify."""

from __future__ import annotations

import re
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.clitools import blockledger, key_pair, one_line_error, run


@pytest.fixture
def site(runner, sqlite_path, example, tmp_path) -> Path:
    assert run(runner, sqlite_path, "import", str(example)).exit_code == 0
    private, _ = key_pair(tmp_path, "publisher")
    out = tmp_path / "site"
    assert run(runner, sqlite_path, "publish", str(out), "--key", private).exit_code == 0
    return out


@pytest.fixture
def served(site) -> Iterator[str]:
    """The site served by the installed command on a free port; its base URL."""
    process = subprocess.Popen([blockledger(), "serve", str(site), "--port", "0"],
                               stderr=subprocess.PIPE, text=True)
    try:
        line = process.stderr.readline()
        found = re.search(r"http://127\.0\.0\.1:\d+/", line)
        assert found, line
        yield found.group()
    finally:
        process.terminate()
        process.wait(timeout=10)


def status(url: str, method: str = "GET") -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method=method)) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


class TestServe:
    def test_serves_the_pages_read_only(self, served):
        """GET answers; a write, a listing or a path out of the directory does not."""
        assert status(served + "index.html") == 200
        assert status(served + "platform/telegram.html") == 200
        assert status(served + "index.html", "PUT") == 501
        assert status(served + "index.html", "DELETE") == 501
        assert status(served + "static/") == 404
        assert status(served + "../../etc/passwd") == 404

    def test_the_pages_verify_when_served(self, served):
        """Over http://127.0.0.1 (a secure context) the badge is green too."""
        sync_api = pytest.importorskip("playwright.sync_api")
        if not Path("/usr/bin/chromium").exists():
            pytest.skip("needs Debian's chromium")
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                        args=["--no-sandbox"])
            page = browser.new_page()
            page.goto(served + "platform/telegram.html")
            page.wait_for_selector("#badge.ok, #badge.bad", timeout=15_000)
            assert "ok" in (page.get_attribute("#badge", "class") or "")
            browser.close()

    def test_not_a_publication_exit_2(self, runner, tmp_path):
        """A directory that was never published: one line, exit 2."""
        result = run(runner, str(tmp_path / "l.db"), "serve", str(tmp_path))
        assert "not a publication" in one_line_error(result, 2)


def test_a_symbolic_link_out_of_the_directory_is_not_followed(site, tmp_path):
    """F11: a link in DIR to /etc (or to a file outside) answers 404; one inside, 200."""
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    (site / "etclink").symlink_to("/etc")
    (site / "secret.txt").symlink_to(outside)
    (site / "home.html").symlink_to(site / "index.html")
    process = subprocess.Popen([blockledger(), "serve", str(site), "--port", "0"],
                               stderr=subprocess.PIPE, text=True)
    try:
        found = re.search(r"http://127\.0\.0\.1:\d+/", process.stderr.readline())
        assert found
        base = found.group()
        assert status(base + "etclink/passwd") == 404
        assert status(base + "etclink/passwd", "HEAD") == 404
        assert status(base + "secret.txt") == 404
        assert status(base + "home.html") == 200
    finally:
        process.terminate()
        process.wait(timeout=10)
