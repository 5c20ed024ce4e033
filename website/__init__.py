"""The published static site (DESIGN "Layout": the ``site/`` room).

Named ``website`` and not ``site``: Python imports its own ``site`` module at start-up, so a
package called ``site`` can never be imported (``import site.x`` fails with "'site' is not
a package").

``blockledger publish DIR`` writes plain files that a reader opens from ``file://`` or any
static host: a home page, a page per platform, order and request, and the downloads. Every
status the pages show comes from the ledger's own folds (``projections.status``), computed
here in Python at every change point; the browser code only picks the snapshot for a day.

What the browser proves (``static/verify.js``) before it shows anything: the checkpoint's
Ed25519 signature by the published key; each event's SHA-256 over the bytes shipped and its
RFC 9162 inclusion proof; that the page carries every event of its platform (the
checkpoint's platform index); that earlier publications' checkpoints are extended by this
one (consistency proofs); that a page about a platform, order or request is that subject's
own file (``platform/telegram.html``), so no page is copied over another's. What it only
authenticates: the publisher's own statements (the snapshots, a platform's name, an order's
or request's headline, the home page's list), signed by the same key and bound to the
whole checkpoint (its signed text: size, root and time; ``pages.statement_binding``), so
that no statement of another publication verifies on a page, not even one of the same
tree signed at another time. "Now" on every page is the checkpoint's signed time, shown
with its tree size in the badge and in the "Now" line: an older signed page copied over a
newer one still verifies, but says which publication it proves.

Operators' signatures of events are checked too: each against the key the ledger's own
operator events register (shipped with the page, verified like any event and proven
complete by the index's ``#operators`` run), by the rules of ``ledger.signatures.check``.
An older publication served in place of the current one verifies, but its badge names
its checkpoint and age, and turns amber when the site's ``latest.js`` or the browser's
memory knows a newer one (``files.latest_script``). What it does not check: the summary
and timeline drawn by ``projections.report_html`` (``verify-proof`` on the downloaded
report does; the browser tests check the drawing).

Modules: ``gather`` (what a publication holds, from the ledger), ``snapshots`` (status at
every change point, through ``projections.sweep``: the folds kept as they go), ``slider``
(the snapshots in signed chunks), ``pages`` (Jinja2 rendering and the data each page
embeds, a long history in parts), ``home`` (the list of platforms, in parts), ``archive``
(append-only), ``files`` (writing it all at once, ``latest.js``), ``vendored`` (the noble
libraries as classic scripts), ``serve`` (the preview). In ``static/``: ``verify.js`` (the
checks), ``ui.js``, ``fresh.js``, ``views.js``, ``home.js`` (the home's rows and filters,
across its parts) and ``page.js`` (what the page does with them).
"""
