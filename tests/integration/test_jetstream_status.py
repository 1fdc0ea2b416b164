"""The status of an engine whose journal is on JetStream while NATS is away: the modules'
state, counts and last known queue depth still answer (the depth marked stale), as the
API, the command line and the metrics read it; once NATS is back the depth is live again."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from cove import Custom, Event
from tests.helpers.control import TOKEN, TOKEN_ENV, control_section, flaky_module, running_plane
from tests.helpers.engine import wait_until
from tests.helpers.nats import NatsServer
from tests.helpers.postgres import PostgresServer
from tests.integration.test_cli_control import cove
from tests.integration.test_cluster import PASSWORD_ENV, cluster_config, placed


def _probe(i: int) -> Event:
    return Event(Custom("probe.n", "", str(i)), id=f"s{i}")


async def test_status_answers_with_the_last_known_depth_while_nats_is_away(
    tmp_path: Path, postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, postgres.password)
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    server = NatsServer()  # its own: this test kills it
    server.start()
    mode = tmp_path / "mode"
    mode.write_text("always")
    module = flaky_module(tmp_path, "flaky", mode, restart={"max_failures": 1})
    journal = f'journal = "jetstream"\nnats_url = "{server.url}"\nstream = "S"\n'
    config = cluster_config(
        tmp_path / "a", [module], postgres.database(), "a", control_section(), journal
    )
    try:
        async with running_plane(config) as plane:
            await wait_until(lambda: placed(plane.engine) == {"flaky": "a"}, what="placed")
            await plane.engine.publish([_probe(i) for i in range(3)])

            def dead_with_three() -> bool:
                (status,) = plane.engine.status()
                return status.state == "dead" and status.queue_depth == 3

            await wait_until(dead_with_three, what="dead with its three events waiting")
            server.kill()
            await asyncio.sleep(1.5)  # the journal's tail goes stale: the head is the server's

            answer = await plane.client.get("/v1/modules", headers=plane.auth())
            assert 200 == answer.status_code, answer.text
            (listed,) = answer.json()["modules"]
            assert ("dead", 3, True) == (
                listed["state"],
                listed["queue_depth"],
                listed["queue_depth_stale"],
            )
            table = await cove(plane, "module", "list")
            assert 0 == table.code, table.err
            row = next(line.split() for line in table.out.splitlines() if "flaky" in line)
            assert "3?" in row, table.out
            assert "stale" in table.out, "the table says what the ? means"
            health = await plane.client.get("/health", headers=plane.auth())
            assert {"state": "dead", "queue_depth": 3, "queue_depth_stale": True} == {
                k: health.json()["modules"]["flaky"][k]
                for k in ("state", "queue_depth", "queue_depth_stale")
            }
            problems = health.json()["problems"]
            assert "journal's server is away: queue depths are the last known" in problems
            told = await cove(plane, "health")
            assert 1 == told.code, told.err  # degraded
            assert "module flaky: dead, queue 3? (last known)" in told.out, told.out
            assert plane.metrics_url is not None
            async with httpx.AsyncClient() as scraper:
                scraped = await scraper.get(plane.metrics_url + "/metrics")
            assert 200 == scraped.status_code
            assert 'cove_module_queue_depth{module="flaky"} 3.0' in scraped.text
            assert "cove_journal_head_stale 1.0" in scraped.text

            server.start()
            await wait_until(
                lambda: not plane.engine.status()[0].queue_depth_stale,
                what="the depth is live again once NATS is back",
            )
    finally:
        server.stop()
