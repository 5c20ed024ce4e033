"""The event-sourced ledger: the eventsourcing application, its storage and its integrity."""
