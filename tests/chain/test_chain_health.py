"""One engine, one chain source over newHeads, two depths; blocks behind in /health and /metrics."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cove import Engine
from cove._sources._chain import ChainSource
from tests.helpers.anvil import Anvil
from tests.helpers.control import AUTH, TOKEN, TOKEN_ENV, control_section, running_plane
from tests.helpers.engine import state_json, wait_until
from tests.helpers.modules import toml_value, write_engine_config, write_manifest
from tests.integration.test_cli_control import cove

PLUGIN = """
from cove import Plugin
from cove.plugin import SetState


class Blocks(Plugin):
    def handle_event(self, event, ctx):
        seen = ctx.state.get("blocks", [])
        block = event.payload
        return [SetState("blocks", [*seen, [block.number, block.confirmations]])]
"""


def blocks_module(tmp_path: Path, name: str, confirmations: int) -> Path:
    module = write_manifest(
        tmp_path / name,
        name,
        kind="python",
        entry=f"{name}:Blocks",
        required=["store"],
        subscriptions=[{"kind": "block", "chain_id": 31337, "confirmations": confirmations}],
    )
    (module / f"{name}.py").write_text(PLUGIN)
    return module


def seen(engine: Engine, module: str) -> list[list[int]]:
    return list(state_json(engine, module, "blocks") or [])


async def test_modules_get_their_own_depth_and_blocks_behind_is_reported(
    anvil: Anvil, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    anvil.mine(3)
    modules = [blocks_module(tmp_path, "at_head", 0), blocks_module(tmp_path, "deep", 2)]
    chains = (
        f"[[chains]]\nchain_id = 31337\nhttp = {toml_value(anvil.http_url)}\n"
        f"ws = {toml_value(anvil.ws_url)}\n"
    )
    config = write_engine_config(tmp_path / "engine.toml", modules, chains + control_section())
    async with running_plane(config) as plane:
        engine = plane.engine
        await wait_until(lambda: len(seen(engine, "deep")) == 1, what="the first deep block")
        anvil.mine(4)
        tip = int(anvil.rpc("eth_blockNumber"), 16)
        await wait_until(lambda: seen(engine, "at_head")[-1] == [tip, 0], what="the head")
        await wait_until(lambda: seen(engine, "deep")[-1] == [tip - 2, 2], what="two deep")
        # A module may handle a block before the source's publish returns (the modules
        # wake before the journal's fsync), and the source counts it delivered after.
        (source,) = [s for s in engine.sources if isinstance(s, ChainSource)]
        delivered = [(tip, 0), (tip - 2, 0)]
        await wait_until(
            lambda: (
                [(s["delivered"], s["behind"]) for s in source.health()["streams"]] == delivered
            ),
            what="the source's delivered position",
        )
        health = (await plane.client.get("/health", headers=AUTH)).json()
        assert plane.metrics_url is not None
        metrics = (await plane.client.get(plane.metrics_url + "/metrics")).text
        shown = await cove(plane, "health")
        at_head, deep = seen(engine, "at_head"), seen(engine, "deep")
    assert at_head == [[n, 0] for n in range(at_head[0][0], tip + 1)]
    assert deep == [[n, 2] for n in range(deep[0][0], tip - 1)]
    chain = health["sources"]["chain:31337"]
    assert chain["ok"] and chain["head"] == tip and chain["newheads"] == {"connected": True}
    assert chain["streams"] == [
        {"confirmations": 0, "delivered": tip, "behind": 0},
        {"confirmations": 2, "delivered": tip - 2, "behind": 0},
    ]
    (primary,) = chain["endpoints"]
    assert primary["endpoint"] == f"#0 127.0.0.1:{anvil.port}" and primary["errors"] == 0
    assert primary["requests"] > 0 and primary["fallback_hits"] == 0
    assert chain["waiting"] is None and chain["last_error"] is None
    assert f'cove_chain_head{{chain="31337"}} {float(tip)}' in metrics
    endpoint = f'chain="31337",endpoint="0",host="127.0.0.1:{anvil.port}"'
    # The source keeps asking (a quiet second's recheck) between the two reads.
    (requests,) = re.findall(rf"cove_chain_endpoint_requests_total{{{endpoint}}} (\S+)", metrics)
    assert float(requests) >= primary["requests"]
    assert f"cove_chain_endpoint_errors_total{{{endpoint}}} 0.0" in metrics
    assert f"primary #0 127.0.0.1:{anvil.port}: head " in shown.out
    assert "0 errors, 0 fallback hits" in shown.out and "waiting" not in shown.out
    assert 'cove_chain_blocks_behind{chain="31337",confirmations="2"} 0.0' in metrics
