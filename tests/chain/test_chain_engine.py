"""The ``chain`` capability on a real engine: a native plugin reads anvil through the gate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cove import Custom, Engine, Event
from tests.helpers.anvil import Anvil
from tests.helpers.engine import running_engine, state_json, wait_until
from tests.helpers.modules import build_guest, toml_value, write_engine_config, write_manifest

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


@pytest.fixture(scope="session")
def chain_reader_wasm() -> Path:
    """The chain_reader guest (tests/assets/chain_reader) compiled with componentize-py."""
    return build_guest("chain_reader", ["chain", "store"])


@pytest.mark.usefixtures("call_path")
async def test_a_component_calls_and_batches_through_the_chain_interface(
    anvil: Anvil, chain_reader_wasm: Path, tmp_path: Path
) -> None:
    module = write_manifest(
        tmp_path / "reader",
        "chain_reader",
        component=chain_reader_wasm,
        required=["store", "chain"],
    )
    with (module / "cove.toml").open("a") as manifest:
        manifest.write("\n[capabilities.chain]\nchains = [31337]\n")
    chains = f"[[chains]]\nchain_id = 31337\nhttp = {toml_value(anvil.http_url)}\n"
    config = write_engine_config(tmp_path / "engine.toml", [module], chains)
    head = anvil.mine(1)
    async with running_engine(config) as engine:
        assert engine.load_errors == {}
        await engine.publish([Event(Custom("probe.read", "", '{"chain": 31337}'))])
        await wait_until(lambda: state_json(engine, "chain_reader", "seen") is not None)
        seen = state_json(engine, "chain_reader", "seen")
    assert seen["head"] == json.dumps(hex(head))
    assert seen["batch"] == [{"ok": "0x7a69"}, True, {"err": "invalid-input"}]
    assert seen["anvil_mine"]["kind"] == "denied"
    assert "deny_methods" in seen["anvil_mine"]["message"]
    assert seen["eth_blockNumber@elsewhere"]["kind"] == "denied"
    assert "chain 1 is not granted" in seen["eth_blockNumber@elsewhere"]["message"]


BLOCK_PLUGIN = """
from cove import Plugin
from cove.plugin import SetState


class Blocks(Plugin):
    def handle_event(self, event, ctx):
        seen = ctx.state.get("blocks", [])
        return [SetState("blocks", [*seen, [event.payload.number, event.payload.hash]])]
"""


async def test_an_engine_restart_misses_and_repeats_no_block(anvil: Anvil, tmp_path: Path) -> None:
    module = write_manifest(
        tmp_path / "blocks",
        "blocks",
        kind="python",
        entry="blocks:Blocks",
        required=["store"],
        subscriptions=[{"kind": "block", "chain_id": 31337}],
    )
    (module / "blocks.py").write_text(BLOCK_PLUGIN)
    chains = (
        f"[[chains]]\nchain_id = 31337\nhttp = {toml_value(anvil.http_url)}\n"
        'poll_interval = "20ms"\n'
    )
    config = write_engine_config(tmp_path / "engine.toml", [module], chains)

    def numbers(engine: Engine) -> list[int]:
        return [n for n, _ in state_json(engine, "blocks", "blocks") or []]

    def head() -> int:
        return int(anvil.rpc("eth_blockNumber"), 16)

    async with running_engine(config) as engine:
        await wait_until(lambda: len(numbers(engine)) == 1, what="the head block")
        anvil.mine(3)
        await wait_until(lambda: numbers(engine)[-1:] == [head()], what="3 more blocks")
    anvil.mine(40)  # mined while the engine is down
    async with running_engine(config) as engine:
        await wait_until(lambda: numbers(engine)[-1:] == [head()], what="the backfill")
        anvil.mine(2)
        await wait_until(lambda: numbers(engine)[-1:] == [head()], what="live again")
        seen = numbers(engine)
    assert seen == list(range(seen[0], head() + 1))
