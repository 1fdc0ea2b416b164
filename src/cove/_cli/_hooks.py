"""``cove hooks``: the hook chains of a running engine, in the order they run."""

from __future__ import annotations

import click
from rich.table import Table

from ._client import EXIT_CODES, Client, api_command, console


@click.command("hooks", epilog=EXIT_CODES)
@api_command
def hooks_command(client: Client) -> None:
    """Each hook point's modules in run order (priority, then name), with the point's
    failure policy and how often its hooks failed or vetoed (see docs/hooks.md)."""
    body = client.call("GET", "/v1/hooks")

    def human() -> None:
        table = Table(
            "point", "policy", "module", "priority", "timeout", box=None, header_style="bold"
        )
        for point, chain in body["points"].items():
            for index, hook in enumerate(chain["hooks"]):
                first = index == 0
                table.add_row(
                    point if first else "",
                    chain["policy"] if first else "",
                    hook["module"],
                    str(hook["priority"]),
                    f"{hook['timeout_ms']} ms",
                )
        console.print(table if body["points"] else "[dim]no hooks declared[/]")
        for label in ("failed", "vetoed"):
            if body[label]:
                counts = ", ".join(f"{p} {n}" for p, n in sorted(body[label].items()))
                console.print(f"{label}: {counts}")
        bridge = body["observer_bridge"]
        if bridge["dropped"]:
            console.print(f"observer bridge: {bridge['dropped']} events dropped")

    client.show(body, human)
