"""``cove approvals list|approve|deny``: actions a running engine holds for the operator."""

from __future__ import annotations

from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from ._client import EXIT_CODES, Client, api_command, console
from ._outbox import _ago


@click.group("approvals", epilog=EXIT_CODES)
def approvals_group() -> None:
    """Actions held for approval ([budgets.<module>] hold_new_recipients and
    hold_value_above_wei); needs the control token."""


@approvals_group.command("list", epilog=EXIT_CODES)
@click.option("-m", "--module", help="Only this module's held actions.")
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
@api_command
def list_command(client: Client, module: str | None, limit: int) -> None:
    """Held actions, oldest first: id, module, transport, recipient, why, when, body."""
    params: dict[str, Any] = {"limit": limit}
    if module is not None:
        params["module"] = module
    body = client.call("GET", "/v1/approvals", params=params)
    client.show(body, lambda: _print(body["approvals"]))


def _print(held: list[dict[str, Any]]) -> None:
    if not held:
        console.print("[dim]nothing waits for approval[/]")
        return
    table = Table("id", "module", "to", "why", "held", "body", box=None, header_style="bold")
    for h in held:
        table.add_row(
            str(h["id"]),
            h["module"],
            escape(f"{h['transport']}:{h['recipient']}"),
            escape(h["reason"]),
            _ago(h["held_ms"]),
            escape(h["body"][:60]),
        )
    console.print(table)


def _decision(verb: str, past: str, help_text: str) -> click.Command:
    @click.argument("held_id", metavar="ID", type=int)
    @api_command
    def command(client: Client, held_id: int) -> None:
        body = client.call("POST", f"/v1/approvals/{held_id}/{verb}")
        client.show(body, lambda: console.print(f"{past} held action {held_id}"))

    command.__doc__ = help_text
    return click.command(verb, epilog=EXIT_CODES)(command)


approvals_group.add_command(
    _decision(
        "approve",
        "approved",
        "Send held action ID through the outbox with its original idempotency key; the "
        "module gets a cove.approval event (exit 1 if there is no such held action).",
    )
)
approvals_group.add_command(
    _decision(
        "deny",
        "denied",
        "Drop held action ID unsent; the module gets a cove.approval event with approved "
        "false (exit 1 if there is no such held action).",
    )
)
