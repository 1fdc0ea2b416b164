"""Test guest: reads chain 1 with the cove_sdk.chain helpers on every block."""

from cove_sdk import HostError, WitWorld, chain, on_block, state

__all__ = ["WitWorld"]

TOKEN = "0x00000000000000000000000000000000000000aa"


@on_block
def read(block, meta):
    balance = chain.get_balance(block.chain_id, "0xabc", block.number)
    head, supply = chain.request_batch(
        block.chain_id,
        [("eth_blockNumber", []), ("eth_call", [{"to": TOKEN, "data": "0x18160ddd"}, "latest"])],
    )
    seen = {"balance": balance, "head": int(head, 16), "supply": int(supply, 16)}
    try:
        chain.call(block.chain_id, TOKEN, bytes.fromhex("deadbeef"))
    except HostError as err:
        seen["revert"] = err.kind
    state.set("seen", seen)
