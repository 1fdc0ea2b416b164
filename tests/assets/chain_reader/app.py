"""Test guest: reads a chain through the ``chain`` interface and stores what it saw."""

import json

from componentize_py_types import Err, Ok
from cove_sdk import WitWorld, on_event, state
from wit_world.imports import chain

__all__ = ["WitWorld"]


def _error(err):
    return {"kind": err.value.kind.name.lower().replace("_", "-"), "message": err.value.message}


@on_event("custom")
def handle(event, meta):
    chain_id = json.loads(event.payload)["chain"]
    seen = {"head": chain.request(chain_id, "eth_blockNumber", "[]")}
    calls = [
        chain.RpcCall("eth_chainId", "[]"),
        chain.RpcCall("eth_getBlockByNumber", '["0x0", false]'),
        chain.RpcCall("eth_call", '[{"to": "0x0"}, "nonsense"]'),
    ]
    batch = []
    for item in chain.request_batch(chain_id, calls):
        if isinstance(item, Ok):
            batch.append({"ok": json.loads(item.value)})
        else:
            batch.append({"err": _error(item)["kind"]})
    seen["batch"] = [batch[0], "hash" in batch[1]["ok"], batch[2]]
    for method in ("anvil_mine", "eth_blockNumber@elsewhere"):
        try:
            if "@" in method:
                chain.request(1, "eth_blockNumber", "[]")
            else:
                chain.request(chain_id, method, "[]")
        except Err as err:
            seen[method] = _error(err)
    state.set("seen", seen)
