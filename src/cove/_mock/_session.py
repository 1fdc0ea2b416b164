"""Run one module on a local engine from a fixture and print what it did.

Design note: the events go through the real engine (journal, runner, capability
layer, outbox), not a simulation, so what the transcript shows is what the
module will do when deployed. Only the edges are fake: a throwaway data dir,
in-memory transports, canned http behind the real allowlist, canned chain
answers behind the real chain backend (``_chain.py``), and a clock
that moves only when the fixture says. Events are fed one at a time and the
engine is left to settle in between, so each event's effects (and those of
events it emitted) print under it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.markup import escape

from .._config import EngineConfig
from .._engine._engine import Engine
from .._engine._lifecycle import ModuleState
from .._engine._matching import matches_any
from .._engine._runner import ModuleRunner
from .._engine._trajectory import Trajectory
from .._events import Event
from .._manifest import Manifest
from .._manifest_subscriptions import MessageSubscription, TickSubscription
from .._observe._logging import configure_logging
from ..testing import FakeClock, MemoryTransport
from ._chain import CannedChain, shadowed_chain
from ._fixture import Fixture, MessageFixture, fixture_events
from ._http import CannedHttp, shadowed
from ._identity import mock_identity
from ._transcript import describe_event, describe_value

Write = Callable[[str], None]
SETTLE_SECONDS = 30.0


@dataclass
class MockResult:
    handled: int = 0
    failed: int = 0
    skipped: int = 0
    refused: list[str] = field(default_factory=list)
    unknown_transports: list[str] = field(default_factory=list)
    """Transports the module sent through that it does not name (see ``_on_trajectory``)."""

    @property
    def ok(self) -> bool:
        return not self.failed and not self.refused and not self.unknown_transports


class MockSession:
    """One run of a fixture against a module; ``await run()`` returns what happened."""

    def __init__(
        self, manifest: Manifest, fixture: Fixture, source: Path, cache_dir: Path, write: Write
    ) -> None:
        self.manifest = manifest
        self.fixture = fixture
        self.source = source
        self.cache_dir = cache_dir
        self.write = write
        self.result = MockResult()
        ticks = [s.label for s in manifest.subscription if isinstance(s, TickSubscription)]
        self.events = fixture_events(fixture, source, manifest.name, ticks)
        self.named = _named_transports(manifest, fixture)
        self.transports = {n: MemoryTransport(n, manifest.name) for n in sorted(self.named)}
        self.trajectories: list[Trajectory] = []
        self._module_logs: list[dict[str, Any]] = []
        self.chain = CannedChain(fixture.chain, source)
        self.http = CannedHttp(fixture.http, source)
        self._engine: Engine | None = None

    async def run(self) -> MockResult:
        warnings = shadowed(self.fixture.http, self.source)
        for warning in warnings + shadowed_chain(self.fixture.chain, self.source):
            self.write(f"[yellow]warning[/] {escape(warning)}")
        # A module's log text is not in its trajectories (only level and length),
        # so the transcript takes its log lines from the log pipeline.
        configure_logging("console", logging.WARNING, tap=self._module_logs.append)
        with tempfile.TemporaryDirectory(prefix="cove-mock-") as data_dir:
            config = EngineConfig.model_validate(
                {
                    "data_dir": data_dir,
                    "modules": [self.manifest.root],
                    "wasm": {"cache_dir": self.cache_dir},
                    "identity": mock_identity(self.manifest, Path(data_dir)),
                    "chains": self.chain.settings(self._declared_chains()),
                    "root": self.manifest.root,
                }
            )
            engine = Engine(
                config,
                transports=list(self.transports.values()),
                clock=FakeClock(self.fixture.start_ms / 1000),
                http_transport=self.http.transport(),
                chain_transport=self.chain.transport(),
                poll_chains=False,  # the fixture's events are the blocks and logs
                on_trajectory=self._on_trajectory,
            )
            self._engine = engine
            await engine.start()
            try:
                runner = engine.runners.get(self.manifest.name)
                if runner is None:
                    self.result.refused = list(engine.load_errors.values())
                    for error in self.result.refused:
                        self.write(f"[red]refused[/] {escape(error)}")
                    return self.result
                for event in self.events:
                    if not await self._feed(engine, runner, event):
                        break
            finally:
                await engine.stop(drain_seconds=1)
        self.write(
            f"[bold]done[/]: {self.result.handled} handled, {self.result.failed} failed, "
            f"{self.result.skipped} not subscribed"
            + (
                f", [red]{len(self.result.unknown_transports)} unknown transport(s)[/]"
                if self.result.unknown_transports
                else ""
            )
        )
        return self.result

    def _on_trajectory(self, trajectory: Trajectory) -> None:
        """Keep the trajectory, and give every transport it sent through a recorder.

        The runner reports an event before it commits, so the recorder is in
        place before the outbox delivers the send: every send is recorded
        whatever transport it names. One the module does not name (in its
        manifest, its subscriptions or the fixture) fails the run: an engine
        without such a transport would retry it and then dead-letter it.
        """
        self.trajectories.append(trajectory)
        for call in trajectory.calls:
            if call.interface != "messaging" or call.error:
                continue
            name = call.summary.split(":")[0]
            if name not in self.transports and self._engine is not None:
                self.transports[name] = MemoryTransport(name, self.manifest.name)
                self._engine.transports[name] = self.transports[name]
                self.result.unknown_transports.append(name)

    def _declared_chains(self) -> list[int]:
        grant = self.manifest.capabilities.chain
        return [] if grant is None else list(grant.chains)

    async def _feed(self, engine: Engine, runner: ModuleRunner, event: Event) -> bool:
        offset = (event.accepted_at_ms - self.fixture.start_ms) / 1000
        self.write(f"[cyan][+{offset:g}s][/] {describe_event(event)}")
        if not matches_any(self.manifest.subscription, event, self.manifest.name):
            self.result.skipped += 1
            self.write("  [dim]not delivered: no subscription in cove.toml matches it[/]")
            return True
        store, name = engine.store, self.manifest.name
        before = {k: store.get(name, k) for k in store.list_keys(name, "")}
        sent_before = {t: len(tr.sent) for t, tr in self.transports.items()}
        unknown_before = len(self.result.unknown_transports)
        head_before, seen = store.head(), len(self.trajectories)
        await engine.publish([event])
        ok = await self._settle(engine, runner)
        for trajectory in self.trajectories[seen:]:
            self._print_trajectory(engine, trajectory)
        if not ok:
            self.write("  [red]stopped[/]: the engine would retry this event after a backoff")
            return False
        after = {k: store.get(name, k) for k in store.list_keys(name, "")}
        for key in sorted(set(before) | set(after)):
            if before.get(key) != after.get(key):
                old, new = _decode(before.get(key)), _decode(after.get(key))
                self.write(f"    [magenta]state[/]  {escape(f'{key}: {old} → {new}')}")
        for transport, recorder in self.transports.items():
            for sent in recorder.sent[sent_before.get(transport, 0) :]:
                line = f"{transport} → {sent.recipient}: {sent.body}"
                self.write(f"    [green]send[/]   {escape(line)}")
        for name in self.result.unknown_transports[unknown_before:]:
            self.write(
                f"    [red]unknown transport[/] {escape(repr(name))}: the module does not name "
                f"it (named: {escape(', '.join(sorted(self.named)))}); list it in "
                + escape("[capabilities.messaging] transports")
                + ", and give the engine a transport of that name"
            )
        for entry in store.read(head_before, 10_000):
            payload = entry.event.payload
            if entry.event.kind == "custom" and getattr(payload, "source", "") == name:
                self.write(f"    [yellow]emit[/]   {escape(describe_value(payload))}")
        return True

    async def _settle(self, engine: Engine, runner: ModuleRunner) -> bool:
        """Wait until the module has caught up and the outbox is empty; False on failure."""
        deadline = asyncio.get_running_loop().time() + SETTLE_SECONDS
        while asyncio.get_running_loop().time() < deadline:
            if runner.state in (ModuleState.BACKOFF, ModuleState.DEAD):
                return False
            if runner.position >= engine.store.head():
                # Commits are grouped: flush so the outbox sees this event's effects.
                await engine.committer.flush()
                if not engine.store.pending_effects(_now_ms(), 1):
                    return True
            await asyncio.sleep(0.002)
        self.write(f"  [red]timed out[/] after {SETTLE_SECONDS:g}s waiting for the module")
        return False

    def _print_trajectory(self, engine: Engine, t: Trajectory) -> None:
        if t.outcome == "ok":
            self.result.handled += 1
        else:
            self.result.failed += 1
        mark = "[green]✓[/]" if t.outcome == "ok" else "[red]✗[/]"
        follow = " (emitted event)" if t.event_id.startswith("emit:") else ""
        self.write(
            f"  {mark} {t.outcome}{follow} in {t.wall_ns / 1e6:.2f} ms"
            + (f", fuel {t.fuel:,}" if t.fuel else "")
            + (f": [red]{escape(t.error)}[/]" if t.error else "")
        )
        for line in self._logs_of(t):
            self.write(f"    [blue]log[/]    {escape(line)}")
        for call in t.calls:
            if call.interface == "logging":
                continue
            elif call.interface == "http":
                answer = f"[green]{escape(call.summary)}[/]"
                if call.error:
                    answer = f"{escape(call.summary)} → [red]{escape(call.error)}[/]"
                self.write(f"    [cyan]http[/]   {answer}")
            elif call.interface == "chain" and not call.error:
                self.write(f"    [cyan]chain[/]  {escape(call.summary)}")
            elif call.error and not call.error.startswith("not-found"):
                self.write(
                    f"    [red]error[/]  {call.interface}.{call.function}: {escape(call.error)}"
                )

    def _logs_of(self, t: Trajectory) -> list[str]:
        """The module's log calls during the event of ``t``, as ``level: message``."""
        return [
            f"{_LEVEL_NAMES.get(line['level'], line['level'])}: {line['event']}"
            for line in self._module_logs
            if line.get("module") == t.module
            and line.get("event_id") == t.event_id
            and "stream" not in line
        ]


_LEVEL_NAMES = {"warning": "warn"}


def _named_transports(manifest: Manifest, fixture: Fixture) -> set[str]:
    """The transports a module names: console, its grant, its subscriptions, the fixture's."""
    names = {"console"} | {e.transport for e in fixture.events if isinstance(e, MessageFixture)}
    messaging = manifest.capabilities.messaging
    if messaging is not None and messaging.transports:
        names |= set(messaging.transports)
    for sub in manifest.subscription:
        if isinstance(sub, MessageSubscription) and sub.transport:
            names.add(sub.transport)
    return names


def _decode(raw: bytes | None) -> str:
    if raw is None:
        return "(unset)"
    try:
        return json.dumps(json.loads(raw))
    except ValueError:
        return repr(raw)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000
