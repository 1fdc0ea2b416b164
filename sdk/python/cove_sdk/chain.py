"""Ethereum JSON-RPC through the host (``cove:host/chain``) on the chains the manifest grants.

Params are Python values and results come back decoded from JSON, as
``ctx.rpc`` / ``ctx.rpc_batch`` give native plugins::

    from cove_sdk import chain

    head = int(chain.request(1, "eth_blockNumber"), 16)
    balance, code = chain.request_batch(
        1, [("eth_getBalance", [address, "latest"]), ("eth_getCode", [address, "latest"])]
    )

The common reads have helpers that also convert: ``block_number`` and
``get_balance`` give ints, ``call`` gives the return data as bytes,
``get_block`` a dict (or None). Each is one ``request``.

A JSON-RPC error (a revert, bad params) is ``HostError`` kind
``invalid-input`` with the node's message; a chain not granted or a method
the operator denies is ``denied``; every endpoint down is ``unavailable``.
"""

import json
from collections.abc import Iterable, Sequence
from typing import Any

from ._bindings import bindings
from ._errors import HostError
from ._host import call as host_call
from ._host import missing, unwrap

Params = Sequence[Any] | dict[str, Any]


def _json(params: Params) -> str:
    return json.dumps(params if isinstance(params, dict) else list(params))


def request(chain_id: int, method: str, params: Params = ()) -> Any:
    """One call; the node's ``result``, decoded."""
    return json.loads(host_call("chain", "request", chain_id, method, _json(params)))


def request_batch(chain_id: int, calls: Iterable[tuple[str, Params]]) -> list[Any]:
    """One JSON-RPC batch on the wire: ``[(method, params), ...]``.

    Each item is that call's decoded result, or the ``HostError`` it got on
    its own (a revert in one call does not fail the others). A failure of
    the batch as a whole (a denied method, every endpoint down) raises.
    """
    module = bindings.interface("chain")
    if module is None:
        raise missing("chain")
    batch = [module.RpcCall(method, _json(params)) for method, params in calls]
    results: list[Any] = []
    for item in host_call("chain", "request_batch", chain_id, batch):
        results.append(unwrap(item) if isinstance(item, bindings.err) else json.loads(item.value))
    return results


Block = int | str
"""A block number, or a tag: ``"latest"``, ``"safe"``, ``"finalized"``, ``"pending"``."""


def _block(block: Block) -> str:
    return hex(block) if isinstance(block, int) else block


def block_number(chain_id: int) -> int:
    """The number of the chain's latest block."""
    return int(request(chain_id, "eth_blockNumber"), 16)


def get_balance(chain_id: int, address: str, block: Block = "latest") -> int:
    """Wei held by ``address`` at ``block``."""
    return int(request(chain_id, "eth_getBalance", [address, _block(block)]), 16)


def call(chain_id: int, to: str, data: bytes | str, block: Block = "latest") -> bytes:
    """``eth_call`` of ``data`` (bytes or 0x-hex calldata) on ``to``: the return data.

    A revert is ``HostError`` kind ``invalid-input`` carrying the node's message.
    """
    calldata = data if isinstance(data, str) else "0x" + data.hex()
    result = request(chain_id, "eth_call", [{"to": to, "data": calldata}, _block(block)])
    return bytes.fromhex(result.removeprefix("0x"))


def get_block(chain_id: int, block: Block = "latest", transactions: bool = False) -> Any:
    """The block as the node sends it (a dict; ``None`` if there is none yet);
    ``transactions``: full transaction objects instead of their hashes."""
    return request(chain_id, "eth_getBlockByNumber", [_block(block), transactions])


__all__ = [
    "Block",
    "HostError",
    "block_number",
    "call",
    "get_balance",
    "get_block",
    "request",
    "request_batch",
]
