"""The blocking-decision domain: values, the event vocabulary, the rules and the aggregates.

Pure Python with no I/O; the eventsourcing library is used only for its ``Aggregate``.
"""
