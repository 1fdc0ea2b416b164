"""Reads chain 1 through canned answers, for `cove run --mock` tests."""

from __future__ import annotations

from collections.abc import Iterable

from cove import Block, Custom, Event, Plugin, PluginContext
from cove.errors import HostCallError
from cove.plugin import Action, SetState

TOKEN = "0x00000000000000000000000000000000000000aa"


class Reader(Plugin):
    def handle_event(self, event: Event, ctx: PluginContext) -> Iterable[Action]:
        p = event.payload
        if isinstance(p, Block):
            balance = ctx.rpc(1, "eth_getBalance", ["0xabc", hex(p.number)])
            head, supply = ctx.rpc_batch(
                1, [("eth_blockNumber", []), ("eth_call", [{"to": TOKEN}, "latest"])]
            )
            return [SetState("balance", int(balance, 16)), SetState("seen", [head, supply])]
        if isinstance(p, Custom) and p.name == "read.reverted":
            try:
                ctx.rpc(1, "eth_estimateGas", [{"to": TOKEN}])
            except HostCallError as exc:
                return [SetState("error", exc.message)]
        if isinstance(p, Custom) and p.name == "read.sign":
            return [SetState("signature", ctx.rpc(1, "eth_sign", ["0xabc", "0x00"]))]
        if isinstance(p, Custom):
            return [SetState("gas", ctx.rpc(1, "eth_gasPrice"))]
        return []
