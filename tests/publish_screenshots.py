"""Make the README's pictures of a published site: docs/site-{home,platform}-{desktop,phone}.png,
and docs/site-stale-desktop.png (an older page served after a newer publication).

Run by hand, not by pytest (the name does not start with test_)::

    python tests/publish_screenshots.py

It publishes the bundled 2017 case and Brazil's order of 2022 into a temporary directory
(an Indonesian site: --jurisdiction ID) and photographs the home (every jurisdiction's
row) and Telegram pages with Debian's chromium (Playwright), at 1280 and 390 pixels wide, after the
badge has turned green and the slider has been moved to 20 July 2017; then publishes one
more event over it, puts the older Telegram page back and photographs it turned amber.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "telegram-indonesia-2017.jsonl"
SIZES = {"desktop": (1280, 900), "phone": (390, 844)}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        key = work / "publisher.pem"
        key.write_bytes(Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        command = [str(Path(sys.executable).parent / "blockledger"), "--db", str(work / "l.db")]
        env = {"BLOCKLEDGER_OPERATOR": "publisher", "PATH": "/usr/bin:/bin"}
        subprocess.run([*command, "import", str(EXAMPLE)], check=True, env=env)
        # A second jurisdiction's order, so that the home shows a row per jurisdiction.
        subprocess.run([*command, "record", "blocked", "stf-2022-03-18", "--at", "2022-03-18",
                        "--platform", "telegram", "--authority", "Supreme Federal Court",
                        "--target", "t.me", "--target", "telegram.org", "--jurisdiction", "BR",
                        "--reason", "failure to comply with court orders",
                        "--source", "https://example.org/stf"], check=True, env=env)
        subprocess.run([*command, "publish", str(work / "site"), "--key", str(key),
                        "--origin", "example.org/blocking-ledger",
                        "--title", "Blocking decisions in Indonesia", "--jurisdiction", "ID"],
                       check=True, env=env)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                        args=["--no-sandbox"])
            for size, (width, height) in SIZES.items():
                page = browser.new_page(viewport={"width": width, "height": height},
                                        device_scale_factor=1)
                for name, path in (("home", "index.html"), ("platform", "platform/telegram.html")):
                    page.goto((work / "site" / path).as_uri())
                    page.wait_for_selector("#badge.ok")
                    if name == "home":  # every jurisdiction's row, not only the site's
                        page.select_option("#f-jurisdiction", "")
                    if name == "platform":
                        page.fill("#day-date", "2017-07-20")
                        page.dispatch_event("#day-date", "change")
                        page.locator("#day-out", has_text="On 2017-07-20").wait_for()
                    page.screenshot(path=str(ROOT / "docs" / f"site-{name}-{size}.png"),
                                    full_page=name == "home")
                page.close()
            old = (work / "site" / "platform" / "telegram.html").read_text()
            more = work / "more.jsonl"
            more.write_text(json.dumps({
                "type": "statement-issued", "subject": "telegram", "occurred_at": "2017-08-11",
                "sources": [{"title": "A later statement"}],
                "data": {"by": "Telegram", "summary": "Thanks for the cooperation."}}) + "\n")
            subprocess.run([*command, "import", str(more)], check=True, env=env)
            subprocess.run([*command, "publish", str(work / "site"), "--key", str(key),
                            "--origin", "example.org/blocking-ledger",
                            "--title", "Blocking decisions in Indonesia", "--jurisdiction",
                            "ID"], check=True, env=env)
            (work / "site" / "platform" / "telegram.html").write_text(old)
            page = browser.new_page(viewport={"width": 1280, "height": 700},
                                    device_scale_factor=1)
            page.goto((work / "site" / "platform" / "telegram.html").as_uri())
            page.wait_for_selector("#badge.stale")
            page.screenshot(path=str(ROOT / "docs" / "site-stale-desktop.png"))
            page.close()
            browser.close()


if __name__ == "__main__":
    main()
