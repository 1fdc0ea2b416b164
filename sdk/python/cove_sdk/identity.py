"""The module's Ethereum account (``cove:host/identity``): sign and send without the key.

The operator assigns a keystore to the module; the key stays in the host.
Each function must be in the manifest's ``[capabilities.identity] methods``
(default: all but ``send_transaction``), else ``HostError`` kind ``denied``::

    from cove_sdk import identity

    me = identity.address()
    signature = identity.sign_message(b"attestation: block 123")
"""

import json
from typing import Any

from ._host import call


def address() -> str:
    """The account's 0x address, EIP-55 checksummed."""
    result: str = call("identity", "address")
    return result


def sign_message(message: bytes | str) -> str:
    """EIP-191 ``personal_sign`` of ``message`` (a str is UTF-8 encoded): 0x + 130 hex digits."""
    data = message.encode() if isinstance(message, str) else bytes(message)
    result: str = call("identity", "sign_message", data)
    return result


def sign_typed_data(typed_data: dict[str, Any] | str) -> str:
    """EIP-712 signature of the full message (``types``, ``primaryType``, ``domain``, ``message``)."""
    text = typed_data if isinstance(typed_data, str) else json.dumps(typed_data)
    result: str = call("identity", "sign_typed_data", text)
    return result


def send_transaction(chain_id: int, tx: dict[str, Any] | str) -> str:
    """Sign and broadcast ``tx`` on ``chain_id``; returns the transaction hash (not yet mined).

    ``nonce``, ``gas``, fees and ``chainId`` are filled in by the host when absent.
    The send is not undone if the event later fails: a retried event sends again.
    """
    text = tx if isinstance(tx, str) else json.dumps(tx)
    result: str = call("identity", "send_transaction", chain_id, text)
    return result
