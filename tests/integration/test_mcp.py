"""The MCP server, driven by the official mcp SDK's own client (streamable HTTP and stdio)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import httpx2
import mcp_types as types
import pytest
from mcp.client.session import ClientSession, IncomingMessage
from mcp.client.stdio import StdioServerParameters, get_default_environment, stdio_client
from mcp.client.streamable_http import streamable_http_client

from tests.helpers.control import AUTH, TOKEN, TOKEN_ENV, control_section, running_plane
from tests.helpers.engine import probe_event, running_engine, wait_until
from tests.helpers.modules import CACHE, write_engine_config, write_manifest

pytestmark = pytest.mark.slow


@pytest.fixture
def plane_config(
    tmp_path: Path, tool_wasm: Path, hostile_wasm: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """The two tool modules on an engine with a control plane and its token."""
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    return engine_config(tmp_path, tool_wasm, hostile_wasm, control_section(metrics=False))


def engine_config(tmp_path: Path, tool_wasm: Path, hostile_wasm: Path, extra: str = "") -> Path:
    tp = write_manifest(
        tmp_path / "tp", "tp", component=tool_wasm, optional=["store", "events"], tools=True
    )
    ht = write_manifest(
        tmp_path / "ht", "ht", component=hostile_wasm, tools=True, resources={"timeout": "200ms"}
    )
    return write_engine_config(tmp_path / "engine.toml", [tp, ht], extra)


@asynccontextmanager
async def http_session(
    url: str, notifications: list[IncomingMessage]
) -> AsyncIterator[ClientSession]:
    async def remember(message: IncomingMessage) -> None:
        notifications.append(message)

    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=60) as client,
        streamable_http_client(f"{url}/mcp", http_client=client) as (read, write),
        ClientSession(read, write, message_handler=remember) as session,
    ):
        yield session


def text_of(result: types.CallToolResult) -> str:
    block = result.content[0]
    assert isinstance(block, types.TextContent)
    return block.text


async def test_an_mcp_client_lists_and_calls_tools_over_http(
    plane_config: Path,
) -> None:
    notifications: list[IncomingMessage] = []
    async with running_plane(plane_config) as plane:
        engine = plane.engine
        await wait_until(lambda: len(engine.tools.all()) == 6, what="tools listed")
        async with http_session(str(plane.client.base_url), notifications) as session:
            init = await session.initialize()
            assert init.capabilities.tools is not None
            assert init.capabilities.tools.list_changed is True

            listed = await session.list_tools()
            by_name = {t.name: t for t in listed.tools}
            assert set(by_name) == {
                "ht.ping",
                "ht.spin",
                "tp.add",
                "tp.recall",
                "tp.remember",
                "tp.write_then_fail",
            }
            assert by_name["tp.add"].input_schema["required"] == ["a", "b"]

            added = await session.call_tool("tp.add", {"a": 20, "b": 22})
            assert not added.is_error
            assert json.loads(text_of(added)) == {"sum": 42}
            assert added.structured_content == {"sum": 42}

            bad = await session.call_tool("tp.add", {"a": "twenty", "b": 22})
            assert bad.is_error
            assert "invalid-input" in text_of(bad)
            assert "tp.add" in text_of(bad) and "'a'" in text_of(bad)

            spun = await session.call_tool("ht.spin", {})
            assert spun.is_error
            assert "timeout" in text_of(spun) and "ht.spin" in text_of(spun)
            pong = await session.call_tool("ht.ping", {})  # the engine kept serving
            assert json.loads(text_of(pong)) == "pong"

            hostile_dir = engine.runners["ht"].manifest.root
            await engine.unload("ht")
            await wait_until(lambda: changes(notifications) == 1, what="list_changed on unload")
            after = await session.list_tools()
            assert {t.name for t in after.tools} == {
                "tp.add",
                "tp.recall",
                "tp.remember",
                "tp.write_then_fail",
            }

            await engine.load(hostile_dir)
            await wait_until(lambda: changes(notifications) == 2, what="list_changed on load")
            assert "ht.ping" in {t.name for t in (await session.list_tools()).tools}


async def test_tools_are_listed_as_soon_as_the_engine_has_started(
    tmp_path: Path, tool_wasm: Path, hostile_wasm: Path
) -> None:
    """An agent that lists tools once, as soon as the engine reports ready, sees them
    all: start() returns (and /health/ready says ready) only after every module's
    first init settled, which is when a wasm module's tools become known."""
    config = engine_config(tmp_path, tool_wasm, hostile_wasm)
    async with running_engine(config) as engine:
        listed = {t.name for t in engine.tools.all()}
        states = {r.state.value for r in engine.runners.values()}
    assert {"ht.ping", "ht.spin", "tp.add", "tp.recall", "tp.remember"} <= listed
    assert {"running"} == states


DOOMED = """
from cove import Plugin
from cove.plugin import tool


class Doomed(Plugin):
    @tool("hello", "Says hello until the module dies.")
    def hello(self, ctx):
        return "hello"

    def handle_event(self, event, ctx):
        raise RuntimeError("this module fails every event")
"""


async def test_a_module_that_dies_takes_its_tools_off_the_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    module = write_manifest(
        tmp_path / "doomed", "doomed", kind="python", entry="doomed:Doomed", tools=True,
        restart={"max_failures": 1},
    )  # fmt: skip
    (module / "doomed.py").write_text(DOOMED)
    config = write_engine_config(tmp_path / "engine.toml", [module], control_section(metrics=False))
    notifications: list[IncomingMessage] = []
    async with running_plane(config) as plane:
        engine = plane.engine
        await wait_until(lambda: len(engine.tools.all()) == 1, what="tools listed")
        async with http_session(str(plane.client.base_url), notifications) as session:
            await session.initialize()
            assert [t.name for t in (await session.list_tools()).tools] == ["doomed.hello"]
            await engine.publish([probe_event("fail")])
            await wait_until(lambda: changes(notifications) == 1, what="list_changed on death")
            assert engine.runners["doomed"].state.value == "dead"
            assert (await session.list_tools()).tools == []


def changes(notifications: list[IncomingMessage]) -> int:
    return sum(isinstance(n, types.ToolListChangedNotification) for n in notifications)


async def test_a_closed_http_session_is_no_longer_notified(plane_config: Path) -> None:
    """Sessions are forgotten when they end, not kept up to the SDK's cap of live sessions."""
    async with running_plane(plane_config) as plane:
        control = plane.control
        assert control is not None and control.mcp is None  # started by the first request
        async with http_session(str(plane.client.base_url), []) as session:
            await session.initialize()
        assert control.mcp is not None
        notified = control.mcp._connections
        await wait_until(lambda: not notified, what="the first session forgotten")
        for n in range(3):
            async with http_session(str(plane.client.base_url), []) as session:
                await session.initialize()
                await wait_until(lambda: len(notified) == 1, what=f"session {n} notified")
            await wait_until(lambda: not notified, what=f"session {n} forgotten")


async def test_the_http_endpoint_needs_the_control_token(plane_config: Path) -> None:
    async with running_plane(plane_config) as plane:
        body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
        missing = await plane.client.post("/mcp", json=body)
        assert missing.status_code == 401
        wrong = await plane.client.post("/mcp", json=body, headers=plane.auth("wrong"))
        assert wrong.status_code == 401


async def test_an_engine_without_a_control_token_refuses_mcp(
    tmp_path: Path, tool_wasm: Path, hostile_wasm: Path
) -> None:
    """A tool call changes state: no token configured means no MCP over HTTP at all."""
    config = engine_config(tmp_path, tool_wasm, hostile_wasm, control_section(token=False))
    async with running_plane(config) as plane:
        body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
        refused = await plane.client.post("/mcp", json=body, headers=plane.auth())
        assert refused.status_code == 403
        assert "token" in refused.json()["error"]


async def test_tools_on_the_control_api(plane_config: Path) -> None:
    async with running_plane(plane_config) as plane:
        await wait_until(lambda: len(plane.engine.tools.all()) == 6, what="tools listed")
        listed = (await plane.client.get("/v1/tools", headers=plane.auth())).json()["tools"]
        assert [t["name"] for t in listed][:2] == ["ht.ping", "ht.spin"]
        call = "/v1/tools/tp.add/call"
        unauthorized = await plane.client.post(call, json={"arguments": {"a": 1, "b": 2}})
        assert unauthorized.status_code == 401
        ok = await plane.client.post(
            call, json={"arguments": {"a": 1, "b": 2}}, headers=plane.auth()
        )
        assert ok.status_code == 200
        assert ok.json() == {"tool": "tp.add", "result": {"sum": 3}}
        bad = await plane.client.post(call, json={"arguments": {"a": 1}}, headers=plane.auth())
        assert bad.status_code == 422
        assert bad.json()["kind"] == "invalid-input"
        unknown = await plane.client.post(
            "/v1/tools/tp.nope/call", json={"arguments": {}}, headers=plane.auth()
        )
        assert unknown.status_code == 404
        spec = (await plane.client.get("/openapi.json")).json()
        assert "/v1/tools/{name}/call" in spec["paths"]


async def test_cove_mcp_serves_tools_over_stdio(
    tmp_path: Path, tool_wasm: Path, hostile_wasm: Path
) -> None:
    config = engine_config(tmp_path, tool_wasm, hostile_wasm)
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "cove", "mcp", "--config", str(config)]
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await asyncio.wait_for(session.initialize(), 60)
        names: set[str] = set()
        for _ in range(600):  # the engine inits its modules after it starts
            names = {t.name for t in (await session.list_tools()).tools}
            if len(names) == 6:
                break
            await asyncio.sleep(0.1)
        assert "tp.add" in names and "ht.spin" in names
        added = await session.call_tool("tp.add", {"a": 1, "b": 2})
        assert json.loads(text_of(added)) == {"sum": 3}
        spun = await session.call_tool("ht.spin", {})
        assert spun.is_error and "timeout" in text_of(spun)


async def test_cove_mcp_answers_initialize_while_its_modules_compile(
    tmp_path: Path, tool_wasm: Path
) -> None:
    """An empty compiled cache: ``initialize`` is answered at once, the tool list is
    empty while the module compiles (health and ``cove module list`` say
    ``compiling``), and ``list_changed`` announces its tools."""
    tp = write_manifest(
        tmp_path / "tp", "tp", component=tool_wasm, optional=["store", "events"], tools=True
    )
    config = write_engine_config(tmp_path / "engine.toml", [tp], control_section(metrics=False))
    cold = tmp_path / "cold-cache"
    # Cranelift's compile (seconds): all of the below happens while it runs; Winch's
    # (tiered, the default) could end before the last of it.
    text = config.read_text().replace(str(CACHE / "compiled"), str(cold))
    config.write_text(text.replace("[wasm]\n", '[wasm]\ncompiler = "cranelift"\n', 1))
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "cove", "mcp", "--config", str(config)],
        env={**get_default_environment(), TOKEN_ENV: TOKEN},
    )
    notifications: list[IncomingMessage] = []

    async def remember(message: IncomingMessage) -> None:
        notifications.append(message)

    stderr = tmp_path / "stderr.log"
    with stderr.open("w") as errlog:
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write, message_handler=remember) as session,
        ):
            await asyncio.wait_for(session.initialize(), 60)
            assert [] == (await session.list_tools()).tools
            url = await control_url(stderr)
            async with httpx.AsyncClient(base_url=url, timeout=30) as client:
                health = (await client.get("/health", headers=AUTH)).json()
            listed = await asyncio.to_thread(
                subprocess.run,
                [sys.executable, "-m", "cove", "module", "list", "--url", url],
                env={**os.environ, "COVE_TOKEN": TOKEN, "COLUMNS": "200"},
                capture_output=True,
                text=True,
            )
            assert [] == list(cold.glob("*.cwasm"))  # all of the above while compiling
            await wait_until(lambda: changes(notifications) >= 1, what="list_changed", timeout=240)
            names = {t.name for t in (await session.list_tools()).tools}
    assert {"tp.add", "tp.recall", "tp.remember"} <= names
    assert 1 == len(list(cold.glob("*.cwasm")))
    assert ("not-ready", "compiling") == (health["status"], health["modules"]["tp"]["state"])
    assert re.search(r"^\s*tp\s+0\.1\.0\s+compiling\s", listed.stdout, re.M), listed.stdout


async def control_url(stderr: Path) -> str:
    """The control plane's address, from the engine's "control listening" log line."""
    found: list[str] = []

    def logged() -> bool:
        found[:] = re.findall(r"listening\s+url=(\S+)", stderr.read_text())
        return bool(found)

    await wait_until(logged, what="the control plane listening", timeout=60)
    return found[0]
