"""The module file view: what a read costs next to the routes it mirrors, and what watching
files (MCP resource subscriptions) costs the engine's event throughput.

Table 1, one engine with the trivial plugin (every event writes a state key),
after 2,000 events (so inbox, outbox and trajectories have something in
them): the median time of one GET over loopback, each file-view read next
to the existing route it mirrors in the same run (ratio = view / baseline).

Table 2: events per second the same engine handles (``--events`` published
in batches of 100, until the last one is committed) with nothing watched,
and with 100 state files watched by the resource watcher at its interval
of 0.5 s (reads of every watched file, a digest each); three rounds of
each, alternated, medians shown. Ratio = watched / unwatched throughput.
On a shared machine this ratio moves with the other load; table 3 is the
watcher's own CPU time per poll (thread time, which that load disturbs far
less), and the share of one core it takes at two polls a second.

Run: .venv/bin/python bench/file_view.py [--events N] [--all-cores]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from _common import engine_bench_args, print_table, trivial_module

from cove import Custom, Event
from cove._app import App
from cove._config import load_config
from cove._control._fs_tree import ModuleFiles
from cove._control._mcp_resources import McpResources

TOKEN_ENV = "COVE_BENCH_FILE_VIEW_TOKEN"
ROUNDS = 200


def _config(tmp: Path) -> Path:
    module = trivial_module(tmp, "trivial", send=True)
    path = tmp / "engine.toml"
    path.write_text(
        f'data_dir = "{tmp / "data"}"\nmodules = ["{module}"]\n'
        f'[control]\nhost = "127.0.0.1"\nport = 0\ntoken_env = "{TOKEN_ENV}"\n'
        '[commit]\nmode = "batched"\n'
    )
    return path


async def _publish(app: App, count: int, tag: str) -> float:
    """Events per second: ``count`` events in batches of 100 until the last is committed."""
    engine = app.engine
    last = ""
    start = time.perf_counter()
    for first in range(0, count, 100):
        batch = [Event(Custom("bench.e", "", f"{tag}-{n}")) for n in range(first, first + 100)]
        await engine.publish(batch)
        last = batch[-1].id
    while engine.store.get("trivial", "last") != f'"{last}"'.encode():
        await asyncio.sleep(0.002)
    return count / (time.perf_counter() - start)


async def _median_us(client: httpx.AsyncClient, path: str, params: dict[str, str] | None) -> float:
    for _ in range(20):
        (await client.get(path, params=params)).raise_for_status()
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        (await client.get(path, params=params)).raise_for_status()
        samples.append((time.perf_counter() - start) * 1e6)
    return statistics.median(samples)


async def _reads(app: App) -> list[tuple[str, ...]]:
    assert app.control is not None and app.control.api is not None
    headers = {"Authorization": f"Bearer {os.environ[TOKEN_ENV]}"}
    pairs = [
        ("status", "/v1/fs/trivial/status", None, "/v1/modules/trivial", None),
        (
            "one state value",
            "/v1/fs/trivial/state/last",
            None,
            "/v1/modules/trivial/state",
            {"key": "last"},
        ),
        (
            "trajectories/ listing",
            "/v1/fs/trivial/trajectories",
            None,
            "/v1/trajectories",
            {"module": "trivial", "limit": "50"},
        ),
        ("inbox (50 events)", "/v1/fs/trivial/inbox", None, "/v1/trajectories", {"limit": "50"}),
        ("outbox (50 effects)", "/v1/fs/trivial/outbox", None, "/v1/outbox/dead", None),
    ]
    rows = []
    async with httpx.AsyncClient(base_url=app.control.api.url, headers=headers) as client:
        for what, view, view_params, base, base_params in pairs:
            viewed = await _median_us(client, view, view_params)
            baseline = await _median_us(client, base, base_params)
            shown = base + (
                "?" + "&".join(f"{k}={v}" for k, v in base_params.items()) if base_params else ""
            )
            rows.append(
                (what, f"{viewed:,.0f}", shown, f"{baseline:,.0f}", f"{viewed / baseline:.2f}")
            )
    return rows


async def main(events: int) -> None:
    os.environ.setdefault(TOKEN_ENV, "bench-token-0")
    with tempfile.TemporaryDirectory() as tmp_dir:
        app = App(load_config(_config(Path(tmp_dir))))
        await app.start()
        try:
            await _publish(app, 2_000, "warm")
            rows = await _reads(app)
            await _publish(app, 100, "keys")
            store = app.engine.store
            for n in range(100):  # the 100 keys to watch
                store.commit("trivial", store.cursor("trivial"), {f"k{n}": b"1"}, [])

            async def publish(event: object) -> None:
                return None

            resources = McpResources(ModuleFiles(app.engine), publish)  # type: ignore[arg-type]
            plain: list[float] = []
            watched: list[float] = []
            for round_ in range(3):  # alternated, so the machine's other load hits both alike
                plain.append(await _publish(app, events, f"plain{round_}"))
                release = await resources.listen([f"cove://trivial/state/k{n}" for n in range(100)])
                watched.append(await _publish(app, events, f"watched{round_}"))
                release()
            await resources.aclose()
            uris = [f"cove://trivial/state/k{n}" for n in range(100)]
            poll_ms = []
            for _ in range(20):  # one poll's reads, in CPU time of this thread (load-proof)
                start = time.thread_time()
                resources._digest_all(uris)
                poll_ms.append((time.thread_time() - start) * 1000)
        finally:
            await app.stop()
    print_table(
        "Reading one file of the view next to the route it mirrors (median µs per GET, loopback)",
        rows,
        ("view", "µs", "baseline route", "µs", "ratio"),
    )
    print_table(
        f"Event throughput while files are watched ({events:,} events a round, median of 3)",
        [
            ("nothing watched", f"{statistics.median(plain):,.0f}", "1.00"),
            (
                "100 state files watched (0.5 s polls)",
                f"{statistics.median(watched):,.0f}",
                f"{statistics.median(watched) / statistics.median(plain):.2f}",
            ),
        ],
        ("run", "events/s", "ratio"),
    )
    poll = statistics.median(poll_ms)
    print_table(
        "The watcher's own cost (CPU time of one poll of 100 watched state files)",
        [("one poll", f"{poll:.2f}", f"{poll / 500 * 100:.2f} %")],
        ("", "ms CPU", "of one core at 2 polls/s"),
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    args = engine_bench_args(parser)
    asyncio.run(main(args.events))
