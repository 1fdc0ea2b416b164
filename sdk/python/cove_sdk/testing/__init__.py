"""Test a Python guest in plain pytest: ``MockHost`` runs its handlers without wasm."""

from ._mock_chain import MockChain, RpcRequest
from ._mock_host import Emitted, LogRecord, MockHost, MockHostError, Request, Sent
from ._mock_identity import MOCK_KEY, SentTransaction

__all__ = [
    "MOCK_KEY",
    "Emitted",
    "LogRecord",
    "MockChain",
    "MockHost",
    "MockHostError",
    "Request",
    "RpcRequest",
    "Sent",
    "SentTransaction",
]
