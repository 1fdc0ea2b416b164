"""Prometheus gauges of the chain sources, read at scrape time like the engine's own figures.

A collector of its own (registered beside ``EngineCollector``) so the chain
figures carry their labels (chain, confirmations) without the engine
collector knowing about chains.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector


class StreamSample(Protocol):
    @property
    def confirmations(self) -> int: ...
    @property
    def behind(self) -> int | None: ...


class ChainSample(Protocol):
    """One chain source at scrape time (``ChainSource`` fits)."""

    @property
    def chain_id(self) -> int: ...
    @property
    def head(self) -> int | None: ...
    def lag(self) -> Sequence[StreamSample]: ...


class ChainCollector(Collector):
    def __init__(self, chains: Callable[[], Iterable[ChainSample]]) -> None:
        self._chains = chains

    def collect(self) -> Iterable[Metric]:
        head = GaugeMetricFamily(
            "cove_chain_head", "Head block number the chain source last saw.", labels=["chain"]
        )
        behind = GaugeMetricFamily(
            "cove_chain_blocks_behind",
            "Blocks between the head (less the confirmations asked) and the last block "
            "handed to modules at that depth.",
            labels=["chain", "confirmations"],
        )
        for chain in self._chains():
            if chain.head is not None:
                head.add_metric([str(chain.chain_id)], float(chain.head))
            for stream in chain.lag():
                if stream.behind is not None:
                    labels = [str(chain.chain_id), str(stream.confirmations)]
                    behind.add_metric(labels, float(stream.behind))
        yield head
        yield behind
