"""A chain endpoint's URL (API key in its path, query or userinfo) is shown nowhere.

/health is open on a control plane without a token, and logs and metrics
are read by more people than the config: each endpoint is shown only by its
label (index and host:port).
"""

from __future__ import annotations

import socket
from pathlib import Path

from structlog.testing import capture_logs

from tests.chain.test_chain_health import blocks_module, seen
from tests.helpers.anvil import Anvil
from tests.helpers.control import control_section, running_plane
from tests.helpers.engine import wait_until
from tests.helpers.modules import toml_value, write_engine_config
from tests.integration.test_cli_control import cove


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_endpoint_urls_with_secrets_appear_nowhere_in_health_logs_or_metrics(
    anvil: Anvil, tmp_path: Path
) -> None:
    port = anvil.http_url.rsplit(":", 1)[1].rstrip("/")
    # anvil answers 404 on any other path: the primary fails on every read, and
    # httpx's own message for that status names the whole URL.
    primary = f"http://key:SECRETPW0@127.0.0.1:{port}/v3/SECRETPATH0?apikey=SECRETQUERY0"
    fallback = f"http://key:SECRETPW1@127.0.0.1:{port}/?apikey=SECRETQUERY1"
    ws = f"ws://key:SECRETPW2@127.0.0.1:{closed_port()}/ws/SECRETPATH2?apikey=SECRETQUERY2"
    chains = (
        f"[[chains]]\nchain_id = 31337\nhttp = {toml_value(primary)}\n"
        f"fallbacks = [{toml_value(fallback)}]\nws = {toml_value(ws)}\npoll_interval = '20ms'\n"
    )
    modules = [blocks_module(tmp_path, "at_head", 0)]
    config = write_engine_config(
        tmp_path / "engine.toml", modules, chains + control_section(token=False)
    )
    with capture_logs() as logs:
        async with running_plane(config) as plane:
            await wait_until(lambda: len(seen(plane.engine, "at_head")) >= 1, what="a block")
            anvil.mine(2)
            await wait_until(lambda: len(seen(plane.engine, "at_head")) >= 3, what="the fallback")
            health = (await plane.client.get("/health")).json()
            assert plane.metrics_url is not None
            metrics = (await plane.client.get(plane.metrics_url + "/metrics")).text
            shown = await cove(plane, "health")
    source = health["sources"]["chain:31337"]
    first, second = source["endpoints"]
    assert first["endpoint"] == f"#0 127.0.0.1:{port}" and first["errors"] > 0
    assert first["last_error"].startswith(f"#0 127.0.0.1:{port}: HTTPStatusError")
    assert second["endpoint"] == f"#1 127.0.0.1:{port}" and second["fallback_hits"] > 0
    assert any(e["event"] == "newHeads subscription lost" for e in logs)
    for text in (str(health), metrics, str(shown), str(logs)):
        assert "SECRET" not in text
