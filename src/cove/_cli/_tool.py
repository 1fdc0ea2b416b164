"""``cove tool list|call``: the tools of a running engine's modules."""

from __future__ import annotations

import json
from typing import Any

import click
from rich.table import Table
from rich.text import Text

from ._client import EXIT_CODES, Client, api_command, console


def _arguments(raw: str | None, pairs: tuple[str, ...]) -> dict[str, Any]:
    """ARGUMENTS (a JSON object) overlaid with ``--arg key=value`` (value as JSON, else text)."""
    try:
        arguments = json.loads(raw) if raw else {}
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="ARGUMENTS") from None
    if not isinstance(arguments, dict):
        raise click.BadParameter("must be a JSON object", param_hint="ARGUMENTS")
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{pair!r} is not key=value", param_hint="--arg")
        try:
            arguments[key] = json.loads(value)
        except json.JSONDecodeError:
            arguments[key] = value
    return arguments


@click.group("tool", epilog=EXIT_CODES)
def tool_group() -> None:
    """List and call the tools the modules of a running engine serve (as over MCP)."""


@tool_group.command("list", epilog=EXIT_CODES)
@api_command
def list_command(client: Client) -> None:
    """Tools as <module>.<tool>, with what they do and the arguments they take."""
    body = client.call("GET", "/v1/tools")

    def human() -> None:
        table = Table("tool", "arguments", "description", box=None, header_style="bold")
        for t in body["tools"]:
            properties = t["input_schema"].get("properties", {})
            required = set(t["input_schema"].get("required", []))
            args = ", ".join(f"{k}{'' if k in required else '?'}" for k in properties)
            # A tool's name, arguments and description are the module's text, never markup.
            table.add_row(Text(t["name"]), Text(args or "-"), Text(t["description"]))
        console.print(table if body["tools"] else "[dim]no tools served[/]")

    client.show(body, human)


@tool_group.command("call", epilog=EXIT_CODES)
@click.argument("name")
@click.argument("arguments", required=False)
@click.option(
    "--arg", "-a", "pairs", multiple=True, metavar="KEY=VALUE",
    help="One argument; VALUE is read as JSON when it parses (42, true, [1]), else as text.",
)  # fmt: skip
@api_command
def call_command(client: Client, name: str, arguments: str | None, pairs: tuple[str, ...]) -> None:
    """Call tool NAME with ARGUMENTS (a JSON object) and print its JSON result.

    The engine checks the arguments against the tool's schema, then runs the
    tool in its module's sandbox, in its own transaction (exit 1 when the
    engine refuses the call or the tool fails).
    """
    body = client.call(
        "POST", f"/v1/tools/{name}/call", json={"arguments": _arguments(arguments, pairs)}
    )
    client.show(body, lambda: click.echo(json.dumps(body["result"], indent=2)))
