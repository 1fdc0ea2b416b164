"""What hooks cost on the full path, against an engine without hooks, all in this one run.

Rows (trivial native plugin, batched commit; each a median of rounds):
  * no hooks: the baseline;
  * an idle module (no hooks, no subscriptions): what any second module costs,
    since each hook below lives in a module of its own;
  * an observer hook (every trajectory crosses the observer bridge);
  * a before-commit hook (called once per commit batch, on the worker thread);
  * messages: the module also sends a message per event, delivered through
    a transport, without and with a before-message hook (one hook call per
    message, on the outbox).

The hook modules are native plugins whose ``on_hook`` passes.

Run: .venv/bin/python bench/hooks_overhead.py [--events N] [--rounds R] [--all-cores]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from _common import engine_bench_args, print_table, trivial_module

from cove import Custom, Engine, Event, Transport
from cove._config import EngineConfig

PASS_PLUGIN = """
from cove import Plugin


class Pass(Plugin):
    def on_hook(self, point, payload):
        return None
"""


class CountingTransport(Transport):
    def __init__(self) -> None:
        self.name = "timing"
        self.sent = 0

    async def send(
        self, recipient: str, body: str, metadata: Sequence[tuple[str, str]], idempotency_key: str
    ) -> None:
        self.sent += 1


def _hook_module(tmp: Path, point: str | None) -> Path:
    """A module whose hook at ``point`` passes; with None, an idle module that hooks nothing."""
    name = "hook_" + (point or "none").replace("-", "_")
    directory = tmp / name
    directory.mkdir()
    hook = f'[[hook]]\npoint = "{point}"\n' if point else ""
    (directory / "cove.toml").write_text(
        f'[module]\nname = "{name}"\nkind = "python"\nentry = "hook:Pass"\n'
        f'[capabilities]\nrequired = ["hooks"]\n{hook}'
    )
    (directory / "hook.py").write_text(PASS_PLUGIN)
    return directory


async def _run(tmp: Path, modules: list[Path], n: int, send: bool) -> float:
    """Events per second from the first publish until every event (and message) is done."""
    with tempfile.TemporaryDirectory(dir=tmp) as data:
        config = EngineConfig.model_validate(
            {
                "data_dir": data,
                "modules": [str(m) for m in modules],
                "commit": {"mode": "batched", "max_delay": "10ms", "max_batch": 5000},
                "trajectories": {"enabled": False},
                "root": str(tmp),
            }
        )
        transport = CountingTransport()
        engine = Engine(config, transports=[transport])
        await engine.start()
        runner = engine.runners["trivial"]
        events = [Event(Custom("bench.tick", "", "{}")) for _ in range(n)]
        start = time.perf_counter()
        for i in range(0, n, 1000):
            await engine.publish(events[i : i + 1000])
        while runner.stats.handled < n or (send and transport.sent < n):
            await asyncio.sleep(0.002)
        elapsed = time.perf_counter() - start
        await engine.stop()
    return n / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = engine_bench_args(parser)
    n = args.events
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        trivial = trivial_module(tmp, "trivial")
        sending = trivial_module(tmp, "trivial_send", send=True)
        hooks = {
            p: _hook_module(tmp, p) for p in (None, "observer", "before-commit", "before-message")
        }
        cases = [
            ("no hooks", [trivial], False),
            ("+ an idle module", [trivial, hooks[None]], False),
            ("+ observer hook", [trivial, hooks["observer"]], False),
            ("+ before-commit hook", [trivial, hooks["before-commit"]], False),
            ("messages, no hooks", [sending], True),
            ("messages + before-message hook", [sending, hooks["before-message"]], True),
        ]
        rates: dict[str, list[float]] = {label: [] for label, _, _ in cases}
        for _ in range(args.rounds):  # interleaved, so a noisy neighbour hits every case
            for label, modules, send in cases:
                rates[label].append(asyncio.run(_run(tmp, modules, n, send)))
    median = {label: statistics.median(r) for label, r in rates.items()}
    rows: list[tuple[str, ...]] = []
    for label, _, send in cases:
        base = median["messages, no hooks" if send else "no hooks"]
        rows.append((label, f"{median[label]:,.0f}", f"{median[label] / base:.2f}"))
    print_table(
        f"Hooks on the full path (trivial native plugin, batched, {n:,} events, "
        f"median of {args.rounds})",
        rows,
        ("engine", "events/s", "vs its baseline"),
    )


if __name__ == "__main__":
    main()
