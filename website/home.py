"""The home page: every platform's state now, as the publisher signs it, in parts of
``HOME_PAGE`` platforms (``index.html``, then ``home/2.html`` and on), so that the page
stays small however many platforms the ledger holds. Each part's rows are one signed
statement, with the part's number and the number of parts, bound to the checkpoint
(``pages.statement_binding``); the browser shows the rows only once it verifies, and
checks that the part is the file it was opened as. A platform has a row per jurisdiction
it has an answer in (``rows``), and the jurisdiction filter starts on the site's own
(``publish --jurisdiction``). The search box finds a platform in any part, from a signed
index of every platform (``SEARCH``); the filters (state, authority, jurisdiction) act on
every part: a signed index of their values (``FILTERS``) names the parts that hold a row
with each, and the page shows those parts' rows (``part_file``), each checked against the
SHA-256 of that part's rows that every part's own statement signs (``part_digests``).
The pager names the first and last platform of each part, in order of reference.

No value of the data is ever a key of a JSON object here (an authority is free text:
``__proto__`` in a script's object literal sets its prototype, and Python sorts keys by
code point where JavaScript sorts by UTF-16 unit): the filters' index is lists of
``[value, parts]`` pairs, which the browser reads into a ``Map``.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jinja2 import Environment

from ledger.canonical import canonical
from website.gather import Publication
from website.pages import HOME_PREFIX, _common, _data, _signed

#: Platforms on one part of the home page.
HOME_PAGE = 500


def _since(status: dict[str, Any], detail: dict[str, Any], now: datetime) -> str | None:
    since = detail.get("since")
    if not since or status["state"] == "accessible":
        return None
    start = datetime.fromisoformat(since if "T" in since else since + "T00:00:00+00:00")
    return f"{(now - start.astimezone(UTC)).days} days (since {since})"


def _row(ref: str, jurisdiction: str | None, status: dict[str, Any], detail: dict[str, Any],
         now: datetime) -> dict[str, Any]:
    return {"ref": ref, "name": status["name"], "jurisdiction": jurisdiction,
            "state": status["state"], "blocked": len(status["blocked_targets"]),
            "authorities": sorted({o["authority"] for o in status["orders"]}),
            "regional": any(o.get("regional") for o in status["orders"]),
            "since": _since(status, detail, now)}


def rows(pub: Publication) -> list[dict[str, Any]]:
    """Every platform's rows, by reference: one per jurisdiction it has an answer in now
    (and in the site's own, where it has none: what the fold answers there), as the
    status folds each; and one for the whole (``jurisdiction`` None) where it has no
    answer in any, or where one of its orders binds none (no jurisdiction named and no
    default in the ledger), so that no order is hidden by the per-jurisdiction rows."""
    out = []
    for ref, page in sorted(pub.platforms.items()):
        status, answers = page["status"], page["answers"]
        for code, answer in answers.items():
            out.append(_row(ref, code, answer["status"], answer["detail"], pub.now))
        if not status["jurisdictions"] or any(o["jurisdiction"] is None
                                              for o in status["orders"]):
            out.append(_row(ref, None, status, page["detail"], pub.now))
    return out


#: Where the list of every platform (reference, name, part) is written, for the search
#: box of a home page in parts: loaded when a reader searches, checked against the SHA-256
#: each part's signed statement carries.
SEARCH = "home/search.js"


def _json(value: Any) -> str:
    """``value`` as JSON a script can carry: ASCII, ``<`` escaped."""
    return json.dumps(value, ensure_ascii=True, sort_keys=True).replace("<", "\\u003c")


def search_file(index: list[dict[str, Any]]) -> str:
    """The search index as a data-only script (JSON in ASCII, ``<`` escaped)."""
    return ("/* blockledger: every platform of the home page and its part, checked by the "
            "page against the SHA-256 its publisher signed. Data only. */\n"
            f"globalThis.BL_SEARCH = {_json(index)};\n")


#: Where the index of the filters' values is written, for the filters of a home page in
#: parts: loaded with the page, checked against the SHA-256 each part's signed statement
#: carries.
FILTERS = "home/filters.js"


def filter_index(chunks: list[list[dict[str, Any]]]) -> dict[str, list[list[Any]]]:
    """For each filter (``state``, ``authority``, ``jurisdiction``: ``-`` for a row of
    all orders, as the filter names it), its values and the parts (numbered from 1,
    rising) that hold a row with each: ``[[value, [part, ...]], ...]`` by value."""
    index: dict[str, dict[str, list[int]]] = {"state": {}, "authority": {}, "jurisdiction": {}}
    for part, chunk in enumerate(chunks, 1):
        for row in chunk:
            for key, values in (("state", [row["state"]]), ("authority", row["authorities"]),
                                ("jurisdiction", [row["jurisdiction"] or "-"])):
                for value in values:
                    held = index[key].setdefault(value, [])
                    if not held or held[-1] != part:
                        held.append(part)
    return {key: [[value, parts] for value, parts in sorted(found.items())]
            for key, found in index.items()}


def filters_file(index: dict[str, list[list[Any]]]) -> str:
    """The filters' index as a data-only script."""
    return ("/* blockledger: each value of the home page's filters and the parts holding a "
            "row with it, checked by the page against the SHA-256 its publisher signed. "
            "Data only. */\n"
            f"globalThis.BL_FILTERS = {_json(index)};\n")


def part_file(part: int, chunk: list[dict[str, Any]]) -> str:
    """Part ``part``'s rows as a data-only script (``home/N.js``) that files them under
    its number, for the filters of another part, which check them against the SHA-256
    that its own signed statement gives for part ``part`` (``part_digests``)."""
    return ("/* blockledger: the rows of one part of the home page, checked by the page "
            "against the SHA-256 its publisher signed. Data only. */\n"
            "globalThis.BL_HOME_PARTS = globalThis.BL_HOME_PARTS || {};\n"
            f"globalThis.BL_HOME_PARTS[{part}] = {_json(chunk)};\n")


def _digest(value: Any) -> str:
    """The SHA-256 (hex) of ``value``'s canonical JSON, as the browser checks a data file."""
    return hashlib.sha256(canonical(value)).hexdigest()


def path(part: int) -> str:
    """Where part ``part`` of the home page is written."""
    return "index.html" if part == 1 else f"home/{part}.html"


def home_pages(env: Environment, pub: Publication, *, title: str,
               archive: list[dict[str, Any]], key: Ed25519PrivateKey) -> dict[str, str]:
    """Every part of the home page, by its path; the earlier publications' proofs on the
    first only."""
    everything = rows(pub)
    refs = sorted(pub.platforms)
    cut = {ref for ref in refs[::HOME_PAGE]}  # a platform's rows stay in one part
    chunks: list[list[dict[str, Any]]] = []
    for row in everything:
        if not chunks or (row["ref"] in cut and row["ref"] != chunks[-1][-1]["ref"]):
            chunks.append([])
        chunks[-1].append(row)
    chunks = chunks or [[]]
    parts = len(chunks)
    # In parts, the search box searches every part: one index of every platform, whose
    # digest each part signs (a platform found in another part links to its own page);
    # the filters act on every part: the index of their values names the parts a value
    # needs, whose rows the page loads (``part_file``) and checks against the digests
    # that its own statement signs, every part's. A home of one part writes none of
    # them (its statement says null), so none is made for it.
    search = filters = digests = None
    if parts > 1:
        index = [{"ref": ref, "name": pub.platforms[ref]["status"]["name"], "part": n}
                 for n, chunk in enumerate(chunks, 1)
                 for ref in dict.fromkeys(r["ref"] for r in chunk)]
        search = {"count": len(index), "digest": _digest(index)}
        values = filter_index(chunks)
        filters = {"digest": _digest(values)}
        digests = [_digest(chunk) for chunk in chunks]
    pager = [{"part": n, "href": path(n), "first": chunk[0]["ref"], "last": chunk[-1]["ref"]}
             for n, chunk in enumerate(chunks, 1) if chunk] if parts > 1 else []
    out = {}
    for part, chunk in enumerate(chunks, 1):
        root = "" if part == 1 else "../"
        shown = archive if part == 1 else []
        statement = {"rows": chunk, "part": part, "parts": parts,
                     "jurisdiction": pub.jurisdiction, "search": search, "filters": filters,
                     "part_digests": digests}
        signature = _signed(HOME_PREFIX, statement, pub, key)
        out[path(part)] = env.get_template("home.html.j2").render(
            **_common(pub, root), title=title, rows=chunk, archive=shown, part=part,
            parts=parts, pager=pager, count=len(refs),
            states=sorted({r["state"] for r in chunk}),
            authorities=sorted({a for r in chunk for a in r["authorities"]}),
            all_jurisdictions=sorted({r["jurisdiction"] for r in chunk
                                      if r["jurisdiction"]}),
            unattributed=any(r["jurisdiction"] is None for r in chunk),
            jurisdiction=pub.jurisdiction,
            # (the page carries the statement as signed: its verifier rebuilds it)
            data=_data(pub, "home", events=[], **statement, rows_signature=signature,
                       archive=[{"file": a["file"], "note": a["note"], "proof": a["proof"]}
                                for a in shown]))
        if parts > 1:
            out[f"home/{part}.js"] = part_file(part, chunk)
    if parts > 1:
        out[SEARCH] = search_file(index)
        out[FILTERS] = filters_file(values)
    return out
