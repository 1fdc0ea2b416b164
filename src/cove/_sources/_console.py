"""A transport that prints outbound messages: what the demo shows."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console

from ._base import Transport


class ConsoleTransport(Transport):
    def __init__(self, name: str = "console", console: Console | None = None) -> None:
        self.name = name
        self._console = console or Console()

    async def send(
        self, recipient: str, body: str, metadata: Sequence[tuple[str, str]], idempotency_key: str
    ) -> None:
        self._console.print(f"[bold cyan]→ {self.name}:{recipient}[/] {body}", highlight=False)
