"""``cove mcp``: run an engine and serve its modules' tools to one agent over stdio (MCP)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click
from rich.console import Console

from .._app import App
from .._config import load_config
from .._observe._logging import configure_logging
from ..errors import CoveError

errors = Console(stderr=True)


@click.command("mcp")
@click.option(
    "--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
    default=Path("cove-engine.toml"), show_default=True, help="Engine config file (TOML).",
)  # fmt: skip
def mcp_command(config_path: Path) -> None:
    """Run the engine and serve every loaded module's tools over MCP on stdin/stdout.

    Point an agent's MCP client at this command (`command: cove`, `args: ["mcp",
    "--config", "..."]`). It answers `initialize` at once, while modules still
    compile; tools are named <module>.<tool>, and the list follows modules coming
    up (announced with notifications/tools/list_changed), being unloaded or dying.
    Every module's file view (status, config, state, inbox, outbox,
    trajectories, identity, tools, budget) is served as resources cove://<module>/<path>,
    with resources/subscribe. stdout carries only the protocol: logs go to stderr. The engine stops when
    the client closes stdin. An engine that is already running serves the same
    tools at /mcp on its control plane.
    """
    try:
        config = load_config(config_path)
    except CoveError as exc:
        raise click.ClickException(str(exc)) from None
    configure_logging(config.log_format, stream=sys.stderr)
    try:
        app = App(config, progress=lambda msg: errors.print(f"[yellow]…[/] {msg}"))
    except CoveError as exc:
        raise click.ClickException(str(exc)) from None
    asyncio.run(_serve(app))


async def _serve(app: App) -> None:
    """Answer the client at once and start the engine beside it: ``initialize`` does not
    wait for modules to compile, and each module's tools are announced with
    ``list_changed`` as it comes up."""
    from .._control._fs_tree import ModuleFiles
    from .._control._mcp import McpTools  # the mcp SDK is slow to import: only here

    server = McpTools(app.engine.tools, ModuleFiles(app.engine))
    serving = asyncio.ensure_future(server.serve_stdio())
    starting = asyncio.ensure_future(_start(app))
    try:
        await asyncio.wait([serving, starting], return_when=asyncio.FIRST_COMPLETED)
        if starting.done():
            starting.result()  # an engine that could not start ends the command
            await serving
    finally:
        serving.cancel()
        await asyncio.gather(serving, return_exceptions=True)
        await server.aclose()
        if not starting.done():  # the client left while modules were still compiling
            await starting
        if app.engine.started:
            await app.stop()


async def _start(app: App) -> None:
    await app.start()
    for path, error in app.engine.load_errors.items():
        errors.print(f"[red]refused[/] {path}: {error}", highlight=False)
