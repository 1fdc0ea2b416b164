"""``cove`` command group; each subcommand lives in its own module."""

from __future__ import annotations

import importlib

import click

_COMMANDS = {
    "run": "_run:run_command",
    "build": "_build:build_command",
    "check": "_check:check_command",
    "new": "_new:new_command",
    "test": "_test:test_command",
    "module": "_module:module_group",
    "state": "_state:state_group",
    "fs": "_fs:fs_group",
    "trace": "_trace:trace_command",
    "health": "_health:health_command",
    "key": "_key:key_group",
    "tool": "_tool:tool_group",
    "hooks": "_hooks:hooks_command",
    "outbox": "_outbox:outbox_group",
    "approvals": "_approvals:approvals_group",
    "mcp": "_mcp:mcp_command",
}
"""Each subcommand by the module that defines it: imported only when it runs (or for
``--help``), so ``cove module list`` does not load wasmtime or the engine."""


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        where = _COMMANDS.get(cmd_name)
        if where is None:
            return None
        module, _, name = where.partition(":")
        command = getattr(importlib.import_module(f"{__package__}.{module}"), name)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cove", prog_name="cove")
def cli() -> None:
    """cove: run event-driven modules (wasm components and native plugins)."""


def main() -> None:
    cli()
