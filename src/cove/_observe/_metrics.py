"""Prometheus metrics, collected lazily from engine state at scrape time.

Design note: prometheus-client's own ``Counter``/``Histogram`` objects take a
lock and a label lookup per update. The engine already counts handled and
failed events, fuel and restarts per module, so a custom collector reads
those at scrape time and the hot path pays nothing for them. Only latency
needs a per-event update, and that is one ``bisect`` into a plain list.
"""

from __future__ import annotations

import resource
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

# Seconds; event handling ranges from tens of microseconds to the timeout.
LATENCY_BUCKETS: tuple[float, ...] = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
LATENCY_BUCKETS_NS = tuple(round(b * 1e9) for b in LATENCY_BUCKETS)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class ModuleSample(Protocol):
    """One module's numbers at scrape time (``ModuleStatus`` fits)."""

    @property
    def name(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def handled(self) -> int: ...
    @property
    def failed(self) -> int: ...
    @property
    def restarts(self) -> int: ...
    @property
    def queue_depth(self) -> int: ...
    @property
    def fuel(self) -> int: ...
    @property
    def state_bytes(self) -> int: ...
    @property
    def outbox_backlog(self) -> int: ...
    @property
    def memory_high_water(self) -> int: ...
    @property
    def dead_letters(self) -> int: ...
    @property
    def budgets(self) -> dict[str, dict[str, int]]: ...


class _Histogram:
    __slots__ = ("counts", "sum")

    def __init__(self) -> None:
        self.counts = [0] * (len(LATENCY_BUCKETS) + 1)
        self.sum = 0.0


class LatencyHistograms:
    """Per-module handling latency, fed once per commit batch."""

    def __init__(self) -> None:
        self._by_module: dict[str, _Histogram] = {}

    def observe_many(self, module: str, wall_ns: list[int]) -> None:
        """One batch of a module's events (wall times in ns): one lookup per batch."""
        histogram = self._by_module.get(module)
        if histogram is None:
            histogram = self._by_module[module] = _Histogram()
        counts = histogram.counts
        for ns in wall_ns:
            counts[bisect_left(LATENCY_BUCKETS_NS, ns)] += 1
        histogram.sum += sum(wall_ns) / 1e9

    def family(self) -> HistogramMetricFamily:
        family = HistogramMetricFamily(
            "cove_module_handle_seconds",
            "Wall time to handle one event, per module.",
            labels=["module"],
        )
        for module, histogram in sorted(self._by_module.items()):
            cumulative, buckets = 0, []
            for bound, count in zip(
                [*(str(b) for b in LATENCY_BUCKETS), "+Inf"], histogram.counts, strict=True
            ):
                cumulative += count
                buckets.append((bound, float(cumulative)))
            family.add_metric([module], buckets, histogram.sum)
        return family


class EngineCollector(Collector):
    """Reads the engine's own counters when Prometheus scrapes."""

    def __init__(
        self,
        modules: Callable[[], Sequence[ModuleSample]],
        states: Iterable[str],
        latency: LatencyHistograms,
        extra: Callable[[], dict[str, float]],
    ) -> None:
        self._modules = modules
        self._states = tuple(states)
        self._latency = latency
        self._extra = extra

    def collect(self) -> Iterable[Metric]:
        samples = self._modules()
        by_state = GaugeMetricFamily(
            "cove_modules", "Loaded modules by lifecycle state.", labels=["state"]
        )
        for state in self._states:
            by_state.add_metric([state], sum(1 for s in samples if s.state == state))
        yield by_state
        # [cluster]: a module another engine runs (or none) is that engine's to report.
        samples = [s for s in samples if s.state not in _NOT_HERE]
        for kind, name, help_text, attr in _PER_MODULE:
            family = kind(name, help_text, labels=["module"])
            for sample in samples:
                family.add_metric([sample.name], float(getattr(sample, attr)))
            yield family
        budgets = GaugeMetricFamily(
            "cove_module_budget_used",
            "Spent of a [budgets.<module>] budget in its current window.",
            labels=["module", "budget"],
        )
        limits = GaugeMetricFamily(
            "cove_module_budget_limit",
            "A [budgets.<module>] budget per window.",
            labels=["module", "budget"],
        )
        for sample in samples:
            for budget, use in sample.budgets.items():
                budgets.add_metric([sample.name, budget], float(use["used"]))
                limits.add_metric([sample.name, budget], float(use["limit"]))
        yield budgets
        yield limits
        yield self._latency.family()
        for name, number in sorted(self._extra().items()):
            yield GaugeMetricFamily(name, _EXTRA_HELP.get(name, name), value=number)
        yield GaugeMetricFamily(
            "cove_process_resident_memory_max_bytes",
            "Highest resident set size of the engine process so far.",
            value=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,  # Linux: KiB
        )


_NOT_HERE = frozenset({"elsewhere", "unplaced"})
_PER_MODULE: tuple[tuple[type[CounterMetricFamily | GaugeMetricFamily], str, str, str], ...] = (
    (CounterMetricFamily, "cove_module_events_handled", "Events handled.", "handled"),
    (CounterMetricFamily, "cove_module_events_failed", "Events (or inits) that failed.", "failed"),
    (CounterMetricFamily, "cove_module_fuel_consumed", "Wasm fuel consumed.", "fuel"),
    (CounterMetricFamily, "cove_module_restarts", "Restarts after a failure.", "restarts"),
    (CounterMetricFamily, "cove_module_events_skipped", "Failing events an operator had the module skip.", "skipped"),
    (GaugeMetricFamily, "cove_module_state_bytes", "Bytes of module state.", "state_bytes"),
    (GaugeMetricFamily, "cove_module_queue_depth", "Journaled events not yet handled.", "queue_depth"),
    (GaugeMetricFamily, "cove_module_outbox_backlog", "Effects waiting to be delivered.", "outbox_backlog"),
    (GaugeMetricFamily, "cove_module_dead_letters", "Sends the outbox gave up on, waiting for an operator (cove outbox).", "dead_letters"),
    (GaugeMetricFamily, "cove_module_memory_high_water_bytes", "Most wasm linear memory the module's instances used (0: native).", "memory_high_water"),
)  # fmt: skip

_EXTRA_HELP = {
    "cove_trajectories_stored_bytes": "Bytes of stored trajectories (retention counts these).",
    "cove_trajectories_dropped": "Trajectories lost because the writer fell behind or failed.",
    "cove_journal_head": "Highest journaled event sequence number.",
    "cove_journal_head_stale": "1 while the journal's server cannot be asked for its head "
    "(NATS away): the head and queue depths are the last ones known.",
    "cove_hooks_observer_dropped": "Engine events observer hooks lost: their queue was full.",
    "cove_hooks_failed": "Hook calls that failed or timed out (skipped or blocking, per policy).",
    "cove_hooks_vetoed": "Actions a hook vetoed.",
}


def new_registry(collector: EngineCollector) -> CollectorRegistry:
    """A registry per engine: several engines in one process (tests) must not collide."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return registry


def exposition(registry: CollectorRegistry) -> bytes:
    """The text format Prometheus scrapes."""
    return generate_latest(registry)
