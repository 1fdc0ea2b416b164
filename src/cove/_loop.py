"""The event loop ``cove run`` serves the engine on: uvloop where it is installed.

Every listener's per-request work is mostly event-loop plumbing (reading
the socket, scheduling the app task, writing the answer); uvloop does it in
C. Measured with bench/webhook_ingress.py, the engine spent ~15% less CPU
per signed webhook (202 → 180 µs and 243 → 202 µs in alternating runs).
The engine itself needs nothing uvloop-specific, so where uvloop is not
installed (it is not pinned on Windows) asyncio's own loop runs it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)`` on uvloop where it is installed."""
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        return runner.run(main)
