"""What operator budgets cost on the full path, against the same engine without them, in one run.

Rows (trivial native plugin sending one message per event, batched commit; each a
median of rounds):
  * no budgets: the baseline;
  * messages_per_hour: every send charged in the gate, usage written with each commit;
  * every budget set: the same, with the five budgets the plugin does not spend also on.

Run: .venv/bin/python bench/budgets_overhead.py [--events N] [--rounds R] [--all-cores]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from _common import engine_bench_args, print_table, trivial_module

from cove import Custom, Engine, Event, Transport
from cove._config import EngineConfig

LOTS = 10**12
EVERY_BUDGET = {
    "messages_per_hour": LOTS,
    "http_requests_per_day": LOTS,
    "chain_requests_per_day": LOTS,
    "transactions_per_day": LOTS,
    "value_wei_per_day": LOTS,
    "fuel_per_hour": LOTS,
}


class CountingTransport(Transport):
    def __init__(self) -> None:
        self.name = "timing"
        self.sent = 0

    async def send(
        self, recipient: str, body: str, metadata: Sequence[tuple[str, str]], idempotency_key: str
    ) -> None:
        self.sent += 1


async def _run(tmp: Path, module: Path, n: int, budgets: dict[str, Any]) -> float:
    """Events per second from the first publish until every message is delivered."""
    with tempfile.TemporaryDirectory(dir=tmp) as data:
        config = EngineConfig.model_validate(
            {
                "data_dir": data,
                "modules": [str(module)],
                "commit": {"mode": "batched", "max_delay": "10ms", "max_batch": 5000},
                "trajectories": {"enabled": False},
                "budgets": {"trivial": budgets} if budgets else {},
                "root": str(tmp),
            }
        )
        transport = CountingTransport()
        engine = Engine(config, transports=[transport])
        await engine.start()
        events = [Event(Custom("bench.tick", "", "{}")) for _ in range(n)]
        start = time.perf_counter()
        for i in range(0, n, 1000):
            await engine.publish(events[i : i + 1000])
        while transport.sent < n:
            await asyncio.sleep(0.002)
        elapsed = time.perf_counter() - start
        used = engine.status()[0].budgets
        await engine.stop()
    if budgets:
        assert used["messages"]["used"] == n, used  # every send was charged
    return n / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = engine_bench_args(parser)
    n = args.events
    cases: list[tuple[str, dict[str, Any]]] = [
        ("no budgets", {}),
        ("messages_per_hour", {"messages_per_hour": LOTS}),
        ("every budget set", EVERY_BUDGET),
    ]
    rates: dict[str, list[float]] = {label: [] for label, _ in cases}
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        module = trivial_module(tmp, "trivial_send", send=True)
        for _ in range(args.rounds):  # interleaved, so a noisy neighbour hits every case
            for label, budgets in cases:
                rates[label].append(asyncio.run(_run(tmp, module, n, budgets)))
    median = {label: statistics.median(r) for label, r in rates.items()}
    base = median["no budgets"]
    rows = [(label, f"{median[label]:,.0f}", f"{median[label] / base:.2f}") for label, _ in cases]
    print_table(
        f"Budgets on the full path (trivial native plugin sending one message per event, "
        f"batched, {n:,} events, median of {args.rounds})",
        rows,
        ("engine", "events/s", "vs no budgets"),
    )


if __name__ == "__main__":
    main()
