"""``cove health``: the engine's health report; exit 0 only when it is ``ok``."""

from __future__ import annotations

from typing import Any

import click
from rich.text import Text

from ._client import EXIT_CODES, EXIT_REFUSED, Client, api_command, console

_STYLE = {"ok": "green", "degraded": "yellow", "not-ready": "red"}


@click.command("health", epilog=EXIT_CODES)
@api_command
def health_command(client: Client) -> None:
    """Engine status, module states and source health (exit 1 when degraded or not ready)."""
    body = client.call("GET", "/health")

    def human() -> None:
        # Lines are Text: a module's error, a source's or the reason is text, never markup.
        status = body["status"]
        line = Text.assemble(
            "engine: ", (status, _STYLE.get(status, "red")), f" ({body['reason']})"
        )
        console.print(line, highlight=False)
        for name, module in body["modules"].items():
            stale = "? (last known)" if module.get("queue_depth_stale") else ""
            line = Text(f"  module {name}: {module['state']}, queue {module['queue_depth']}{stale}")
            if module["last_error"]:
                line.append(f" {module['last_error']}", "red")
            console.print(line, highlight=False)
        for name, source in body["sources"].items():
            state = ("running", "green") if source["ok"] else (str(source["error"]), "red")
            lag = "".join(  # chain sources: blocks behind per confirmations depth
                f", {s['behind']} blocks behind at depth {s['confirmations']}"
                for s in source.get("streams", [])
                if s["behind"] is not None
            )
            console.print(Text.assemble(f"  source {name}: ", state, lag), highlight=False)
            _chain_detail(source)
        for path, error in body["refused"].items():
            line = Text.assemble("  ", ("refused", "red"), f" {path}: {error}")
            console.print(line, highlight=False)

    client.show(body, human)
    if body["status"] != "ok":
        raise SystemExit(EXIT_REFUSED)


def _chain_detail(source: dict[str, Any]) -> None:
    """A chain source's wait, last failed read and endpoints (Text: a node's error is not markup)."""
    if source.get("waiting"):
        console.print(Text.assemble("    ", ("waiting", "yellow"), f": {source['waiting']}"))
    if source.get("last_error"):
        console.print(
            Text.assemble("    ", ("last read failed", "red"), f": {source['last_error']}")
        )
    for index, endpoint in enumerate(source.get("endpoints", [])):
        role = "primary" if index == 0 else f"fallback {index}"
        line = (
            f"    {role} {endpoint['endpoint']}: head {endpoint['head']}, "
            f"{endpoint['requests']} requests, {endpoint['errors']} errors, "
            f"{endpoint['fallback_hits']} fallback hits"
        )
        console.print(Text(line), highlight=False)
