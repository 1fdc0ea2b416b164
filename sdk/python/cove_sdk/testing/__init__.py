"""Test a Python guest in plain pytest: ``MockHost`` runs its handlers without wasm."""

from ._mock_host import Emitted, LogRecord, MockHost, MockHostError, Request, Sent

__all__ = ["Emitted", "LogRecord", "MockHost", "MockHostError", "Request", "Sent"]
