"""A demo source: sensor readings and chat messages, so the examples have work."""

from __future__ import annotations

import asyncio
import itertools
import json
import random

from .._events import Custom, Event, Message
from ._base import Publish, Source

_LINES = ("hello there", "what is the price of a widget?", "help", "nice weather", "HELLO again")


class DemoSource(Source):
    name = "demo"

    def __init__(self, interval: float = 0.5, seed: int | None = None) -> None:
        self._interval = interval
        self._rng = random.Random(seed)

    async def run(self, publish: Publish) -> None:
        for n in itertools.count(1):
            events = [
                Event(
                    Custom(
                        "sensor.reading",
                        "demo",
                        json.dumps({"value": round(self._rng.uniform(0, 10), 2)}),
                    )
                )
            ]
            if n % 3 == 0:
                line = self._rng.choice(_LINES)
                events.append(Event(Message("console", f"user{n % 4}", "auto-reply", line)))
            await publish(events)
            await asyncio.sleep(self._interval)
