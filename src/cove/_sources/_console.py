"""The ``console`` transport every ``cove run`` engine has: it prints each outbound message."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.text import Text

from ._base import Transport


class ConsoleTransport(Transport):
    def __init__(self, name: str = "console", console: Console | None = None) -> None:
        self.name = name
        self._console = console or Console()

    async def send(
        self, recipient: str, body: str, metadata: Sequence[tuple[str, str]], idempotency_key: str
    ) -> None:
        # A module's recipient and body are its own text, never rich markup.
        line = Text.assemble((f"→ {self.name}:{recipient}", "bold cyan"), " ", body)
        self._console.print(line, highlight=False)
