"""The engine: journal-driven dispatch, per-event transactions, supervision."""
