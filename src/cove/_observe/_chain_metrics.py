"""Prometheus figures of the chain sources, read at scrape time like the engine's own figures.

A collector of its own (registered beside ``EngineCollector``) so the chain
figures carry their labels (chain, confirmations, endpoint) without the
engine collector knowing about chains.

Endpoints are labelled by their index in the config (``0`` the primary, then
the fallbacks in order) and their host and port, never the whole URL: a
provider's URL often carries an API key in its path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector


class StreamSample(Protocol):
    @property
    def confirmations(self) -> int: ...
    @property
    def behind(self) -> int | None: ...


class EndpointSample(Protocol):
    """One endpoint of a chain source (``Endpoint`` fits)."""

    @property
    def host(self) -> str: ...
    @property
    def head(self) -> int | None: ...
    @property
    def requests(self) -> int: ...
    @property
    def errors(self) -> int: ...
    @property
    def fallback_hits(self) -> int: ...


class ChainSample(Protocol):
    """One chain source at scrape time (``ChainSource`` fits)."""

    @property
    def chain_id(self) -> int: ...
    @property
    def head(self) -> int | None: ...
    @property
    def waiting(self) -> str | None: ...
    @property
    def endpoints(self) -> Sequence[EndpointSample]: ...
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
        waiting = GaugeMetricFamily(
            "cove_chain_waiting",
            "1 while every endpoint that answers is behind the walked position (the source "
            "waits rather than take a lagging endpoint for a reorg), else 0.",
            labels=["chain"],
        )
        by_endpoint = ["chain", "endpoint", "host"]
        endpoint_head = GaugeMetricFamily(
            "cove_chain_endpoint_head",
            "Head block number an endpoint last reported to the chain source.",
            labels=by_endpoint,
        )
        requests = CounterMetricFamily(
            "cove_chain_endpoint_requests",
            "Requests the chain source sent to an endpoint.",
            labels=by_endpoint,
        )
        errors = CounterMetricFamily(
            "cove_chain_endpoint_errors",
            "Requests to an endpoint that failed (connection, HTTP status, not JSON).",
            labels=by_endpoint,
        )
        fallback_hits = CounterMetricFamily(
            "cove_chain_endpoint_fallback_hits",
            "Requests a fallback endpoint answered because the ones before it failed or "
            "were behind.",
            labels=by_endpoint,
        )
        for chain in self._chains():
            chain_label = str(chain.chain_id)
            if chain.head is not None:
                head.add_metric([chain_label], float(chain.head))
            waiting.add_metric([chain_label], 0.0 if chain.waiting is None else 1.0)
            for stream in chain.lag():
                if stream.behind is not None:
                    behind.add_metric(
                        [chain_label, str(stream.confirmations)], float(stream.behind)
                    )
            for index, endpoint in enumerate(chain.endpoints):
                labels = [chain_label, str(index), endpoint.host]
                if endpoint.head is not None:
                    endpoint_head.add_metric(labels, float(endpoint.head))
                requests.add_metric(labels, float(endpoint.requests))
                errors.add_metric(labels, float(endpoint.errors))
                fallback_hits.add_metric(labels, float(endpoint.fallback_hits))
        yield from (head, behind, waiting, endpoint_head, requests, errors, fallback_hits)
