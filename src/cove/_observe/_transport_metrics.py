"""Prometheus counters of the transports that count (nostr, mqtt): messages sent, received,
rejected, and errors, per transport. Read when Prometheus scrapes; nothing on the hot path
but an integer increment."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from .._sources._base import TransportCounts

_HELP = {
    "sent": "Messages a relay or broker took (an OK, a PUBACK).",
    "received": "Inbound messages handed to the journal (a redelivery may count again).",
    "rejected": "Inbound messages refused: forged, tampered, or for no served module.",
    "errors": "Sends that failed (the outbox retries them) and connections lost.",
}


class TransportCollector(Collector):
    def __init__(self, counts: Callable[[], Mapping[str, TransportCounts]]) -> None:
        self._counts = counts

    def collect(self) -> Iterable[Metric]:
        counts = self._counts()
        for field, text in _HELP.items():
            family = CounterMetricFamily(f"cove_transport_{field}", text, labels=["transport"])
            for transport, c in sorted(counts.items()):
                family.add_metric([transport], getattr(c, field))
            yield family
