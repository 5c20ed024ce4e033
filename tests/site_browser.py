"""What every browser test of the published site shares: Debian's chromium driven by
Playwright (``browser``, one a module), a page opened from ``file://`` with every other
request refused and remembered (``Page``, ``tab``), publishing a ledger (``published``,
``site``: the 2017 case published, ``long_site``: the same in parts), changing a page's
embedded data as a host could (``tamper``) or re-signing a statement as an earlier
``publish`` did (``sign_root_only``), and waiting for what a page shows to settle
(``settled``).

A test module takes the fixtures by importing them (``from tests.site_browser import
browser, site, tab``) with ``# ruff: noqa: F811`` at its top, since they are then its
tests' parameters of the same name, and sets ``pytestmark = NEEDS_CHROMIUM``.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from ledger.canonical import canonical
from projections.report_html import embedded_json
from tests.clitools import key_pair, run

sync_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).parent.parent / "website/vendor/axe-core/axe.min.js"
DATA = re.compile(r'(<script type="application/json" id="bl-data">)(.*?)(</script>)', re.S)

#: With CI set (.ci/run installs chromium), a missing browser fails rather than skips.
NEEDS_CHROMIUM = pytest.mark.skipif(not CHROMIUM.exists() and not os.environ.get("CI"),
                                    reason="needs Debian's chromium")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield browser
        browser.close()


class Page:
    """A page from file://, every other request refused and remembered."""

    def __init__(self, browser: Any, **context: Any):
        self.context = browser.new_context(**context)
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))

    def _route(self, route: Any) -> None:
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort()

    def open(self, path: Path) -> Any:
        self.page.goto(path.as_uri())
        self.page.wait_for_selector("#badge.ok, #badge.bad, #badge.stale", timeout=15_000)
        return self.page

    def badge(self) -> tuple[str, str]:
        return (self.page.get_attribute("#badge", "class") or "",
                self.page.inner_text("#badge"))

    def close(self) -> None:
        assert not self.outside, f"requests left the machine: {self.outside}"
        assert not self.errors, self.errors
        self.context.close()


@pytest.fixture
def tab(browser: Any) -> Iterator[Page]:
    page = Page(browser)
    yield page
    page.close()


def published(runner: Any, db: str, out: Path, *more: str, sources: tuple[Path, ...] = (),
              key: str | None = None) -> Path:
    """``sources`` imported into ``db``, then the ledger published into ``out`` with
    ``key`` (default: a new publisher key beside ``out``) and the options ``more``."""
    for source in sources:
        done = run(runner, db, "import", str(source))
        assert done.exit_code == 0, done.output
    if key is None:
        key, _ = key_pair(out.parent, "publisher")
    result = run(runner, db, "publish", str(out), "--key", key, *more)
    assert result.exit_code == 0, result.stderr
    return out


@pytest.fixture
def site(runner, sqlite_path, example, tmp_path) -> Path:
    """The 2017 case, published."""
    return published(runner, sqlite_path, tmp_path / "site", sources=(example,))


@pytest.fixture
def long_site(runner, sqlite_path, example, tmp_path, monkeypatch) -> Path:
    """The 2017 case published with ten events a part (``website.pages.HISTORY_PAGE``):
    telegram's 33 events in four parts."""
    monkeypatch.setattr("website.pages.HISTORY_PAGE", 10)
    return published(runner, sqlite_path, tmp_path / "site", sources=(example,))


def tamper(path: Path, change: Any) -> None:
    """Change a page's embedded data with ``change(data)``, embedded as publish does."""
    text = path.read_text(encoding="utf-8")
    found = DATA.search(text)
    data = json.loads(found.group(2))
    change(data)
    path.write_text(text[: found.start(2)] + str(embedded_json(data)) + text[found.end(2):],
                    encoding="utf-8")


def sign_root_only(path: Path, key: str, prefix: bytes, statement: dict, field: str) -> None:
    """``statement`` signed as an earlier version of publish signed it (version 1: bound
    to the checkpoint's root only) with the publisher's ``key``, as ``field`` of the
    page's data."""
    private = load_pem_private_key(Path(key).read_bytes(), password=None)

    def change(data: dict) -> None:
        root = data["checkpoint"].split("\n")[2]
        signed = private.sign(prefix + canonical({**statement, "root": root}))
        data[field] = base64.b64encode(signed).decode()

    tamper(path, change)


def settled(page: Any, read: Any, expected: Any) -> None:
    """Wait until ``read(page)`` is ``expected`` (parts a filter needs are loaded and
    checked first, asynchronously); fail, showing the last value, after ten seconds."""
    for _ in range(200):
        if read(page) == expected:
            return
        page.wait_for_timeout(50)
    assert read(page) == expected


def show_day(page: Any, day: str) -> None:
    page.fill("#day-date", day)
    page.dispatch_event("#day-date", "change")
