"""``cove outbox list|retry|drop``: the dead letters of a running engine (needs the token)."""

from __future__ import annotations

import time
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from ._client import EXIT_CODES, Client, api_command, console, fail

# The API takes at most this many ids per request.
_PAGE = 1000


@click.group("outbox", epilog=EXIT_CODES)
def outbox_group() -> None:
    """Dead letters: sends the outbox gave up on, to retry or drop (needs the control token)."""


def _ago(ms: int) -> str:
    seconds = max(0, time.time() - ms / 1000)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit} ago"
    return f"{seconds:.0f}s ago"


def print_dead(dead: list[dict[str, Any]]) -> None:
    if not dead:
        console.print("[dim]no dead letters[/]")
        return
    table = Table("id", "module", "transport", "attempts", "died", "last error", box=None, header_style="bold")  # fmt: skip
    for d in dead:
        table.add_row(
            str(d["id"]), d["module"], d["transport"] or d["kind"], str(d["attempts"]),
            _ago(d["dead_ms"]), escape(d["last_error"]),
        )  # fmt: skip
    console.print(table)


@outbox_group.command("list", epilog=EXIT_CODES)
@click.option("-m", "--module", help="Only this module's dead letters.")
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
@api_command
def list_command(client: Client, module: str | None, limit: int) -> None:
    """Dead letters, oldest first: module, transport, attempts, when it died, last error."""
    params: dict[str, Any] = {"limit": limit}
    if module is not None:
        params["module"] = module
    body = client.call("GET", "/v1/outbox/dead", params=params)
    client.show(body, lambda: print_dead(body["dead_letters"]))


def _selected(client: Client, ids: tuple[int, ...], every: bool, module: str | None) -> list[int]:
    if bool(ids) == every:
        raise click.UsageError("give dead-letter IDs or --all, not both and not neither")
    if module is not None and not every:
        raise click.UsageError("--module goes with --all")
    if ids:
        return list(ids)
    params: dict[str, Any] = {"limit": _PAGE}
    if module is not None:
        params["module"] = module
    found = client.call("GET", "/v1/outbox/dead", params=params)["dead_letters"]
    if not found:
        fail(1, "no dead letters" + (f" of module {module!r}" if module else ""))
    return [d["id"] for d in found]


def _ids_command(verb: str, past: str, help_text: str) -> click.Command:
    @click.argument("ids", nargs=-1, type=int)
    @click.option(
        "--all",
        "every",
        is_flag=True,
        help=f"{verb.capitalize()} every dead letter (up to {_PAGE}).",
    )
    @click.option("-m", "--module", help="With --all: only this module's.")
    @api_command
    def command(client: Client, ids: tuple[int, ...], every: bool, module: str | None) -> None:
        selected = _selected(client, ids, every, module)
        body = client.call("POST", f"/v1/outbox/dead/{verb}", json={"ids": selected})
        done = body[past]

        def human() -> None:
            console.print(f"{past} {len(done)} dead letter(s): {done}")
            if body["missing"]:
                console.print(f"[yellow]not found:[/] {body['missing']}")

        client.show(body, human)

    command.__doc__ = help_text
    return click.command(verb, epilog=EXIT_CODES)(command)


outbox_group.add_command(
    _ids_command(
        "retry",
        "retried",
        "Queue dead letters IDS (or --all) again: no attempts, the same idempotency key "
        "(exit 1 if none was found).",
    )
)
outbox_group.add_command(
    _ids_command(
        "drop",
        "dropped",
        "Delete dead letters IDS (or --all) for good (exit 1 if none was found).",
    )
)
