"""Both chain examples on one engine against anvil, through an engine restart and a node outage.

erc20-watcher (logs, state, messaging, identity) and balance-monitor (ticks,
a chain batch, http) share one engine and one chain source. Neither a
stopped engine nor a stopped node may cost either module a block or a log,
or give it one twice.
"""

from __future__ import annotations

import itertools
import json
from contextlib import ExitStack
from pathlib import Path

import pytest

from cove import Engine, Trajectory
from cove.testing import MemoryTransport
from tests.helpers.anvil import Anvil, running_anvil
from tests.helpers.chain_examples import (
    BLOCKS,
    MONITOR,
    PASSPHRASE,
    PASSPHRASE_ENV,
    WATCHER,
    both_config,
    chain_balances,
    source_started,
    watched_balances,
)
from tests.helpers.engine import running_engine, state_json, wait_until
from tests.helpers.http_server import LocalServer, local_http_server
from tests.helpers.token import DEV, UNIT, deploy_token, transfer

pytestmark = pytest.mark.slow  # builds both examples with componentize-py (cached by inputs)


@pytest.fixture(autouse=True)
def passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSPHRASE_ENV, PASSPHRASE)


def logs_handled(trajectories: list[Trajectory]) -> list[str]:
    """The ids of the log events the watcher handled, in order."""
    return [
        t.event_id
        for t in trajectories
        if t.module == WATCHER and t.outcome == "ok" and t.event_id.startswith("log:")
    ]


def chain_logs(anvil: Anvil, token: str) -> list[str]:
    """The event ids the token's logs have on the node's chain, in (block, index) order."""
    logs = anvil.rpc("eth_getLogs", [{"address": token, "fromBlock": "0x0", "toBlock": "latest"}])
    return [f"log:31337:{log['blockHash']}:{int(log['logIndex'], 16)}" for log in logs]


def posted_blocks(server: LocalServer) -> list[int]:
    return [json.loads(body)["block"] for body in server.bodies]


def head(anvil: Anvil) -> int:
    return int(anvil.rpc("eth_blockNumber"), 16)


async def caught_up(engine: Engine, anvil: Anvil, token: str, server: LocalServer) -> None:
    """Wait until each module has caught up with the node's head.

    The watcher has every transfer, a summary shows the head, and the block
    recorder has it: each reads the journal from its own cursor.
    """
    transfers = len(chain_logs(anvil, token))
    await wait_until(
        lambda: state_json(engine, WATCHER, "transfers") == transfers, what="every transfer"
    )
    tip = head(anvil)
    await wait_until(lambda: tip in posted_blocks(server), what=f"a summary of block {tip}")
    await wait_until(
        lambda: (state_json(engine, BLOCKS, "blocks") or [[None]])[-1][0] == tip,
        what=f"the recorder at block {tip}",
    )


def assert_every_block_once(engine: Engine, anvil: Anvil) -> None:
    """The recorder was handed the node's blocks, each once, consecutive up to its head."""
    blocks = state_json(engine, BLOCKS, "blocks")
    assert [n for n, _, _ in blocks] == list(range(blocks[0][0], head(anvil) + 1))
    for (_, before, _), (_, _, parent) in itertools.pairwise(blocks):
        assert parent == before
    for number, hash_, _ in blocks:
        assert anvil.rpc("eth_getBlockByNumber", [hex(number), False])["hash"] == hash_


async def test_an_engine_restart_costs_neither_module_a_log_nor_repeats_one(
    fresh_anvil: Anvil, tmp_path: Path
) -> None:
    trajectories: list[Trajectory] = []
    first, second = MemoryTransport("console"), MemoryTransport("console")
    with local_http_server({"/balances": (200, {}, b"ok")}) as server:
        config, _ = both_config(tmp_path, fresh_anvil, server.url("/balances"))
        async with running_engine(config, transports=[first], trajectories=trajectories) as engine:
            assert engine.load_errors == {}
            await source_started(engine)
            token = deploy_token(fresh_anvil)
            transfer(fresh_anvil, token, DEV[0], DEV[1], 10 * UNIT)
            await caught_up(engine, fresh_anvil, token, server)
        # The engine is down: transfers (two large) and empty blocks go by.
        transfer(fresh_anvil, token, DEV[0], DEV[2], 20 * UNIT)
        transfer(fresh_anvil, token, DEV[1], DEV[2], 5 * UNIT)
        transfer(fresh_anvil, token, DEV[0], DEV[1], 3_000 * UNIT)
        fresh_anvil.mine(30)
        large = transfer(fresh_anvil, token, DEV[0], DEV[1], 2_000 * UNIT)
        posts_before = len(server.bodies)
        async with running_engine(config, transports=[second], trajectories=trajectories) as engine:
            await caught_up(engine, fresh_anvil, token, server)
            assert watched_balances(engine) == chain_balances(fresh_anvil, token)
            assert_every_block_once(engine, fresh_anvil)
            assert engine.store.get(MONITOR, "chain_errors") is None
    assert logs_handled(trajectories) == chain_logs(fresh_anvil, token)
    assert [m.body.split(" from ")[0] for m in first.sent] == ["large transfer: 1000000 COVE"]
    assert [m.body.split(" from ")[0] for m in second.sent] == [
        "large transfer: 3000 COVE",
        "large transfer: 2000 COVE",
    ]
    assert large in second.sent[1].body
    assert len(server.bodies) > posts_before
    assert posted_blocks(server) == sorted(posted_blocks(server))


async def test_a_node_outage_keeps_the_engine_running_and_loses_no_block_or_log(
    tmp_path: Path,
) -> None:
    trajectories: list[Trajectory] = []
    alerts = MemoryTransport("console")
    saved = tmp_path / "anvil-state.json"  # anvil writes it on exit and loads it on start
    with local_http_server({"/balances": (200, {}, b"ok")}) as server, ExitStack() as outage:
        node = outage.enter_context(running_anvil("--state", str(saved)))
        config, _ = both_config(tmp_path, node, server.url("/balances"))
        async with running_engine(config, transports=[alerts], trajectories=trajectories) as engine:
            await source_started(engine)
            token = deploy_token(node)
            transfer(node, token, DEV[0], DEV[1], 10 * UNIT)
            await caught_up(engine, node, token, server)
            outage.close()  # anvil stops (and saves its chain)
            await wait_until(
                lambda: (state_json(engine, MONITOR, "chain_errors") or 0) >= 2,
                what="the monitor to see the outage",
            )
            assert "chain" in state_json(engine, MONITOR, "last_error")
            assert set(engine.source_health().values()) == {None}
            assert {s.name: (s.state, s.failed) for s in engine.status()} == {
                WATCHER: ("running", 0),
                MONITOR: ("running", 0),
                BLOCKS: ("running", 0),
            }
            with running_anvil("--state", str(saved), port=node.port) as node:
                transfer(node, token, DEV[0], DEV[2], 1_500 * UNIT)
                node.mine(5)
                transfer(node, token, DEV[2], DEV[1], 700 * UNIT)
                await caught_up(engine, node, token, server)
                assert watched_balances(engine) == chain_balances(node, token)
                assert_every_block_once(engine, node)
                ids = chain_logs(node, token)
    assert len(ids) == 4
    assert logs_handled(trajectories) == ids
    assert [m.body.split(" from ")[0] for m in alerts.sent] == [
        "large transfer: 1000000 COVE",
        "large transfer: 1500 COVE",
    ]
    assert posted_blocks(server) == sorted(posted_blocks(server))
