"""The published static site (DESIGN "Layout": the ``site/`` room).

Named ``website`` and not ``site``: Python imports its own ``site`` module at start-up, so a
package called ``site`` can never be imported (``import site.x`` fails with "'site' is not
a package").

``blockledger publish DIR`` writes plain files that a reader opens from ``file://`` or any
static host: a home page, a page per platform, order and request, and the downloads. Every
status the pages show comes from the ledger's own folds (``projections.status``), computed
here in Python at every change point; the browser code only picks the snapshot for a day and
verifies the events it shows (SHA-256, RFC 9162 inclusion, the checkpoint's Ed25519
signature) before rendering them.
"""
