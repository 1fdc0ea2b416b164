"""The module file view as MCP resources, through the mcp SDK's own client on both transports."""

from __future__ import annotations

import asyncio
import base64
import json
import sys
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx2
import mcp_types as types
import pytest
from mcp.client.client import Client
from mcp.client.session import ClientSession, IncomingMessage
from mcp.client.stdio import StdioServerParameters, get_default_environment, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPDeprecationWarning, MCPError
from mcp.shared.subscriptions import ResourceUpdated

from cove._control._fs_path import encode_name
from tests.helpers.control import TOKEN, TOKEN_ENV, running_plane
from tests.helpers.engine import wait_until
from tests.helpers.file_view import ODD_KEYS, PASS_ENV, PASSPHRASE, files_config, write_event
from tests.helpers.keys import ADDRESS

pytestmark = pytest.mark.slow


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    monkeypatch.setenv(PASS_ENV, PASSPHRASE)
    return files_config(tmp_path)


@asynccontextmanager
async def http_session(url: str, seen: list[IncomingMessage]) -> AsyncIterator[ClientSession]:
    async def remember(message: IncomingMessage) -> None:
        seen.append(message)

    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=60) as client,
        streamable_http_client(f"{url}/mcp", http_client=client) as (read, write),
        ClientSession(read, write, message_handler=remember) as session,
    ):
        yield session


@asynccontextmanager
async def stdio_session(config: Path, seen: list[IncomingMessage]) -> AsyncIterator[ClientSession]:
    async def remember(message: IncomingMessage) -> None:
        seen.append(message)

    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "cove", "mcp", "--config", str(config)],
        env={**get_default_environment(), TOKEN_ENV: TOKEN, PASS_ENV: PASSPHRASE},
    )
    async with (
        stdio_client(params) as (read, write),
        ClientSession(read, write, message_handler=remember) as session,
    ):
        yield session


async def subscribe(session: ClientSession, uri: str, *, off: bool = False) -> None:
    """``resources/subscribe`` (or unsubscribe): the handshake era's way, which the SDK
    marks deprecated for the 2026-07-28 revision; agents of today still send it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MCPDeprecationWarning)
        if off:
            await session.unsubscribe_resource(uri)
        else:
            await session.subscribe_resource(uri)


def updated(seen: list[IncomingMessage], uri: str) -> int:
    return sum(
        isinstance(m, types.ResourceUpdatedNotification) and m.params.uri == uri for m in seen
    )


def text(result: types.ReadResourceResult) -> str:
    block = result.contents[0]
    assert isinstance(block, types.TextResourceContents)
    return block.text


async def exercise(session: ClientSession, seen: list[IncomingMessage]) -> None:
    """What both transports must do: list, read, refuse, and announce a changed file."""
    init = await asyncio.wait_for(session.initialize(), 60)
    assert init.capabilities.resources is not None
    assert init.capabilities.resources.subscribe is True
    for _ in range(600):  # `cove mcp` answers before its modules are up
        if (await session.list_tools()).tools:
            break
        await asyncio.sleep(0.1)
    put = await session.call_tool("files.put", {"key": "count", "value": 1})
    assert not put.is_error, put

    uris = {r.uri for r in (await session.list_resources()).resources}
    assert {
        "cove://files/status",
        "cove://files/config",
        "cove://files/state/count",
        "cove://files/inbox",
        "cove://files/outbox",
        "cove://files/identity/address",
        "cove://files/identity/public_key",
        "cove://files/tools",
    } <= uris
    templates = (await session.list_resource_templates()).resource_templates
    assert "cove://{module}/state/{key}" in [t.uri_template for t in templates]

    status = json.loads(text(await session.read_resource("cove://files/status")))
    assert ("files", "running") == (status["name"], status["state"])
    assert {"greeting": "hi"} == json.loads(
        text(await session.read_resource("cove://files/config"))
    )
    assert ADDRESS == text(await session.read_resource("cove://files/identity/address")).strip()
    listing = json.loads(text(await session.read_resource("cove://files/state")))
    assert ["count"] == [e["name"] for e in listing["entries"]]
    with pytest.raises(MCPError) as unknown:
        await session.read_resource("cove://nope/status")
    assert "no module named 'nope'" in str(unknown.value)
    with pytest.raises(MCPError):
        await subscribe(session, "cove://files/state/absent")

    watched = "cove://files/state/count"
    await subscribe(session, watched)
    await session.call_tool("files.put", {"key": "count", "value": 2})
    await wait_until(lambda: updated(seen, watched) == 1, what="resources/updated after a commit")
    assert "2" == text(await session.read_resource(watched))
    await subscribe(session, watched, off=True)
    await session.call_tool("files.put", {"key": "count", "value": 3})
    await asyncio.sleep(1.5)  # three polls: nothing more is announced
    assert 1 == updated(seen, watched)


async def test_resources_over_streamable_http(config: Path) -> None:
    seen: list[IncomingMessage] = []
    async with running_plane(config) as plane:
        async with http_session(str(plane.client.base_url), seen) as session:
            await exercise(session, seen)


async def test_resources_over_stdio_with_cove_mcp(config: Path) -> None:
    seen: list[IncomingMessage] = []
    async with stdio_session(config, seen) as session:
        await exercise(session, seen)


async def test_odd_keys_and_binary_values_read_back_as_resources(config: Path) -> None:
    values = {key: key for key in ODD_KEYS}
    seen: list[IncomingMessage] = []
    async with running_plane(config) as plane:
        engine = plane.engine
        await engine.publish([write_event(values, {"raw": b"\xff\x00"})])
        await wait_until(lambda: engine.store.get("files", "raw") is not None, what="state")
        async with http_session(str(plane.client.base_url), seen) as session:
            await session.initialize()
            read = {}
            for key in ODD_KEYS:
                uri = "cove://files/state/" + encode_name(key)
                read[key] = json.loads(text(await session.read_resource(uri)))
            raw = (await session.read_resource("cove://files/state/raw")).contents[0]
            status_uri = "cove://files/status"
            await subscribe(session, status_uri)
            await engine.publish([write_event({"more": 1})])
            await wait_until(lambda: updated(seen, status_uri) >= 1, what="status updated")
    assert values == read
    assert isinstance(raw, types.BlobResourceContents)
    assert b"\xff\x00" == base64.b64decode(raw.blob)


async def test_a_listen_stream_of_the_newest_revision_gets_resource_updates(config: Path) -> None:
    """Clients of 2026-07-28 name the URIs in ``subscriptions/listen``; the same watcher serves them."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "cove", "mcp", "--config", str(config)],
        env={**get_default_environment(), TOKEN_ENV: TOKEN, PASS_ENV: PASSPHRASE},
    )
    watched = "cove://files/state/count"
    async with Client(params, mode="2026-07-28", cache=None) as client:
        for _ in range(600):
            if (await client.list_tools()).tools:
                break
            await asyncio.sleep(0.1)
        await client.call_tool("files.put", {"key": "count", "value": 1})
        async with client.listen(resource_subscriptions=[watched]) as stream:
            await client.call_tool("files.put", {"key": "count", "value": 2})
            event = await asyncio.wait_for(anext(aiter(stream)), 30)
            value = text(await client.read_resource(watched))
    assert isinstance(event, ResourceUpdated) and watched == event.uri
    assert "2" == value
