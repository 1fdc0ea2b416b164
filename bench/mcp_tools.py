"""MCP tool call round trip: a wasm tool behind cove vs a plain mcp SDK server.

The same client (the mcp SDK's own ``ClientSession``) calls ``add(a, b)``
over stdio (``cove mcp`` vs the plain server, each a subprocess) and over
streamable HTTP (``/mcp`` on a ``cove run`` control plane vs the plain
server's own HTTP app, each a subprocess). The cove tool is a componentize-py
guest: each call is validated against its JSON Schema, runs in the sandbox
under its limits, commits and leaves a trajectory. The plain server's tool
is a Python function. p50/p99 of one call's round trip, same run; the target
is a cove/plain ratio of at most 2.

usage: python bench/mcp_tools.py [--calls 500]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import httpx2
from _common import BENCH, bench_guest, print_table
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

TOKEN = "bench-token-0c1d"
PLAIN = str(BENCH / "_plain_mcp_server.py")
WARMUP = 50


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cove_engine(work: Path, port: int | None) -> Path:
    """An engine config with the bench tool module (pinned); a control plane on ``port``."""
    manifest, wasm = bench_guest("add_tool")
    module = work / "add_tool"
    shutil.copytree(BENCH / "assets" / "add_tool", module, ignore=shutil.ignore_patterns("*.wasm"))
    (module / "add_tool.wasm").write_bytes(wasm)
    toml = module / "cove.toml"
    toml.write_text(
        re.sub(r'sha256 = "[^"]*"', f'sha256 = "{manifest.module.sha256}"', toml.read_text())
    )
    config = work / f"engine-{port or 'stdio'}.toml"
    text = (
        f'data_dir = "{work / "data"}"\nmodules = ["{module}"]\n'
        f'[wasm]\ncache_dir = "{BENCH.parent / ".cove" / "bench-cache" / "compiled"}"\n'
    )
    if port is not None:
        text += f'[control]\nhost = "127.0.0.1"\nport = {port}\ntoken_env = "COVE_BENCH_TOKEN"\n'
    config.write_text(text)
    return config


async def wait_for_tool(session: ClientSession, name: str) -> None:
    """The engine lists a module's tools once its init ran."""
    for _ in range(1200):
        if name in {t.name for t in (await session.list_tools()).tools}:
            return
        await asyncio.sleep(0.05)
    raise RuntimeError(f"{name} never appeared")


async def round_trips(session: ClientSession, name: str, calls: int) -> list[float]:
    await session.initialize()
    await wait_for_tool(session, name)
    samples = []
    for i in range(WARMUP + calls):
        start = time.perf_counter()
        result = await session.call_tool(name, {"a": i, "b": 1})
        elapsed = time.perf_counter() - start
        if result.is_error:
            raise RuntimeError(f"{name} failed: {result.content}")
        if i >= WARMUP:
            samples.append(elapsed * 1000)
    return samples


@asynccontextmanager
async def stdio_session(args: list[str]) -> AsyncIterator[ClientSession]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    params = StdioServerParameters(command=sys.executable, args=args, env=env)
    with open(os.devnull, "w") as quiet:  # noqa: ASYNC230 (opening /dev/null does not block)
        async with (
            stdio_client(params, errlog=quiet) as (read, write),
            ClientSession(read, write) as session,
        ):
            yield session


@asynccontextmanager
async def http_session(url: str, headers: dict[str, str]) -> AsyncIterator[ClientSession]:
    async with AsyncExitStack() as stack:
        client = await stack.enter_async_context(httpx2.AsyncClient(headers=headers, timeout=60))
        read, write = await stack.enter_async_context(
            streamable_http_client(url, http_client=client)
        )
        yield await stack.enter_async_context(ClientSession(read, write))


async def http_server(
    args: list[str], port: int, env: dict[str, str]
) -> asyncio.subprocess.Process:
    server = await asyncio.create_subprocess_exec(
        sys.executable, *args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    for _ in range(1200):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return server
        await asyncio.sleep(0.05)
    server.kill()
    raise RuntimeError(f"{args} did not listen on {port}")


async def main(calls: int) -> None:
    results: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        cove_port, plain_port = free_port(), free_port()
        env = {**os.environ, "COVE_BENCH_TOKEN": TOKEN}
        stdio_config = cove_engine(work, None)
        async with stdio_session(["-m", "cove", "mcp", "--config", str(stdio_config)]) as session:
            results["stdio", "cove (wasm tool)"] = await round_trips(
                session, "bench_tools.add", calls
            )
        async with stdio_session([PLAIN, "stdio"]) as session:
            results["stdio", "plain mcp SDK"] = await round_trips(session, "add", calls)

        shutil.rmtree(work / "data", ignore_errors=True)
        shutil.rmtree(work / "add_tool")
        config = cove_engine(work, cove_port)
        cove = await http_server(
            ["-m", "cove", "run", "--config", str(config), "--no-trace"], cove_port, env
        )
        try:
            url = f"http://127.0.0.1:{cove_port}/mcp"
            async with http_session(url, {"Authorization": f"Bearer {TOKEN}"}) as session:
                results["http", "cove (wasm tool)"] = await round_trips(
                    session, "bench_tools.add", calls
                )
        finally:
            cove.terminate()
            await cove.wait()
        plain = await http_server([PLAIN, "http", str(plain_port)], plain_port, env)
        try:
            async with http_session(f"http://127.0.0.1:{plain_port}/mcp", {}) as session:
                results["http", "plain mcp SDK"] = await round_trips(session, "add", calls)
        finally:
            plain.terminate()
            await plain.wait()

    rows = []
    for transport in ("stdio", "http"):
        base = results[transport, "plain mcp SDK"]
        for server in ("plain mcp SDK", "cove (wasm tool)"):
            samples = results[transport, server]
            p50, p99 = percentile(samples, 50), percentile(samples, 99)
            rows.append((
                transport, server, f"{p50:.2f}", f"{p99:.2f}",
                f"{p50 / percentile(base, 50):.2f}x", f"{p99 / percentile(base, 99):.2f}x",
            ))  # fmt: skip
    print_table(
        f"MCP tools/call round trip, {calls} calls after {WARMUP} warm-up (ms)",
        rows,
        ("transport", "server", "p50", "p99", "p50 vs plain", "p99 vs plain"),
    )


def percentile(samples: list[float], p: int) -> float:
    return statistics.quantiles(samples, n=100)[p - 1] if p < 100 else max(samples)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500, help="measured calls per server")
    asyncio.run(main(parser.parse_args().calls))
