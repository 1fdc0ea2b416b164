"""The chain source's reads over HTTP: block batches and windowed ``eth_getLogs``, raw JSON.

Raw JSON-RPC over httpx, as the chain backend: the hot path never builds
web3.py objects. Endpoints are tried in order (primary, then fallbacks).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import httpx

RequestRecorder = Callable[[int, float, str | None], None]
"""Told of every request: the endpoint's index (0 = primary), milliseconds, the error or None.

The engine passes the chain backend's, so the source's reads count in the
same provider health (requests, errors, latency, fallback hits) as modules' calls.
"""

MAX_LOG_WINDOW: Final = 5_000
"""Largest eth_getLogs range asked for; halved while a provider refuses it."""


class ChainRpcError(Exception):
    """The node answered with a JSON-RPC error (or an unusable answer)."""

    def __init__(self, method: str, error: Any) -> None:
        super().__init__(f"{method}: {error}")
        self.error = error


@dataclass(frozen=True, slots=True)
class LogFilter:
    """One eth_getLogs filter: addresses (None: any) and topics by position."""

    address: tuple[str, ...] | None
    topics: tuple[tuple[str, ...] | None, ...]

    def criteria(self) -> dict[str, Any]:
        """The address and topics part of an eth_getLogs filter."""
        query: dict[str, Any] = {}
        if self.address is not None:
            query["address"] = list(self.address)
        if self.topics:
            query["topics"] = [None if t is None else list(t) for t in self.topics]
        return query

    def matches(self, entry: dict[str, Any]) -> bool:
        """Would the node return this raw log for this filter? (Which depth streams get it.)"""
        if self.address is not None and entry["address"].lower() not in self.address:
            return False
        topics = entry["topics"]
        for position, wanted in enumerate(self.topics):
            if wanted is None:
                continue
            if position >= len(topics) or topics[position].lower() not in wanted:
                return False
        return True


def log_filter(
    address: str | list[str] | None, topics: Sequence[str | list[str] | None]
) -> LogFilter:
    """A filter from a manifest's ``log`` subscription (addresses and topics lower-cased)."""
    addresses = None
    if address is not None:
        addresses = tuple(a.lower() for a in ([address] if isinstance(address, str) else address))
    by_position = tuple(
        None if t is None else tuple(x.lower() for x in ([t] if isinstance(t, str) else t))
        for t in topics
    )
    return LogFilter(addresses, by_position)


class ChainReader:
    """Blocks by number (one batch) and logs by range (one windowed eth_getLogs per filter)."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        urls: Sequence[str],
        record: RequestRecorder | None = None,
    ) -> None:
        self._client = client
        self._urls = list(urls)
        self._record = record
        self._ids = 0
        self._window = MAX_LOG_WINDOW

    async def head(self) -> int:
        return int(await self.call("eth_blockNumber", []), 16)

    async def blocks(self, numbers: list[int], *, allow_missing: bool = False) -> list[Any]:
        calls = [("eth_getBlockByNumber", [hex(n), False]) for n in numbers]
        return await self._batch(calls, allow_missing=allow_missing)

    async def logs(
        self, filters: Sequence[LogFilter], start: int, end: int, *, block_hash: str | None = None
    ) -> list[Any]:
        """Logs of every filter in [start, end] (or the one block ``block_hash``), each once,
        in (block, log index) order."""
        found: list[dict[str, Any]] = []
        for filt in filters:
            if block_hash is not None:
                query = {**filt.criteria(), "blockHash": block_hash}
                found.extend(await self.call("eth_getLogs", [query]))
                continue
            at = start
            while at <= end:
                upto = min(end, at + self._window - 1)
                query = {**filt.criteria(), "fromBlock": hex(at), "toBlock": hex(upto)}
                try:
                    found.extend(await self.call("eth_getLogs", [query]))
                except ChainRpcError:
                    if self._window == 1:
                        raise
                    self._window = max(1, self._window // 2)
                    continue
                at = upto + 1
                self._window = min(MAX_LOG_WINDOW, self._window * 2)
        unique = {(e["blockHash"], e["logIndex"]): e for e in found}
        return sorted(
            unique.values(), key=lambda e: (int(e["blockNumber"], 16), int(e["logIndex"], 16))
        )

    async def call(self, method: str, params: list[Any]) -> Any:
        answer = await self._post(
            {"jsonrpc": "2.0", "id": self._next_id(), "method": method, "params": params}
        )
        if "error" in answer:
            raise ChainRpcError(method, answer["error"])
        return answer["result"]

    def _next_id(self) -> int:
        self._ids += 1
        return self._ids

    async def _post(self, body: Any) -> Any:
        last: Exception | None = None
        for index, url in enumerate(self._urls):
            start = time.perf_counter()
            try:
                response = await self._client.post(url, json=body)
                response.raise_for_status()
                answer = response.json()
            except httpx.HTTPError as exc:
                self._note(index, start, f"{url}: {type(exc).__name__}: {exc}")
                last = exc
                continue
            self._note(index, start, None)
            return answer
        assert last is not None
        raise last

    def _note(self, index: int, start: float, error: str | None) -> None:
        if self._record is not None:
            self._record(index, (time.perf_counter() - start) * 1000, error)

    async def _batch(
        self, calls: list[tuple[str, list[Any]]], *, allow_missing: bool = False
    ) -> list[Any]:
        ids = [self._next_id() for _ in calls]
        body = [
            {"jsonrpc": "2.0", "id": i, "method": m, "params": p}
            for i, (m, p) in zip(ids, calls, strict=True)
        ]
        answer = await self._post(body)
        if not isinstance(answer, list):
            raise ChainRpcError(
                "batch", answer.get("error", answer) if isinstance(answer, dict) else answer
            )
        by_id = {item["id"]: item for item in answer}
        results = []
        for i, (method, _) in zip(ids, calls, strict=True):
            item = by_id[i]
            if "error" in item:
                raise ChainRpcError(method, item["error"])
            if item["result"] is None and not allow_missing:
                raise ChainRpcError(method, "no such block (the node is behind its own head?)")
            results.append(item["result"])
        return results
