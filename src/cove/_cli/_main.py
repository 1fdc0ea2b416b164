"""``cove`` command group; each subcommand lives in its own module."""

from __future__ import annotations

import click

from ._build import build_command
from ._check import check_command
from ._run import run_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cove", prog_name="cove")
def cli() -> None:
    """cove: run event-driven modules (wasm components and native plugins)."""


cli.add_command(run_command)
cli.add_command(build_command)
cli.add_command(check_command)


def main() -> None:
    cli()
