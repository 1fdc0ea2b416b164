"""One soak run: the engine process, the load and trouble it drives, and the verdict."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import signal
import statistics
import sys
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from _soak._sink import Sink, free_port
from cove._engine._journal_feed import RECENT_EVENTS
from tests.helpers.tcp_proxy import TcpProxy

TOKEN = "soak-token-6b1f0e"
RSS_GROWTH = 0.15
RSS_SLACK = 16 * 2**20
FD_SLACK = 8
DISK_BOUND = 64 * 2**20
MODULES = ("soak-native", "soak-wasm")

ENGINE_TOML = """\
data_dir = "data"
modules = ["soak_native", "soak_wasm"]
log_format = "json"

[webhook]
port = {webhook}
token_env = "COVE_SOAK_TOKEN"

[control]
port = {control}
token_env = "COVE_SOAK_TOKEN"

[[transports]]
name = "sink"
kind = "webhook"
url = "{sink}"

[[chains]]
chain_id = 31337
http = "{rpc}"
poll_interval = "250ms"
timeout = "2s"

[outbox]
retry_initial = "100ms"
retry_max = "2s"

[retention]
journal_max_age = "30s"
journal_max_size = "8MiB"
delivered_max_age = "30s"
interval = "5s"

[trajectories]
max_age = "2m"
max_size = "8MiB"
"""


@dataclass
class Life:
    """One engine process: its samples (seconds since it started, RSS bytes, fds, journal
    entries it has seen since it started)."""

    pid: int
    started: float
    samples: list[tuple[float, int, int, int]] = field(default_factory=list)
    head_at_start: float | None = None
    head: float = 0
    counters: dict[str, float] = field(default_factory=dict)


@dataclass
class Soak:
    args: argparse.Namespace
    root: Path
    sink: Sink
    proxy: TcpProxy
    head: Callable[[], int] = lambda: 0
    """anvil's head block number."""
    webhook_url: str = ""
    control_url: str = ""
    start_retries: int = 0
    process: asyncio.subprocess.Process | None = None
    background: set[asyncio.Task[None]] = field(default_factory=set)
    lives: list[Life] = field(default_factory=list)
    acked: set[str] = field(default_factory=set)
    sent: int = 0
    duplicates_sent: int = 0
    refused: int = 0
    restarts: int = 0
    outages: int = 0
    sink_outages: int = 0
    failures_seen: float = 0
    """The most ``cove_outbox_delivery_failures_total`` any engine process reported."""
    bursts: int = 0
    disk_max: int = 0
    metric_problems: list[str] = field(default_factory=list)
    next_n: int = 0
    final: dict[str, int] = field(default_factory=dict)
    """State read back at the end: each module's webhooks, the native one's blocks and ticks."""

    # the engine ------------------------------------------------------------------
    def configure(self) -> None:
        """Fresh free ports for the webhook server and the control plane, in engine.toml."""
        webhook, control = free_port(), free_port()
        rpc = f"http://127.0.0.1:{self.proxy.port}"
        config = ENGINE_TOML.format(webhook=webhook, control=control, sink=self.sink.url, rpc=rpc)
        (self.root / "engine.toml").write_text(config)
        self.webhook_url = f"http://127.0.0.1:{webhook}/webhooks/soak"
        self.control_url = f"http://127.0.0.1:{control}"

    async def start_engine(self) -> None:
        """Start `cove run`; when it exits at once (another process took a port while it was
        down: the machine is shared), pick other ports and start it again, up to 3 times."""
        for _ in range(3):
            if await self._start_once():
                return
            self.start_retries += 1
            tail = (self.root / "engine.log").read_text(errors="replace")[-2000:]
            print(
                f"the engine exited at start; trying other ports. Its log:\n{tail}", file=sys.stderr
            )
            self.configure()
        raise RuntimeError("the engine exited at start three times")

    async def _start_once(self) -> bool:
        env = {**os.environ, "COVE_SOAK_TOKEN": TOKEN}
        with (self.root / "engine.log").open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "cove", "run", "--config", "engine.toml", "--no-trace",
                cwd=self.root, env=env, stdout=log, stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip
        async with httpx.AsyncClient(timeout=2) as client:
            # The first start compiles the wasm module: ~25 s on a loaded 2-core machine.
            # Live answers while modules still compile (and the compile's memory is still
            # in use): a life, and its warm-up, starts when the engine is ready.
            for _ in range(1800):
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get(f"{self.control_url}/health/ready")).status_code == 200:
                        self.lives.append(Life(self.process.pid, time.monotonic()))
                        return True
                if self.process.returncode is not None:
                    return False
                await asyncio.sleep(0.1)
        raise RuntimeError("the engine was not ready (/health/ready) within 180 s")

    async def stop_engine(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(60):
            await self.process.wait()

    # load --------------------------------------------------------------------------
    async def deliver(self, client: httpx.AsyncClient, delivery: str, n: int) -> None:
        """POST until the engine acknowledges it (it may be restarting): at least once."""
        headers = {"Authorization": f"Bearer {TOKEN}", "X-Cove-Delivery": delivery}
        body = json.dumps({"n": n})
        while True:
            try:
                response = await client.post(self.webhook_url, content=body, headers=headers)
                if response.status_code == 202:
                    self.acked.add(delivery)
                    return
            except httpx.TransportError:
                pass
            self.refused += 1
            await asyncio.sleep(0.05)

    def new_delivery(self) -> tuple[str, int]:
        n = self.next_n
        self.next_n += 1
        return f"d-{n}", n

    async def send_steady(self, client: httpx.AsyncClient, stop: asyncio.Event) -> None:
        interval = 1 / self.args.rate
        tasks: set[asyncio.Task[None]] = set()
        recent: list[tuple[str, int]] = []
        while not stop.is_set():
            delivery, n = self.new_delivery()
            if recent and random.random() < 0.05:  # a sender's redelivery: same id, same body
                delivery, n = random.choice(recent)
                self.duplicates_sent += 1
            else:
                recent = [*recent[-50:], (delivery, n)]
            self.sent += 1
            task = asyncio.ensure_future(self.deliver(client, delivery, n))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            await asyncio.sleep(interval)
        await asyncio.gather(*tasks)

    async def burst(self, client: httpx.AsyncClient) -> None:
        self.bursts += 1
        deliveries = [self.new_delivery() for _ in range(self.args.burst)]
        self.sent += len(deliveries)
        gate = asyncio.Semaphore(32)

        async def one(delivery: str, n: int) -> None:
            async with gate:
                await self.deliver(client, delivery, n)

        await asyncio.gather(*(one(d, n) for d, n in deliveries))

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    async def outage(self) -> None:
        """anvil's RPC goes away: the proxy in front of it refuses and drops connections."""
        self.outages += 1
        await self.proxy.cut()
        await asyncio.sleep(self.args.outage_for)
        await self.proxy.listen()

    async def sink_outage(self) -> None:
        """The message receiver answers 503: the outbox retries (and counts and logs it)."""
        self.sink_outages += 1
        self.sink.down = True
        await asyncio.sleep(self.args.sink_outage_for)
        self.sink.down = False

    # sampling ------------------------------------------------------------------------
    async def sample(self, client: httpx.AsyncClient) -> None:
        life = self.lives[-1]
        with contextlib.suppress(OSError, ValueError):
            rss = _rss(life.pid)
            fds = len(os.listdir(f"/proc/{life.pid}/fd"))
            start = life.head if life.head_at_start is None else life.head_at_start
            seen = int(life.head - start)
            life.samples.append((time.monotonic() - life.started, rss, fds, seen))
        self.disk_max = max(self.disk_max, _disk(self.root / "data"))
        with contextlib.suppress(httpx.TransportError):
            response = await client.get(f"{self.control_url}/metrics")
            if response.status_code == 200:
                self.check_metrics(life, response.text)

    def check_metrics(self, life: Life, text: str) -> None:
        modules = 0.0
        for line in text.splitlines():
            if not line or line.startswith("#"):
                continue
            name, _, raw = line.rpartition(" ")
            value = float(raw)
            if not math.isfinite(value) or value < 0:
                self.metric_problems.append(f"{name} = {value}")
            if name.startswith("cove_modules{"):
                modules += value
            if name == "cove_journal_head":
                life.head = value
                if life.head_at_start is None:
                    life.head_at_start = value
            if name.startswith("cove_outbox_delivery_failures_total"):
                self.failures_seen = max(self.failures_seen, value)
            if name.split("{")[0].endswith("_total"):
                if value < life.counters.get(name, 0):
                    self.metric_problems.append(
                        f"{name} went back: {life.counters[name]} -> {value}"
                    )
                life.counters[name] = value
        if modules != len(MODULES):
            self.metric_problems.append(f"cove_modules sums to {modules}, not {len(MODULES)}")

    # the run ---------------------------------------------------------------------------
    async def run(self) -> None:
        await self.start_engine()
        stop = asyncio.Event()
        # Few idle connections kept: the engine's fd floor is then its own, not the pool's.
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=8, keepalive_expiry=1)
        async with httpx.AsyncClient(timeout=10, limits=limits) as client:
            steady = asyncio.ensure_future(self.send_steady(client, stop))
            self.background.add(steady)
            try:
                await self.trouble(client)
            except BaseException:
                for task in self.background:  # no sender outlives its client
                    task.cancel()
                raise
            stop.set()
            await asyncio.gather(*self.background)  # the sender, the last burst and outage
            await self.settle(client)
            await self.sample(client)
            for module in MODULES:
                self.final[module] = await self.state(client, module, "webhooks")
            for key in ("blocks", "last_block", "block_repeats", "ticks"):
                self.final[key] = await self.state(client, "soak-native", key)
            self.final["head"] = self.head()
        await self.stop_engine()

    async def trouble(self, client: httpx.AsyncClient) -> None:
        """Sample every few seconds; bursts, outages and restarts on their schedules."""
        args = self.args
        began = time.monotonic()
        marks = {"restart": began, "outage": began, "burst": began, "sink": began}
        while (now := time.monotonic()) - began < args.duration:
            await self.sample(client)
            if now - marks["burst"] >= args.burst_every:
                marks["burst"] = now
                self.spawn(self.burst(client))
            if now - marks["outage"] >= args.outage_every:
                marks["outage"] = now
                self.spawn(self.outage())
            if now - marks["sink"] >= args.sink_outage_every:
                marks["sink"] = now
                self.spawn(self.sink_outage())
            if now - marks["restart"] >= args.restart_every:
                marks["restart"] = now
                self.restarts += 1
                await self.stop_engine()
                await self.start_engine()
            await asyncio.sleep(args.sample_every)

    async def settle(self, client: httpx.AsyncClient) -> None:
        """Wait (up to a minute) until both modules have counted every acknowledged delivery,
        the sink has every message and the chain source has caught up with anvil."""
        for _ in range(600):
            counts = [await self.state(client, m, "webhooks") for m in MODULES]
            caught_up = await self.state(client, "soak-native", "last_block") >= self.head() - 5
            delivered = len(set(self.sink.keys)) >= len(self.acked)
            if all(c == len(self.acked) for c in counts) and delivered and caught_up:
                return
            await asyncio.sleep(0.1)

    async def state(self, client: httpx.AsyncClient, module: str, key: str) -> int:
        response = await client.get(
            f"{self.control_url}/v1/modules/{module}/state/{key}",
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        return int(json.loads(response.json()["text"])) if response.status_code == 200 else 0

    # the verdict -----------------------------------------------------------------------
    def verdict(self) -> list[tuple[str, ...]]:
        rows: list[tuple[str, ...]] = []
        warm = self.args.warmup
        for i, life in enumerate(self.lives, 1):
            after = [s for s in life.samples if s[0] >= warm]
            # From when the engine's bounded caches are full: the recent-events cache alone
            # holds ~28 MiB of these webhooks when full, and fills at the load's pace.
            full = [s for s in after if s[3] >= RECENT_EVENTS]
            when = "once its caches are full"
            if len(full) >= 4:
                after = full
            else:
                when = f"after warm-up (caches not full: {after[-1][3] if after else 0:,} events)"
            if len(after) < 4:
                continue
            first, last = after[0], statistics.median_low(after[-3:])
            rss_ok = last[1] <= first[1] * (1 + RSS_GROWTH) + RSS_SLACK
            # A leak raises the floor; the sender's pooled connections come and go.
            fd_first, fd_last = min(s[2] for s in after[:3]), min(s[2] for s in after[-3:])
            fd_ok = fd_last <= fd_first + FD_SLACK
            rows.append((
                f"engine {i}: RSS {when} -> end (MiB)",
                f"{first[1] / 2**20:.1f} -> {last[1] / 2**20:.1f} (max {max(s[1] for s in after) / 2**20:.1f})",
                _ok(rss_ok),
            ))  # fmt: skip
            rows.append(
                (
                    f"engine {i}: open fds, lowest of 3 samples",
                    f"{fd_first} -> {fd_last}",
                    _ok(fd_ok),
                )
            )
        rows.append((
            "databases on disk, largest (MiB)", f"{self.disk_max / 2**20:.1f} (bound {DISK_BOUND / 2**20:.0f})",
            _ok(self.disk_max <= DISK_BOUND),
        ))  # fmt: skip
        rows.append((
            "metrics problems", "; ".join(self.metric_problems[:3]) or "none",
            _ok(not self.metric_problems),
        ))  # fmt: skip
        final = self.final
        acked = len(self.acked)
        for module in MODULES:
            count = final[module]
            rows.append(
                (
                    f"{module}: webhooks counted / acknowledged",
                    f"{count} / {acked}",
                    _ok(count == acked),
                )
            )
        keys = list(self.sink.keys)
        delivered = len(set(keys))
        rows.append((
            "messages at the sink: distinct / sent (doubles)",
            f"{delivered} / {acked} ({len(keys) - delivered})", _ok(delivered >= acked),
        ))  # fmt: skip
        rows.append((
            "sink outages: 503s answered / failures in metrics (most of one process)", f"{self.sink.refused} / {self.failures_seen:.0f}",
            _ok(self.sink_outages == 0 or self.failures_seen > 0),
        ))  # fmt: skip
        blocks, repeats = final["blocks"], final["block_repeats"]
        rows.append(
            (
                "blocks handed over (repeats)",
                f"{blocks} ({repeats})",
                _ok(blocks > 0 and repeats == 0),
            )
        )
        last_block, head = final["last_block"], final["head"]
        rows.append(
            ("last block seen / anvil head", f"{last_block} / {head}", _ok(head - last_block <= 5))
        )
        rows.append(("ticks", str(final["ticks"]), _ok(final["ticks"] > 0)))
        return rows


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise ValueError("no VmRSS")


def _disk(data: Path) -> int:
    return sum(p.stat().st_size for p in data.glob("*.db*") if p.is_file())


def _ok(passed: bool) -> str:
    return "ok" if passed else "FAIL"
