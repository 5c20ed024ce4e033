"""The home page: every platform's state now, as the publisher signs it, in parts of
``HOME_PAGE`` platforms (``index.html``, then ``home/2.html`` and on), so that the page
stays small however many platforms the ledger holds. Each part's rows are one signed
statement, with the part's number and the number of parts, bound to the checkpoint's
root; the browser shows the rows only once it verifies, and checks that the part is the
file it was opened as. The filters and the search box work within a part; the pager names
the first and last platform of each part, in order of reference.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jinja2 import Environment

from website.gather import Publication
from website.pages import HOME_PREFIX, _common, _data, _signed

#: Platforms on one part of the home page.
HOME_PAGE = 500


def jurisdictions(page: dict[str, Any], default: str | None) -> list[str]:
    """The jurisdictions of a platform's block orders (the default where one gives none)."""
    found = {(ev.get("data") or {}).get("jurisdiction") or default
             for ev in page["report"]["events"] if ev.get("type") == "blocked"}
    return sorted(j for j in found if j)


def _since(page: dict[str, Any], now: datetime) -> str | None:
    since = page["detail"].get("since")
    if not since or page["status"]["state"] == "accessible":
        return None
    start = datetime.fromisoformat(since if "T" in since else since + "T00:00:00+00:00")
    return f"{(now - start.astimezone(UTC)).days} days (since {since})"


def rows(pub: Publication, default_jurisdiction: str | None) -> list[dict[str, Any]]:
    """Every platform's row, by reference."""
    out = []
    for ref, page in sorted(pub.platforms.items()):
        status = page["status"]
        out.append({"ref": ref, "name": status["name"], "state": status["state"],
                    "blocked": len(status["blocked_targets"]),
                    "authorities": sorted({o["authority"] for o in status["orders"]}),
                    "jurisdictions": jurisdictions(page, default_jurisdiction),
                    "since": _since(page, pub.now)})
    return out


def path(part: int) -> str:
    """Where part ``part`` of the home page is written."""
    return "index.html" if part == 1 else f"home/{part}.html"


def home_pages(env: Environment, pub: Publication, *, title: str,
               archive: list[dict[str, Any]], default_jurisdiction: str | None,
               key: Ed25519PrivateKey) -> dict[str, str]:
    """Every part of the home page, by its path; the earlier publications' proofs on the
    first only."""
    everything = rows(pub, default_jurisdiction)
    chunks = [everything[i:i + HOME_PAGE] for i in range(0, len(everything), HOME_PAGE)] or [[]]
    parts = len(chunks)
    pager = [{"part": n, "href": path(n), "first": chunk[0]["ref"], "last": chunk[-1]["ref"]}
             for n, chunk in enumerate(chunks, 1) if chunk] if parts > 1 else []
    out = {}
    for part, chunk in enumerate(chunks, 1):
        root = "" if part == 1 else "../"
        shown = archive if part == 1 else []
        statement = {"rows": chunk, "part": part, "parts": parts}
        out[path(part)] = env.get_template("home.html.j2").render(
            **_common(pub, root), title=title, rows=chunk, archive=shown, part=part,
            parts=parts, pager=pager, count=len(everything),
            states=sorted({r["state"] for r in chunk}),
            authorities=sorted({a for r in chunk for a in r["authorities"]}),
            all_jurisdictions=sorted({j for r in chunk for j in r["jurisdictions"]}),
            data=_data(pub, "home", events=[], rows=chunk, part=part, parts=parts,
                       rows_signature=_signed(HOME_PREFIX, statement, pub, key),
                       archive=[{"file": a["file"], "note": a["note"], "proof": a["proof"]}
                                for a in shown]))
    return out
