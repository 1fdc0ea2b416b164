"""The http allowlist is enforced by the host, on the first request and on every redirect."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cove import Trajectory
from tests.helpers.engine import running_engine, state_json, wait_until
from tests.helpers.http_server import LocalServer, local_http_server
from tests.helpers.modules import write_engine_config
from tests.helpers.security import op_event, probe_module


@pytest.fixture
def outside() -> Iterator[LocalServer]:
    """A server the module is not allowed to reach."""
    with local_http_server({"/secret": (200, {}, b"secret")}) as server:
        yield server


@pytest.fixture
def allowed(outside: LocalServer) -> Iterator[LocalServer]:
    """The one server (host and port) in the module's allowlist."""
    routes = {
        "/hello": (200, {"Content-Type": "text/plain"}, b"hello"),
        "/missing": (404, {}, b"nope"),
        "/hop": (302, {"Location": "/hello"}, b""),
        "/escape": (302, {"Location": outside.url("/secret")}, b""),
    }
    with local_http_server(routes) as server:
        yield server


async def fetch_through_probe(tmp_path: Path, probe_wasm: Path, url: str, allow: str) -> Any:
    """What the probe stored after fetching ``url`` with only ``allow`` allowed."""
    module = probe_module(tmp_path, probe_wasm, "fetcher", http_allow=[allow])
    config = write_engine_config(tmp_path / "engine.toml", [module])
    trajectories: list[Trajectory] = []
    async with running_engine(config, trajectories=trajectories) as engine:
        await engine.publish([op_event("fetcher", "http", url=url)])
        await wait_until(lambda: len(trajectories) == 1, what="fetch handled")
        assert ("ok", "") == (trajectories[0].outcome, trajectories[0].error)
        return state_json(engine, "fetcher", "http")


async def test_allowed_url_response_reaches_the_guest(
    tmp_path: Path, probe_wasm: Path, allowed: LocalServer
) -> None:
    stored = await fetch_through_probe(
        tmp_path, probe_wasm, allowed.url("/hello"), allowed.authority
    )
    assert {"status": 200, "body": "hello"} == stored
    assert ["/hello"] == allowed.hits


async def test_non_2xx_status_is_a_normal_response(
    tmp_path: Path, probe_wasm: Path, allowed: LocalServer
) -> None:
    stored = await fetch_through_probe(
        tmp_path, probe_wasm, allowed.url("/missing"), allowed.authority
    )
    assert {"status": 404, "body": "nope"} == stored


async def test_redirect_within_the_allowlist_is_followed(
    tmp_path: Path, probe_wasm: Path, allowed: LocalServer
) -> None:
    stored = await fetch_through_probe(tmp_path, probe_wasm, allowed.url("/hop"), allowed.authority)
    assert {"status": 200, "body": "hello"} == stored
    assert ["/hop", "/hello"] == allowed.hits


async def test_url_outside_the_allowlist_is_denied_without_a_request(
    tmp_path: Path, probe_wasm: Path, allowed: LocalServer, outside: LocalServer
) -> None:
    url = outside.url("/secret")
    stored = await fetch_through_probe(tmp_path, probe_wasm, url, allowed.authority)
    assert {
        "error": "denied",
        "message": f"http: {url!r} is not in the module's http allowlist",
    } == stored
    assert [] == outside.hits


async def test_redirect_to_a_host_outside_the_allowlist_is_denied_without_a_request(
    tmp_path: Path, probe_wasm: Path, allowed: LocalServer, outside: LocalServer
) -> None:
    stored = await fetch_through_probe(
        tmp_path, probe_wasm, allowed.url("/escape"), allowed.authority
    )
    assert {
        "error": "denied",
        "message": f"http: {outside.url('/secret')!r} is not in the module's http allowlist",
    } == stored
    assert (["/escape"], []) == (allowed.hits, outside.hits)
