"""One read's matching events, run on the module's instance and committed.

Design note: each event runs on its own overlay over the batch's overlay, so
it sees the writes of the events before it, and a failing event drops only
its own effects. The events that succeeded commit together in one store
transaction (net writes, every event's effects, the cursor): fewer
statements per event, and still all-or-nothing across a crash. How many
events go into one commit is the committer's to say (per-event mode: one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .._capabilities._calls import HostCalls
from .._capabilities._effects import EventEffects
from .._store._base import JournalEntry, Store
from ..errors import HookBlockedError, LimitExceededError, ModuleFailedError
from ._instance import ModuleInstance
from ._module_commit import Handled, ModuleCommits, effects_to_outbox
from ._supervisor import Supervisor
from ._trajectory import Recorder, Trajectory

if TYPE_CHECKING:
    from .._observe._tracing import Tracing


@dataclass(frozen=True, slots=True)
class BatchResult:
    position: int
    """The seq of the last event committed (the starting position when none was)."""
    failure: ModuleFailedError | None


class BatchHandler:
    """Runs a read's events on the module's instance and commits the ones that succeed."""

    def __init__(
        self,
        module: str,
        store: Store,
        supervisor: Supervisor,
        commits: ModuleCommits,
        recorder: Recorder,
    ) -> None:
        self.module = module
        self._store = store
        self._supervisor = supervisor
        self._commits = commits
        self._recorder = recorder
        self.tracing: Tracing | None = None
        """Set through ``ModuleRunner.trace`` when ``[tracing]`` is on."""

    def run(
        self, instance: ModuleInstance, entries: list[JournalEntry], position: int
    ) -> BatchResult:
        """On the module's worker thread, with the instance to itself."""
        supervisor = self._supervisor
        commits = self._commits
        quota = instance.quota
        chunk = commits.events_per_commit(len(entries))
        batch = EventEffects(self.module, self._store, quota)
        handled: Handled = []
        last_seq = committed = position
        attempt = supervisor.attempt  # the first event may be a retry; those after it are not
        failed: JournalEntry | None = None
        failure: ModuleFailedError | None = None
        try:
            for entry in entries:
                if supervisor.cut:  # a drain's deadline: the rest stays in the journal
                    break
                effects = EventEffects(
                    self.module, batch.as_reader(), quota, spent_before=batch.usage
                )
                failure = self._handle_one(instance, entry, effects, attempt)
                if failure is not None:
                    failed = entry
                    break
                attempt = 1
                batch.absorb(effects)
                handled.append((entry.event.id, effects_to_outbox(effects)))
                last_seq = entry.seq
                if len(handled) >= chunk:
                    commits.events(batch, handled, last_seq)
                    supervisor.succeeded(len(handled), handled[-1][0])
                    committed = last_seq
                    batch = EventEffects(self.module, self._store, quota)
                    handled = []
            if handled:
                commits.events(batch, handled, last_seq)
                supervisor.succeeded(len(handled), handled[-1][0])
                committed = last_seq
        except HookBlockedError as exc:  # fail-closed before-commit: retried like a failure
            # The commit was refused, not an event: skipping the event that failed
            # after the refused ones would pass over them, never committed.
            supervisor.failed = None
            return BatchResult(committed, ModuleFailedError(self.module, str(exc)))
        # A failure ends the batch; its record waits for the commit of the events
        # before it (handed over with theirs), or goes now when nothing was left.
        self._recorder.hand_over()
        if failed is not None:
            supervisor.failed = failed
        return BatchResult(committed, failure)

    def _handle_one(
        self, instance: ModuleInstance, entry: JournalEntry, effects: EventEffects, attempt: int
    ) -> ModuleFailedError | None:
        event = entry.event
        calls = instance.host_calls(event.id, effects)
        trace = None if self.tracing is None else self.tracing.event(self.module, entry)
        calls.trace = trace
        outcome, error = "ok", ""
        spending = instance.spending
        try:
            if spending is not None and (why := spending.exhausted("fuel", effects.spent_before)):
                stats = instance.host.stats  # refused before it ran: it cost nothing
                stats.fuel = stats.wall_ns = 0
                raise LimitExceededError(self.module, "budget", why)
            instance.host.handle(event, attempt, calls)
            if spending is not None and spending.limits("fuel"):
                # Checked when an event starts: the one that crosses the budget finishes.
                effects.usage["fuel"] = effects.usage.get("fuel", 0) + instance.host.stats.fuel
        except ModuleFailedError as exc:
            outcome, error = "failed", exc.reason
            return exc
        finally:
            self._record(instance, entry, outcome, error, calls)
            if trace is not None:
                trace.finish(outcome, error, instance.host.stats.fuel)
        return None

    def _record(
        self,
        instance: ModuleInstance,
        entry: JournalEntry,
        outcome: str,
        error: str,
        calls: HostCalls,
    ) -> None:
        stats = instance.host.stats
        fuel = stats.fuel
        self._supervisor.stats.fuel_total += fuel
        recorder = self._recorder
        if recorder.enabled:
            recorder.add(
                Trajectory(
                    self.module,
                    entry.event.id,
                    entry.seq,
                    outcome,
                    error,
                    tuple(calls.records),
                    fuel,
                    stats.wall_ns,
                )
            )


__all__ = ["BatchHandler", "BatchResult"]
