"""A private asyncio loop on its own thread, for an async client behind the sync store seam.

Design note: the store is called synchronously from the engine's loop and from
module worker threads. nats-py is async and its connection belongs to the loop
it was made on, so it gets a loop of its own that nothing else runs on: every
call is handed over with ``run_coroutine_threadsafe`` and waited for with a
deadline. The engine's loop is blocked for the round trip, as it is for a
PostgreSQL statement, and a caller never runs the client on the wrong loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class LoopThread:
    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._pending: set[concurrent.futures.Future[Any]] = set()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def call(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        """Run ``coro`` on the thread's loop; ``TimeoutError`` (cancelled there) past ``timeout``,
        ``ConnectionError`` when ``cancel_all`` ended it."""
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        self._pending.add(future)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(f"no answer within {timeout:g}s") from None
        except concurrent.futures.CancelledError:
            raise ConnectionError("the connection dropped during the call") from None
        finally:
            self._pending.discard(future)

    def cancel_all(self) -> None:
        """End every call under way (its connection dropped: no answer is coming), so no
        caller waits out its deadline; the engine's loop is one of them."""
        for future in list(self._pending):
            future.cancel()

    def close(self) -> None:
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        if not self.loop.is_running():
            self.loop.close()
