"""The site's pages, rendered from a ``Publication`` with the site's Jinja2 templates
(autoescaped: every platform name, summary and URL is hostile input).

Each page embeds one JSON data element (``<script type="application/json">``, inert, with
``<``, ``>`` and ``&`` written as ``\\u`` escapes so nothing can close it early) holding
the checkpoint note, the signer's public key and, for each event it shows, the exact
canonical bytes, hash, leaf index and inclusion proof. The browser shows the history only
from those bytes once they verify (``static/verify.js``); without JavaScript a reader gets
the same history from the server side, marked as not verified.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from ledger.canonical import canonical, event_hash
from ledger.checkpoint import encode_hash
from ledger.platform_index import OPERATORS
from projections import report_html
from projections.provenance import exported
from projections.report_html import embedded_json
from projections.report_times import Clock
from website.gather import Publication, shipped
from website.slider import chunked

#: The summary, timeline and orders of the provenance report's page, reused as they are.
_REPORT_PART = re.compile(r'<section class="summary-block".*?<section aria-label="Orders and '
                          r'requests">.*?</section>', re.S)


def environment() -> Environment:
    env = Environment(loader=PackageLoader("website", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["http"] = _http
    return env


def _http(url: Any) -> bool:
    """Whether ``url`` may be a link: http(s) only (never ``javascript:``, ``data:``)."""
    return isinstance(url, str) and re.match(r"https?://[^\s\"'<>]+\Z", url, re.I) is not None


@functools.cache
def _report_template() -> Any:
    """The report's page template, compiled once: ``report_html.render_html`` compiles it
    again on each call (half of a 274-platform publication's time went there)."""
    return report_html.environment().get_template("report.html.j2")


def report_part(report: dict[str, Any], clock: Clock) -> Markup:
    """The provenance report page's summary, band timeline and orders, as the report
    renders them (``projections.report_html``, with its own bundled template; escaped
    there)."""
    found = _REPORT_PART.search(report_html._render(_report_template(), report, clock, None))
    if not found:
        return Markup("")
    # The timeline's links to events sit inside an svg marked role="img", which hides
    # them from assistive technology (axe: nested-interactive); a group keeps its label
    # and lets them be reached. (The report's own page has the same problem: its owner's.)
    return Markup(_classed(found.group().replace('<svg viewBox=', '<svg role="group" viewBox=', 1)
                           .replace('role="img" aria-label="Timeline', 'aria-label="Timeline', 1)))


#: An inline colour of the report's legend (``<b style="color:#b71c1c">``), which the site's
#: Content-Security-Policy does not apply (no ``'unsafe-inline'``: a host could otherwise
#: restyle verified rows): each becomes a class of static/site.css.
_INLINE = re.compile(r'<(\w+)( class="([^"]*)")? style="(color|background):#([0-9a-f]{6})"')
INLINE_COLOURS = frozenset({("color", "b71c1c"), ("color", "1b5e20"), ("color", "6a1b9a"),
                            ("color", "37474f"), ("background", "e69f00"),
                            ("background", "0072b2")})


def _classed(html: str) -> str:
    """``html`` with each inline colour as a class (``ink-color-b71c1c``); any other inline
    style is a fault of this module, refused rather than shipped unstyled."""
    def one(m: re.Match[str]) -> str:
        if (m.group(4), m.group(5)) not in INLINE_COLOURS:
            raise ValueError(f"an inline style static/site.css has no class for: {m.group()}")
        classes = f"{m.group(3)} " if m.group(3) else ""
        return f'<{m.group(1)} class="{classes}ink-{m.group(4)}-{m.group(5)}"'
    out = _INLINE.sub(one, html)
    if re.search(r"<[^>]*\sstyle=", out):
        raise ValueError("the report's part carries an inline style site.css has no class for")
    return out


#: Prefix what the publisher signs of its own statements (never an event or a note): a
#: platform's snapshots, the home page's rows, an order's or a request's headline. Version
#: 2 binds each to the whole checkpoint (``statement_binding``); version 1 bound it to the
#: checkpoint's root only, so that a statement of an earlier publication of the same tree
#: (another time: a temporary lift since ended, "blocked for N days" since grown) verified
#: under a later one's badge. The browser reads a version 1 statement as an earlier
#: publication's (amber), as it reads an earlier version's page.
SNAPSHOTS_PREFIX = b"blockledger site snapshots v2\n"
HOME_PREFIX = b"blockledger site home v2\n"
SUBJECT_PREFIX = b"blockledger site subject v2\n"


def statement_binding(pub: Publication) -> str:
    """What binds a statement to its checkpoint: the SHA-256 (hex) of the checkpoint's
    signed text (origin, size, root, chain head, time and index: every line its
    signature covers), so that no statement of another checkpoint verifies with it, not
    even one of the same tree at another time."""
    return hashlib.sha256(pub.checkpoint.body()).hexdigest()


def _signed(prefix: bytes, statement: dict[str, Any], pub: Publication,
            key: Ed25519PrivateKey) -> str:
    message = prefix + canonical({**statement, "checkpoint": statement_binding(pub)})
    return base64.b64encode(key.sign(message)).decode("ascii")


def snapshots_signed(pub: Publication, ref: str, name: str, chunks: list[dict[str, Any]],
                     key: Ed25519PrivateKey) -> str:
    """The publisher's Ed25519 signature (base64) over a platform's name (as corrected),
    its snapshots' chunks (``website.slider``: each one's instants, length and digest) and
    the site's jurisdiction (the answer the page shows first), bound to the platform and
    the checkpoint (``statement_binding``): the browser cannot fold them again (no rules
    in JavaScript), but it can check that they are the ones the key signed, for this page
    and this checkpoint."""
    return _signed(SNAPSHOTS_PREFIX, {"platform": ref, "name": name, "chunks": chunks,
                                      "jurisdiction": pub.jurisdiction}, pub, key)


#: Events on one page of a platform's history: beyond it the history is split into parts
#: of this many, in the order they were recorded (the platform index's order), each part
#: a page that proves its run of the index, so that no page grows with the platform.
HISTORY_PAGE = 250


def parts(pub: Publication, ref: str) -> int:
    """How many pages platform ``ref``'s history takes (at least one)."""
    return _pages(len(pub.platforms[ref]["report"]["evidence"]["index"][ref]["positions"]))


def _index(pub: Publication, ref: str, part: int = 1) -> dict[str, Any]:
    """The completeness proof of part ``part`` of platform ``ref``'s events against the
    checkpoint's platform index: the leaves of that part (``offset`` into the platform's
    run of ``count`` leaves starting at ``first``) and the neighbours of the whole run,
    which prove ``count``; from its provenance report's proof of the whole run."""
    return _run_part(ref, pub.platforms[ref]["report"]["evidence"]["index"][ref], part)


def _run_part(name: str, whole: dict[str, Any], part: int) -> dict[str, Any]:
    """Part ``part`` of ``name``'s run of the index, from the proof of the ``whole`` run
    (a report's ``evidence.index[name]``): that part's leaves and the whole run's
    neighbours, which prove its count."""
    start, end = (part - 1) * HISTORY_PAGE, part * HISTORY_PAGE
    return {"platform": name, "per_page": HISTORY_PAGE, "part": part,
            "parts": _pages(len(whole["positions"])),
            "proof": {"first": whole["first"], "offset": start,
                      "count": len(whole["positions"]),
                      "positions": whole["positions"][start:end],
                      "proofs": whole["proofs"][start:end],
                      "before": whole["before"], "after": whole["after"]}}


def _part_events(pub: Publication, ref: str, part: int) -> list[tuple[int, dict[str, Any]]]:
    """The events of part ``part`` of platform ``ref``'s history, as the report lists them
    (by valid time), each with its number in the whole history."""
    index = _index(pub, ref, part)
    wanted = set(index["proof"]["positions"])
    return [(n, ev) for n, ev in enumerate(pub.platforms[ref]["report"]["events"], 1)
            if ev["position"] in wanted]


def _data(pub: Publication, page: str, **more: Any) -> Markup:
    return embedded_json({"page": page, "checkpoint": pub.note,
                          "signer": {"name": pub.signer.name,
                                     "public_key": pub.signer.public_key,
                                     "key_id": pub.signer.key_id},
                          **more})


def _events(events: list[dict[str, Any]] | list[tuple[int, dict[str, Any]]]
            ) -> list[dict[str, Any]]:
    """Events as a page ships them, numbered as in the whole history (``(n, event)``
    pairs) or from 1."""
    numbered = [item if isinstance(item, tuple) else (n, item)
                for n, item in enumerate(events, 1)]
    return [{"n": n, "hash": ev["hash"], **shipped(ev), "signature": _signature(ev)}
            for n, ev in numbered]


def _signature(ev: dict[str, Any]) -> dict[str, str] | None:
    """An event's operator signature as the ledger keeps it (key id, base64 signature):
    the browser finds the key among the operator events the page carries, never here."""
    signed = ev.get("signature")
    return {"key_id": signed["key_id"], "signature": signed["signature"]} if signed else None


def _operators(pub: Publication, platform: str | None) -> dict[str, Any] | None:
    """The ledger's operator events (who may record, with which key), as platform
    ``platform``'s report carries them, each shipped like an event, with the proof that
    the checkpoint's platform index holds no other (its ``#operators`` run): the browser
    checks each event's signature against the keys they register."""
    if platform is None:
        return None
    return _operators_of(pub.platforms[platform]["report"])


def _operators_of(report: dict[str, Any]) -> dict[str, Any]:
    """The operator events and their ``#operators`` run, as ``report`` carries them."""
    whole = report["evidence"]["index"][OPERATORS]
    return {"events": _records(report, whole["positions"]),
            "proof": {"first": whole["first"], "offset": 0, "count": len(whole["positions"]),
                      "positions": whole["positions"], "proofs": whole["proofs"],
                      "before": whole["before"], "after": whole["after"]}}


def _records(report: dict[str, Any], positions: list[int], first: int = 1
             ) -> list[dict[str, Any]]:
    """The events of ``report``'s evidence at ``positions``, by rising position, shipped
    and numbered from ``first``, each with its operator signature."""
    wanted = set(positions)
    records = sorted((r for r in report["evidence"]["records"] if r["position"] in wanted),
                     key=lambda r: r["position"])
    return [{"n": n, "hash": event_hash(exported(r)), **shipped(r),
             "signature": r["signature"]} for n, r in enumerate(records, first)]


def _common(pub: Publication, root: str) -> dict[str, Any]:
    cp = pub.checkpoint
    return {"root": root, "signer": pub.signer, "checkpoint": cp, "note": pub.note,
            "root_hash": encode_hash(cp.root_hash)}


def platform(env: Environment, pub: Publication, ref: str, *, title: str,
             clock: Clock, key: Ed25519PrivateKey) -> str:
    page = pub.platforms[ref]
    report = page["report"]
    chunks, held, snaps = chunked(pub, ref)
    first = _part_events(pub, ref, 1)
    return env.get_template("platform.html.j2").render(
        **_common(pub, "../"), title=title, ref=ref, status=page["status"],
        answers=page["answers"], part=report_part(report, clock), events=[ev for _, ev in first],
        subjects=pub.subjects, pager=_pager(pub, ref, 1, "../"),
        data=_data(pub, "platform", subject=ref, name=page["status"]["name"],
                   events=_events(first), index=_index(pub, ref), snapshots=chunks,
                   snapshots_now={"chunk": held, "snapshots": snaps[held] if snaps else []},
                   operators=_operators(pub, ref), jurisdiction=pub.jurisdiction,
                   snapshots_signature=snapshots_signed(pub, ref, page["status"]["name"],
                                                        chunks, key)))


def _pager(pub: Publication, ref: str, part: int, root: str) -> dict[str, Any] | None:
    """The links between the parts of a platform's history (None for one part)."""
    total = parts(pub, ref)
    if total == 1:
        return None
    count = len(pub.platforms[ref]["report"]["evidence"]["index"][ref]["positions"])
    return {"part": part, "parts": total, "count": count, "links": [
        {"part": n, "href": f"{root}platform/{ref}.html" if n == 1
         else f"{root}history/{ref}/{n}.html",
         "first": (n - 1) * HISTORY_PAGE + 1, "last": min(count, n * HISTORY_PAGE)}
        for n in range(1, total + 1)]}


def history(env: Environment, pub: Publication, ref: str, part: int, *,
            title: str) -> str:
    """Part ``part`` (2 and after) of platform ``ref``'s history: its events and the proof
    that they are that run of the platform's events in the checkpoint's index, none left
    out (``history/<ref>/<part>.html``; part 1 is on the platform's page)."""
    events = _part_events(pub, ref, part)
    return env.get_template("history.html.j2").render(
        **_common(pub, "../../"), title=title, ref=ref, events=[ev for _, ev in events],
        pager=_pager(pub, ref, part, "../../"),
        data=_data(pub, "history", subject=ref, events=_events(events),
                   index=_index(pub, ref, part), operators=_operators(pub, ref)))


def subject_parts(pub: Publication, ref: str) -> int:
    """How many pages an order's or a request's page takes: its own run of the index (from
    version 2) in parts of ``HISTORY_PAGE``; before it, one, but for a subject of a long
    platform (whose page ships only its own events) with more than ``HISTORY_PAGE`` of
    them."""
    info = pub.subjects[ref]
    if info.get("run"):
        return _pages(len(_run_proof(info)["positions"]))
    platform = info["platforms"][0] if info["platforms"] else None
    if not platform or parts(pub, platform) == 1:
        return 1
    return _pages(len(info["events"]))


def _pages(count: int) -> int:
    return max(1, -(-count // HISTORY_PAGE))


def _run_proof(info: dict[str, Any]) -> dict[str, Any]:
    run = info["run"]
    return run["report"]["evidence"]["index"][run["name"]]


def subject_path(kind: str, ref: str, part: int) -> str:
    """Where part ``part`` of an order's or a request's page is written."""
    return f"{kind}/{ref}.html" if part == 1 else f"{kind}/{ref}/{part}.html"


def _subject_run(info: dict[str, Any], part: int) -> tuple[list[dict[str, Any]],
                                                          dict[str, Any]]:
    """Part ``part`` of a subject's own run of the index (``order/REF``, version 2 on):
    its events, shipped in the order they were recorded and numbered in the whole run, and
    the completeness proof of that part, as a platform's history part carries its own
    (``_index``): the neighbours of the whole run prove its count."""
    index = _run_part(info["run"]["name"], _run_proof(info), part)
    start = index["proof"]["offset"]
    return _records(info["run"]["report"], index["proof"]["positions"], start + 1), index


def subject(env: Environment, pub: Publication, ref: str, *, title: str,
            key: Ed25519PrivateKey, part: int = 1) -> str:
    """An order's or a request's page. Against an index of version 2 or later it ships
    exactly the subject's own events (its run ``order/REF`` or ``request/REF``, in parts
    of ``HISTORY_PAGE`` as recorded, ``subject_path``) with the completeness proof of that
    run: the page proves on its own that none was left out or added, however long its
    platforms are. Against a version 1 index (which names platforms only) it ships every
    event of its (first) platform, with that platform's completeness proof, and shows
    those whose verified bytes name this subject; of a long platform, only the subject's
    own events, each proven, and its signed headline says where completeness is proven."""
    info = pub.subjects[ref]
    platform = info["platforms"][0] if info["platforms"] else None
    total = subject_parts(pub, ref)
    if info.get("run"):
        shipped_events, index = _subject_run(info, part)
        operators = _operators_of(info["run"]["report"])
        held = set(index["proof"]["positions"])
        shown = sorted((ev for ev in info["run"]["report"]["events"] if ev["position"] in held),
                       key=lambda ev: ev["position"])
        more: dict[str, Any] = {"index": index}
    else:
        everything = pub.platforms[platform]["report"]["events"] if platform else []
        numbered = list(enumerate(everything, 1))
        more = {"index": _index(pub, platform)} if platform else {"index": None}
        if platform and parts(pub, platform) > 1:
            # A long platform's events would make this page as large as its whole history.
            own = [(n, ev) for n, ev in numbered if ev["subject"] == ref]
            numbered = own[(part - 1) * HISTORY_PAGE: part * HISTORY_PAGE]
            more = {"index": None}
        shipped_events, operators = _events(numbered), _operators(pub, platform)
        shown = [ev for _, ev in numbered if ev["subject"] == ref]
    headline = subject_statement(info, complete_on=None if more["index"] else platform,
                                 parts=total)
    root = "../" if part == 1 else "../../"
    pager = None if total == 1 else {"part": part, "parts": total, "links": [
        {"part": n, "href": root + subject_path(info["kind"], ref, n)}
        for n in range(1, total + 1)]}
    return env.get_template("subject.html.j2").render(
        **_common(pub, root), title=title, ref=ref, info=info, events=shown, pager=pager,
        data=_data(pub, info["kind"], subject=ref, events=shipped_events,
                   part={"part": part, "parts": total},
                   headline=headline, operators=operators,
                   headline_signature=_signed(SUBJECT_PREFIX, headline, pub, key), **more))


def subject_statement(info: dict[str, Any], *, complete_on: str | None = None,
                      parts: int = 1) -> dict[str, Any]:
    """What an order's or a request's page says of it now (its state, authority,
    conditions and platforms, as ``gather`` folded them at the checkpoint's time): signed
    by the publisher with the subject, its kind and the checkpoint (its time too: the
    state is the one then), so that the browser shows the headline from it and from
    nothing the host could edit.
    ``complete_on`` names the platform whose history pages prove the subject's events
    complete, where the page does not (a long platform): signed too, so that no host can
    strip a small platform's page of its proof and hide an event. ``parts``: how many
    pages carry its events (more than one only then)."""
    return {"kind": info["kind"], "subject": info["ref"], "state": info["state"],
            "authority": info.get("authority"), "conditions": info.get("conditions"),
            "platforms": list(info["platforms"]), "complete_on": complete_on,
            "parts": parts}


def downloads(env: Environment, pub: Publication, *, title: str) -> str:
    return env.get_template("downloads.html.j2").render(
        **_common(pub, "../"), title=title, refs=sorted(pub.platforms),
        data=_data(pub, "downloads", events=[]))
