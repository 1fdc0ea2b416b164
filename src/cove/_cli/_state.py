"""``cove state get|list|dump``: read a module's state in a running engine."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

import click

from ._client import EXIT_CODES, Client, api_command, console


@click.group("state", epilog=EXIT_CODES)
def state_group() -> None:
    """Inspect module state (needs the control token)."""


@state_group.command("list", epilog=EXIT_CODES)
@click.argument("module")
@click.option("--prefix", default="", help="Only keys that start with this.")
@click.option("--limit", type=click.IntRange(1, 1000), default=1000, show_default=True)
@api_command
def list_command(client: Client, module: str, prefix: str, limit: int) -> None:
    """The state keys of MODULE, sorted."""
    body = client.call(
        "GET", f"/v1/modules/{module}/state", params={"prefix": prefix, "limit": limit}
    )

    def human() -> None:
        for key in body["keys"]:
            console.print(key, highlight=False, markup=False)
        if body["truncated"]:
            console.print("[dim]… more keys; raise --limit or narrow --prefix[/]")

    client.show(body, human)


@state_group.command("get", epilog=EXIT_CODES)
@click.argument("module")
@click.argument("key")
@api_command
def get_command(client: Client, module: str, key: str) -> None:
    """The value of KEY in MODULE's state: text when UTF-8, else base64 (exit 1 if absent)."""
    # By query parameter: any key reads back, even one with a newline or a slash.
    name = urllib.parse.quote(module, safe="")
    body = client.call("GET", f"/v1/modules/{name}/state", params={"key": key})

    def human() -> None:
        if body["text"] is not None:
            click.echo(body["text"])
        else:
            click.echo(f"(binary, {body['size']} bytes, base64) {body['base64']}")

    client.show(body, human)


@state_group.command("dump", epilog=EXIT_CODES)
@click.argument("module")
@api_command
def dump_command(client: Client, module: str) -> None:
    """Every key of MODULE's state with its value, in one call.

    A value that is JSON prints as it is, other text as a quoted string,
    anything not UTF-8 as base64; --json prints the API's answer.
    """
    name = urllib.parse.quote(module, safe="")
    body = client.call("GET", f"/v1/modules/{name}/state-dump")

    def human() -> None:
        for key, value in body["state"].items():
            click.echo(f"{key} = {_shown(value)}")

    client.show(body, human)


def _shown(value: dict[str, Any]) -> str:
    text = value.get("text")
    if text is None:
        return f"(binary, {value['size']} bytes, base64) {value['base64']}"
    try:
        json.loads(text)
    except ValueError:
        return json.dumps(text, ensure_ascii=False)
    return str(text)
