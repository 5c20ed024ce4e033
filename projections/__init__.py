"""Read models rebuilt from the ledger's facts: status, history and their renderers."""
