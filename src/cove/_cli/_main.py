"""``cove`` command group; each subcommand lives in its own module."""

from __future__ import annotations

import click

from ._build import build_command
from ._check import check_command
from ._health import health_command
from ._hooks import hooks_command
from ._key import key_group
from ._mcp import mcp_command
from ._module import module_group
from ._new import new_command
from ._outbox import outbox_group
from ._run import run_command
from ._state import state_group
from ._test import test_command
from ._tool import tool_group
from ._trace import trace_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cove", prog_name="cove")
def cli() -> None:
    """cove: run event-driven modules (wasm components and native plugins)."""


cli.add_command(run_command)
cli.add_command(build_command)
cli.add_command(check_command)
cli.add_command(new_command)
cli.add_command(test_command)
cli.add_command(module_group)
cli.add_command(state_group)
cli.add_command(trace_command)
cli.add_command(health_command)
cli.add_command(key_group)
cli.add_command(tool_group)
cli.add_command(hooks_command)
cli.add_command(outbox_group)
cli.add_command(mcp_command)


def main() -> None:
    cli()
