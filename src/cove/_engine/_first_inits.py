"""Engine start waits for the modules' first init, but not without end."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from ._lifecycle import ModuleState
from ._runner import ModuleRunner

_STARTING = (ModuleState.LOADING, ModuleState.INITIALIZING)


async def first_inits(
    runners: Mapping[str, ModuleRunner], settled: asyncio.Event, log: Any, wait_s: float
) -> None:
    """Return once every loaded module's first init settled (running, backing off or
    dead): only then are a wasm module's tools known, so an agent that lists tools once
    the engine is ready sees them. ``settled`` is set on every state change. A wasm init
    is bounded by its module's limits; a native plugin's is not, so this wait is
    (``wait_s``; the rest must not hang on it), and it logs whom it stopped waiting for."""
    waiting = list(runners.values())
    try:
        async with asyncio.timeout(wait_s):
            # One runner at a time, in load order (roughly the order they settle): each
            # state change looks at one runner, not all of them again.
            for runner in waiting:
                while True:
                    settled.clear()
                    if runner.state not in _STARTING:
                        break
                    await settled.wait()
    except TimeoutError:
        log.warning(
            "starting without waiting for init", modules=_initializing(runners), waited_s=wait_s
        )


def _initializing(runners: Mapping[str, ModuleRunner]) -> list[str]:
    return [name for name, r in runners.items() if r.state in _STARTING]
