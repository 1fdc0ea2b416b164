"""Run a real engine inside a test and wait for things to happen."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from cove import Custom, Engine, Event, Trajectory, Transport, load_config
from cove._app import App

PROBE_CAPABILITIES = ["events", "http", "messaging", "store"]


def probe_event(op: str, **fields: Any) -> Event:
    return Event(Custom("probe.op", "", json.dumps({"op": op, **fields})))


@asynccontextmanager
async def running_app(
    config_path: Path,
    *,
    transports: Sequence[Transport] = (),
    trajectories: list[Trajectory] | None = None,
) -> AsyncIterator[App]:
    """The engine with what ``cove run`` composes around it (control plane, webhooks)."""
    app = App(
        load_config(config_path),
        transports=transports,
        on_trajectory=trajectories.append if trajectories is not None else None,
    )
    await app.start()
    try:
        yield app
    finally:
        await app.stop(drain_seconds=2)


@asynccontextmanager
async def running_engine(
    config_path: Path,
    *,
    transports: Sequence[Transport] = (),
    trajectories: list[Trajectory] | None = None,
) -> AsyncIterator[Engine]:
    async with running_app(config_path, transports=transports, trajectories=trajectories) as app:
        yield app.engine


async def wait_until(predicate: Callable[[], bool], timeout: float = 20.0, what: str = "") -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")
        await asyncio.sleep(0.01)


def state_json(engine: Engine, module: str, key: str) -> Any:
    raw = engine.store.get(module, key)
    return None if raw is None else json.loads(raw)
