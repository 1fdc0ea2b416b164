"""Ethereum JSON-RPC through the host (``cove:host/chain``) on the chains the manifest grants.

Params are Python values and results come back decoded from JSON, as
``ctx.rpc`` / ``ctx.rpc_batch`` give native plugins::

    from cove_sdk import chain

    head = int(chain.request(1, "eth_blockNumber"), 16)
    balance, code = chain.request_batch(
        1, [("eth_getBalance", [address, "latest"]), ("eth_getCode", [address, "latest"])]
    )

A JSON-RPC error (a revert, bad params) is ``HostError`` kind
``invalid-input`` with the node's message; a chain not granted or a method
the operator denies is ``denied``; every endpoint down is ``unavailable``.
"""

import json
from collections.abc import Iterable, Sequence
from typing import Any

from ._bindings import bindings
from ._errors import HostError
from ._host import call, missing, unwrap

Params = Sequence[Any] | dict[str, Any]


def _json(params: Params) -> str:
    return json.dumps(params if isinstance(params, dict) else list(params))


def request(chain_id: int, method: str, params: Params = ()) -> Any:
    """One call; the node's ``result``, decoded."""
    return json.loads(call("chain", "request", chain_id, method, _json(params)))


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
    for item in call("chain", "request_batch", chain_id, batch):
        results.append(unwrap(item) if isinstance(item, bindings.err) else json.loads(item.value))
    return results


__all__ = ["HostError", "request", "request_batch"]
