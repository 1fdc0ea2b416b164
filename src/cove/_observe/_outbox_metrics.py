"""Prometheus metrics of the outbox and of retention: failed and dead-lettered sends per
transport, the journal's size and age, what retention pruned. (Dead letters per module
are a module metric, read from the module status.)"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector


@dataclass(frozen=True, slots=True)
class OutboxNumbers:
    failures: Mapping[str, int] = field(default_factory=dict)
    """Failed sends per transport since the engine started."""
    dead_lettered: Mapping[str, int] = field(default_factory=dict)
    """Sends moved to the dead letters per transport since the engine started."""
    journal_entries: int = 0
    journal_bytes: int = 0
    journal_oldest_age_s: float = 0.0
    """Age of the oldest journal entry: how far back publish dedup reaches now."""
    pruned: Mapping[str, int] = field(default_factory=dict)
    """Rows retention deleted since the engine started: ``journal``, ``delivered``, ``dead``."""


class OutboxCollector(Collector):
    def __init__(self, numbers: Callable[[], OutboxNumbers]) -> None:
        self._numbers = numbers

    def collect(self) -> Iterable[Metric]:
        n = self._numbers()
        yield _labelled(
            CounterMetricFamily, "cove_outbox_delivery_failures",
            "Sends that failed (each is retried or dead-lettered).", "transport", n.failures,
        )  # fmt: skip
        yield _labelled(
            CounterMetricFamily, "cove_outbox_dead_lettered",
            "Sends moved to the dead letters (attempt limit or age reached).", "transport",
            n.dead_lettered,
        )  # fmt: skip
        yield _labelled(
            CounterMetricFamily, "cove_retention_pruned",
            "Rows retention deleted: journal entries, delivered effects, dead letters.", "what",
            n.pruned,
        )  # fmt: skip
        yield GaugeMetricFamily(
            "cove_journal_entries", "Entries held in the journal.", value=n.journal_entries
        )
        yield GaugeMetricFamily(
            "cove_journal_bytes",
            "Bytes of event ids and bodies held in the journal (what journal_max_size bounds).",
            value=n.journal_bytes,
        )
        yield GaugeMetricFamily(
            "cove_journal_oldest_age_seconds",
            "Age of the oldest journal entry: how far back a re-published event id is ignored.",
            value=n.journal_oldest_age_s,
        )


def _labelled(
    kind: type[CounterMetricFamily | GaugeMetricFamily],
    name: str,
    help_text: str,
    label: str,
    values: Mapping[str, int],
) -> Metric:
    family = kind(name, help_text, labels=[label])
    for key, value in sorted(values.items()):
        family.add_metric([key], float(value))
    return family
