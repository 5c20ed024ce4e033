"""Adapters from the field's data to the ledger's facts (OONI measurements first).

One module per foreign format, each a pure conversion from the foreign record to the
interchange format's facts, with ids derived from the source's own stable keys so that
re-running is a no-op. An adapter never writes: it hands its facts to the one import path
(``projections.importing``). Arrows: ``commands → sources → projections → ledger →
domain``.
"""
