"""A page without WebCrypto at all (``crypto.subtle`` exists only in secure contexts: a
site served over plain HTTP from a host other than the reader's own): SHA-256 and SHA-512
come from the vendored @noble/hashes and Ed25519 from @noble/ed25519, and the page
verifies as it does with WebCrypto, red where it should be. Served from a non-localhost
origin is hard here, so ``crypto.subtle`` is deleted before any script runs."""

# ruff: noqa: F811 (the fixtures imported from tests.site_browser are parameters here)
from __future__ import annotations

import base64
import hashlib
import subprocess

import pytest

from tests.site_browser import NEEDS_CHROMIUM, Page, browser, site, tamper  # noqa: F401
from website.vendored import hashes_script

pytestmark = NEEDS_CHROMIUM

NO_WEBCRYPTO = """
  delete Crypto.prototype.subtle;
  if (globalThis.crypto && crypto.subtle) throw new Error("crypto.subtle is still there");
"""


@pytest.fixture
def tab(browser):
    page = Page(browser)
    page.context.add_init_script(NO_WEBCRYPTO)
    yield page
    page.close()


def test_a_platform_page_verifies_with_the_vendored_libraries(tab, site):
    """Green, the signature checked by noble-ed25519 with noble-hashes, every event's
    hash and proof checked; the slider still reads 20 July 2017."""
    page = tab.open(site / "platform/telegram.html")
    cls, text = tab.badge()
    assert "ok" in cls, text
    assert "noble-ed25519 with noble-hashes" in text
    assert "33 events hash (SHA-256)" in text
    assert page.evaluate("typeof crypto.subtle") == "undefined"
    page.fill("#day-date", "2017-07-20")
    page.dispatch_event("#day-date", "change")
    page.locator("#day-out", has_text="On 2017-07-20").wait_for()
    assert page.inner_text("#day-state") == "partially-blocked"


def test_the_home_page_and_its_statement_verify(tab, site):
    tab.open(site / "index.html")
    cls, text = tab.badge()
    assert "ok" in cls and "noble-hashes" in text, text


def test_an_altered_event_is_still_red(tab, site):
    path = site / "platform/telegram.html"

    def change(data: dict) -> None:
        item = data["events"][4]
        item["canonical"] = item["canonical"].replace("a", "b", 1)

    tamper(path, change)
    tab.open(path)
    cls, text = tab.badge()
    assert "bad" in cls and "event 5: its bytes do not hash" in text, text


def test_a_broken_checkpoint_signature_is_still_red(tab, site):
    path = site / "platform/telegram.html"

    def change(data: dict) -> None:
        body, line = data["checkpoint"].rstrip("\n").rsplit("\n", 1)
        dash, name, sig = line.split(" ")
        raw = bytearray(base64.b64decode(sig))
        raw[20] ^= 1
        data["checkpoint"] = f"{body}\n{dash} {name} {base64.b64encode(bytes(raw)).decode()}\n"

    tamper(path, change)
    tab.open(path)
    cls, text = tab.badge()
    assert "bad" in cls and "does not verify" in text, text


@pytest.mark.skipif(subprocess.run(["which", "node"], capture_output=True).returncode,
                    reason="needs node")
def test_the_bundled_sha2_gives_the_standard_digests(tmp_path):
    """The bundle, as a classic script in node, hashes as hashlib does (the empty
    string, "abc", a million a's)."""
    script = tmp_path / "check.js"
    script.write_text(hashes_script() + """
const enc = new TextEncoder();
const hex = (b) => Buffer.from(b).toString("hex");
for (const text of ["", "abc", "a".repeat(1000000)]) {
  console.log(hex(nobleHashes.sha256(enc.encode(text))), hex(nobleHashes.sha512(enc.encode(text))));
}
""")
    out = subprocess.run(["node", str(script)], capture_output=True, text=True, check=True)
    expected = [f"{hashlib.sha256(t.encode()).hexdigest()} {hashlib.sha512(t.encode()).hexdigest()}"
                for t in ("", "abc", "a" * 1_000_000)]
    assert out.stdout.split("\n")[:3] == expected
