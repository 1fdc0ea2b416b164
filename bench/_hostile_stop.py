"""The stop rows of bench/hostile.py: how long ``Engine.stop`` takes with guest calls in hand.

Each row starts an engine with the three long-deadline attackers (a WAT loop,
a guest sleeping, a guest reading a body dripped one byte per 50 ms; every
deadline 60 s), sends the row's events, waits a second so the calls are
inside their guests, and times ``stop``. The baseline row stops the same
engine with nothing in hand.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from cove import Custom, Engine, Event, load_config
from tests.helpers.http_server import local_http_server
from tests.helpers.modules import write_engine_config
from tests.helpers.security import long_call_attackers, op_event

GRACE_S = 5.0
ROWS = {
    "nothing in hand (baseline)": (),
    "a loop in hand": ("looper",),
    "a slow fetch in hand": ("drinker",),
    "a sleep in hand": ("sleeper",),
    "all three in hand": ("looper", "drinker", "sleeper"),
}


async def _stop_time(
    tmp: Path, hostile: Path, drip_url: str, authority: str, busy: tuple[str, ...]
) -> float:
    config = load_config(
        write_engine_config(tmp / "engine.toml", long_call_attackers(tmp, hostile, authority))
    )
    engine = Engine(config)
    await engine.start()
    events = {
        "looper": Event(Custom("wat.loop", "", "{}")),
        "sleeper": op_event("sleeper", "sleep"),
        "drinker": op_event("drinker", "fetch", url=drip_url),
    }
    await engine.publish([events[name] for name in busy])
    await asyncio.sleep(1)
    start = time.perf_counter()
    await engine.stop(drain_seconds=GRACE_S)
    return time.perf_counter() - start


async def stop_rows(hostile: Path) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    with local_http_server({"/drip": (200, {}, b"x" * 10_000)}, dripping=frozenset({"/drip"})) as (
        server
    ):
        baseline = 0.0
        for row, busy in ROWS.items():
            with tempfile.TemporaryDirectory(prefix="cove-stop-") as tmp:
                took = await _stop_time(
                    Path(tmp), hostile, server.url("/drip"), server.authority, busy
                )
            baseline = baseline or took
            rows.append((row, f"{took * 1000:.0f}", f"{took / baseline:.1f}x"))
    return rows


HEADER = ("stop with", "stop ms", "vs baseline")
TITLE = f"Engine.stop with guest calls in hand (deadlines 60 s, grace {GRACE_S:g} s)"
