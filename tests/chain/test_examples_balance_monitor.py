"""examples/balance_monitor on a real engine against anvil: one batch per tick, POSTed.

The module is the shipped example, built with componentize-py, with only its
endpoint and schedule changed to a local server and a faster tick.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cove import Trajectory
from tests.helpers.anvil import Anvil
from tests.helpers.chain_examples import MONITOR, chain_section, monitor_module
from tests.helpers.engine import running_engine, state_json, wait_until
from tests.helpers.http_server import local_http_server
from tests.helpers.modules import write_engine_config
from tests.helpers.token import DEV, SUPPLY, UNIT, balance_of, deploy_token, transfer

pytestmark = pytest.mark.slow  # builds the example with componentize-py (cached by inputs)


def posted(bodies: list[bytes]) -> list[dict[str, Any]]:
    return [json.loads(body) for body in bodies]


async def test_each_tick_reads_every_balance_in_one_batch_and_posts_the_summary(
    fresh_anvil: Anvil, tmp_path: Path
) -> None:
    trajectories: list[Trajectory] = []
    with local_http_server({"/balances": (204, {}, b"")}) as server:
        module = monitor_module(tmp_path / "balance_monitor", server.url("/balances"))
        config = write_engine_config(tmp_path / "engine.toml", [module], chain_section(fresh_anvil))
        async with running_engine(config, trajectories=trajectories) as engine:
            assert engine.load_errors == {}
            token = deploy_token(fresh_anvil)
            transfer(fresh_anvil, token, DEV[0], DEV[1], 250 * UNIT)
            head = int(fresh_anvil.rpc("eth_blockNumber"), 16)
            await wait_until(
                lambda: any(s["block"] == head for s in posted(server.bodies)), what="a summary"
            )
            # The POST happens while the tick is handled; its state commits after.
            await wait_until(
                lambda: (state_json(engine, MONITOR, "last_post") or {}).get("status") == 204,
                what="the tick's state",
            )
            last = state_json(engine, MONITOR, "last")
    summary = next(s for s in posted(server.bodies) if s["block"] == head)
    assert summary["chain_id"] == 31337
    assert summary["balances"] == {
        DEV[0]: {
            "wei": str(int(fresh_anvil.rpc("eth_getBalance", [DEV[0], "latest"]), 16)),
            "token": str(SUPPLY - 250 * UNIT),
        },
        DEV[1]: {
            "wei": str(int(fresh_anvil.rpc("eth_getBalance", [DEV[1], "latest"]), 16)),
            "token": str(balance_of(fresh_anvil, token, DEV[1])),
        },
    }
    assert last["block"] >= head
    ticks = [t for t in trajectories if t.module == MONITOR and t.outcome == "ok"]
    assert ticks
    for tick in ticks:
        chain_calls = [c.function for c in tick.calls if c.interface == "chain"]
        assert chain_calls == ["request-batch"]
