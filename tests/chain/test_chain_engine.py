"""The ``chain`` capability on a real engine: a native plugin reads anvil through the gate."""

from __future__ import annotations

from pathlib import Path

from cove import Custom, Event
from tests.helpers.anvil import Anvil
from tests.helpers.engine import running_engine, state_json, wait_until
from tests.helpers.modules import toml_value, write_engine_config, write_manifest

PLUGIN = """
from cove import Plugin
from cove.errors import HostCallError
from cove.plugin import SetState


class Reader(Plugin):
    def handle_event(self, event, ctx):
        head, chain_id = ctx.rpc_batch(31337, [("eth_blockNumber", []), ("eth_chainId", [])])
        try:
            ctx.rpc(31337, "anvil_mine", ["0x1"])
            mined = "mined"
        except HostCallError as exc:
            mined = exc.kind
        return [SetState("seen", {"head": int(head, 16), "chain": chain_id, "mine": mined})]
"""


async def test_a_module_reads_the_chain_and_is_denied_node_control(
    anvil: Anvil, tmp_path: Path
) -> None:
    module = write_manifest(
        tmp_path / "reader",
        "reader",
        kind="python",
        entry="reader:Reader",
        required=["store", "chain"],
        subscriptions=[{"kind": "custom", "name": "probe.*"}],
    )
    with (module / "cove.toml").open("a") as manifest:
        manifest.write("\n[capabilities.chain]\nchains = [31337]\n")
    (module / "reader.py").write_text(PLUGIN)
    chains = f"[[chains]]\nchain_id = 31337\nhttp = {toml_value(anvil.http_url)}\n"
    config = write_engine_config(tmp_path / "engine.toml", [module], chains)
    head = anvil.mine(1)
    async with running_engine(config) as engine:
        assert engine.load_errors == {}
        await engine.publish([Event(Custom("probe.read", "", "{}"))])
        await wait_until(lambda: state_json(engine, "reader", "seen") is not None)
        assert state_json(engine, "reader", "seen") == {
            "head": head,
            "chain": "0x7a69",
            "mine": "denied",
        }
