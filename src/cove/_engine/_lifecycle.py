"""The restart backoff schedule (the states themselves are ``ModuleState`` in ``_types``)."""

from __future__ import annotations

import asyncio
import random

from .._types import ModuleState


def backoff_ms(
    failures: int, initial_ms: int, max_ms: int, rng: random.Random | None = None
) -> int:
    """Delay before retry number ``failures`` (1-based): doubling, capped, ±20% jitter."""
    base = min(max_ms, initial_ms * 2 ** max(0, failures - 1))
    jitter = (rng or random).uniform(0.8, 1.2)
    return max(1, min(max_ms, int(base * jitter)))


async def wait_event(event: asyncio.Event, seconds: float | None) -> bool:
    """Wait for ``event`` up to ``seconds``; True if it was set.

    ``asyncio.timeout`` rather than ``wait_for``: on 3.11, ``wait_for`` can
    swallow a cancellation that races with the inner wait, which leaves a
    cancelled loop running forever at shutdown.
    """
    try:
        async with asyncio.timeout(seconds):
            await event.wait()
    except TimeoutError:
        return False
    return True


__all__ = ["ModuleState", "backoff_ms", "wait_event"]
