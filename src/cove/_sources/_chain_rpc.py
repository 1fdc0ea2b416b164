"""The chain source's reads over HTTP: block batches and windowed ``eth_getLogs``, raw JSON.

Raw JSON-RPC over httpx, as the chain backend: the hot path never builds
web3.py objects. Endpoints are tried in order (primary, then fallbacks), and
each keeps its own head: a step of the walk first picks the endpoint that
serves it (``select``), the first one that answers with a head at or above
the walked position, and every read of that step goes to that endpoint
only. So one step never mixes two endpoints' views of the chain, and an
endpoint that is behind is never asked about blocks it does not have yet.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import httpx
import orjson

from .._log_filter import LogFilter
from .._redact import hosts_in, url_host
from ..errors import ChainRpcError, EndpointsBehind, UnreadableAnswer
from ._chain_json import Header, RawLog, header_or_none, quantity
from ._chain_json import logs as parse_logs

RequestRecorder = Callable[[int, float, str | None], None]
"""Told of every request: the endpoint's index (0 = primary), milliseconds, the error or None.

The engine passes the chain backend's, so the source's reads count in the
same provider health (requests, errors, latency, fallback hits) as modules' calls.
"""

MAX_LOG_WINDOW: Final = 10_000
"""Largest eth_getLogs range asked for; halved while a provider refuses it (a range too
large, too many results), doubled again after a quiet window."""
QUIET_LOGS: Final = 1_000
"""A window that returned fewer logs than this is quiet: the next one may be twice as wide."""


@dataclass
class Endpoint:
    """One endpoint as the chain source sees it: its head and what it served.

    Shown only by its ``label`` (index and host:port): a provider's URL holds
    its API key in the path, query or userinfo, and health, logs and errors
    are read by more people than the config.
    """

    url: str = field(repr=False)
    index: int = 0
    """Its place in the config: 0 the primary, then the fallbacks in order."""
    head: int | None = None
    """The head it last reported; None before the first, and after it failed."""
    requests: int = 0
    errors: int = 0
    fallback_hits: int = 0
    """Requests it answered because the endpoints before it failed or were behind."""
    last_error: str | None = None

    @property
    def host(self) -> str:
        return url_host(self.url)

    @property
    def label(self) -> str:
        """``#<index> <host:port>``: how health, errors and logs name it."""
        return f"#{self.index} {self.host}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "endpoint": self.label,
            "head": self.head,
            "requests": self.requests,
            "errors": self.errors,
            "fallback_hits": self.fallback_hits,
            "last_error": self.last_error,
        }


class ChainReader:
    """Blocks by number (one batch) and logs by range (one windowed eth_getLogs per filter)."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        endpoints: Sequence[Endpoint],
        record: RequestRecorder | None = None,
    ) -> None:
        self._client = client
        self.endpoints = list(endpoints)
        self._record = record
        self._ids = 0
        self._window = MAX_LOG_WINDOW
        self._pinned: int | None = None

    @property
    def serving(self) -> Endpoint | None:
        """The endpoint this step's reads go to (None: each read tries them in order)."""
        return None if self._pinned is None else self.endpoints[self._pinned]

    def unpin(self) -> None:
        """Let each read try the endpoints in order again."""
        self._pinned = None

    async def select(self, position: int | None) -> int:
        """Pin the first endpoint whose head is at or above ``position``; return that head.

        An endpoint below it never serves, the primary included: a lower head
        alone is lag, never a shorter chain (the source looks for a differing
        hash at a height that endpoint has, ``pin``). Raises ``EndpointsBehind``
        when every endpoint that answers is behind, and the last failure when
        none answers.
        """
        self._pinned = None
        behind: dict[int, int] = {}
        failure: Exception | None = None
        for index, endpoint in enumerate(self.endpoints):
            self._pinned = index
            try:
                head = quantity("eth_blockNumber", await self.call("eth_blockNumber", []))
            except httpx.HTTPError as exc:
                failure = exc  # counted against the endpoint by _post
                continue
            except ChainRpcError as exc:
                failure = exc  # it answered, but not with a head: as good as down
                if not isinstance(exc, UnreadableAnswer):
                    endpoint.errors += 1
                    endpoint.last_error = f"{endpoint.label}: {hosts_in(str(exc))}"
                    endpoint.head = None
                continue
            finally:
                self._pinned = None
            endpoint.head = head
            if position is None or head >= position:
                self._pinned = index
                return head
            behind[index] = head
        if behind:
            shown = ", ".join(f"{self.endpoints[i].label} at {h}" for i, h in behind.items())
            raise EndpointsBehind(
                f"every endpoint that answers is behind block {position}: {shown}", behind
            )
        assert failure is not None
        raise failure

    def pin(self, index: int) -> None:
        """Send this step's reads to one endpoint (one that answered ``select`` behind, say)."""
        self._pinned = index

    async def blocks(
        self, numbers: list[int], *, allow_missing: bool = False
    ) -> list[Header | None]:
        """Headers by number, in one batch; None for a block the endpoint lacks (if allowed)."""
        if not numbers:
            return []  # an empty batch is an invalid request
        return _headers(numbers, await self._batch_items(_header_calls(numbers)), allow_missing)

    async def blocks_and_logs(
        self,
        numbers: list[int],
        filters: Sequence[LogFilter],
        start: int,
        end: int,
        *,
        allow_missing: bool = False,
    ) -> tuple[list[Header | None], list[RawLog]]:
        """``blocks(numbers)`` and ``logs(filters, start, end)``, the headers and the first
        log window in one batch: a backfill step is one round trip, not two."""
        if not numbers or not filters:
            return await self.blocks(numbers, allow_missing=allow_missing), (
                await self.logs(filters, start, end) if filters else []
            )
        upto = min(end, start + self._window - 1)
        window = {"fromBlock": hex(start), "toBlock": hex(upto)}
        calls = [("eth_getLogs", [{**f.criteria(), **window}]) for f in filters]
        items = await self._batch_items([*_header_calls(numbers), *calls])
        headers = _headers(numbers, items[: len(numbers)], allow_missing)
        try:
            found = [
                log
                for item in items[len(numbers) :]
                for log in parse_logs("eth_getLogs", _result("eth_getLogs", item))
            ]
        except ChainRpcError:
            if self._window == 1:
                raise
            self._window = max(1, self._window // 2)  # refused: the range again, narrower
            return headers, await self.logs(filters, start, end)
        self._widen(len(found) // len(filters))
        rest = await self.logs(filters, upto + 1, end) if upto < end else []
        return headers, _in_order([*found, *rest], filters)

    async def logs(
        self, filters: Sequence[LogFilter], start: int, end: int, *, block_hash: str | None = None
    ) -> list[RawLog]:
        """Logs of every filter in [start, end] (or the one block ``block_hash``), each once,
        in (block, log index) order."""
        found: list[RawLog] = []
        for filt in filters:
            if block_hash is not None:
                query = {**filt.criteria(), "blockHash": block_hash}
                found.extend(parse_logs("eth_getLogs", await self.call("eth_getLogs", [query])))
                continue
            at = start
            while at <= end:
                upto = min(end, at + self._window - 1)
                query = {**filt.criteria(), "fromBlock": hex(at), "toBlock": hex(upto)}
                try:
                    answer = await self.call("eth_getLogs", [query])
                except ChainRpcError:
                    if self._window == 1:
                        raise
                    self._window = max(1, self._window // 2)
                    continue
                window = parse_logs("eth_getLogs", answer)
                found.extend(window)
                at = upto + 1
                self._widen(len(window))
        return _in_order(found, filters)

    def _widen(self, count: int) -> None:
        """A quiet window (fewer than ``QUIET_LOGS`` logs): the next may be twice as wide."""
        if count < QUIET_LOGS:
            self._window = min(MAX_LOG_WINDOW, self._window * 2)

    async def logs_of(self, filters: Sequence[LogFilter], block: Header) -> list[RawLog] | None:
        """Logs of one announced block, by its hash, from the first endpoint that has reached it.

        Each endpoint is asked for its head in the same batch: one behind the
        block may answer ``[]`` for a hash it does not know (some providers
        do), so its answer is not taken. None when every endpoint that answers
        is behind; the last failure when none answers.
        """
        self._pinned = None
        calls = [("eth_getLogs", [{**f.criteria(), "blockHash": block.hash}]) for f in filters]
        behind = False
        failure: Exception | None = None
        for index, endpoint in enumerate(self.endpoints):
            self._pinned = index
            try:
                head, *answers = await self._batch_items([("eth_blockNumber", []), *calls])
                endpoint.head = quantity("eth_blockNumber", _result("eth_blockNumber", head))
            except (httpx.HTTPError, ChainRpcError) as exc:
                failure = exc  # down, or no head: as in select
                continue
            finally:
                self._pinned = None
            if endpoint.head < block.number:
                behind = True
                continue
            found = [
                log
                for (method, _), item in zip(calls, answers, strict=True)
                for log in parse_logs(method, _result(method, item))
            ]
            return _in_order(found, filters)
        if behind:
            return None
        assert failure is not None
        raise failure

    async def call(self, method: str, params: list[Any]) -> Any:
        answer = await self._post(
            {"jsonrpc": "2.0", "id": self._next_id(), "method": method, "params": params}
        )
        return _result(method, answer)

    def _next_id(self) -> int:
        self._ids += 1
        return self._ids

    async def _post(self, body: Any) -> Any:
        last: Exception | None = None
        order = range(len(self.endpoints)) if self._pinned is None else (self._pinned,)
        for index in order:
            endpoint = self.endpoints[index]
            start = time.perf_counter()
            try:
                response = await self._client.post(endpoint.url, json=body)
                response.raise_for_status()
                answer = orjson.loads(response.content)  # ~3x the stdlib on a burst of logs
            except httpx.HTTPError as exc:
                self._note(
                    index, start, f"{endpoint.label}: {type(exc).__name__}: {hosts_in(str(exc))}"
                )
                last = exc
                continue
            except ValueError as exc:
                problem = f"{endpoint.label}: the answer is not JSON: {exc}"
                self._note(index, start, problem)
                last = UnreadableAnswer("answer", problem)
                continue
            self._note(index, start, None)
            return answer
        assert last is not None
        raise last

    def _note(self, index: int, start: float, error: str | None) -> None:
        endpoint = self.endpoints[index]
        endpoint.requests += 1
        if error is None:
            if index:
                endpoint.fallback_hits += 1
        else:
            endpoint.errors += 1
            endpoint.last_error = error
            endpoint.head = None  # back from a failure, it may well be behind
        if self._record is not None:
            self._record(index, (time.perf_counter() - start) * 1000, error)

    async def _batch_items(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        """One POST of ``calls``; each call's answer item (result or error), in order."""
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
        by_id = {item.get("id"): item for item in answer if isinstance(item, dict)}
        items = []
        for i, (method, _) in zip(ids, calls, strict=True):
            item = by_id.get(i)
            if item is None:
                raise ChainRpcError(method, f"the batch answer has no item for id {i}")
            items.append(item)
        return items


def _header_calls(numbers: list[int]) -> list[tuple[str, list[Any]]]:
    return [("eth_getBlockByNumber", [hex(n), False]) for n in numbers]


def _headers(numbers: list[int], items: list[Any], allow_missing: bool) -> list[Header | None]:
    """The headers of a batch's answer items; None for a block the endpoint lacks (if allowed)."""
    method = "eth_getBlockByNumber"
    found = [header_or_none(method, _result(method, item)) for item in items]
    for number, block in zip(numbers, found, strict=True):
        if block is None and not allow_missing:
            raise ChainRpcError(method, f"no block {number} (the node is behind its own head?)")
        if block is not None and block.number != number:
            raise ChainRpcError(method, f"asked for block {number}, got {block.number}")
    return found


def _in_order(found: list[RawLog], filters: Sequence[LogFilter]) -> list[RawLog]:
    """Each log once, in (block, log index) order."""
    if len(filters) == 1:
        return found  # one query per window, in order: the node's order is the chain's
    unique = {(e["blockHash"], e["logIndex"]): e for e in found}
    return sorted(
        unique.values(), key=lambda e: (int(e["blockNumber"], 16), int(e["logIndex"], 16))
    )


def _result(method: str, answer: Any) -> Any:
    """The ``result`` of one JSON-RPC answer; its error, or a malformed answer, raised."""
    if not isinstance(answer, dict):
        raise ChainRpcError(method, f"unusable answer: not a JSON-RPC object: {answer!r:.120}")
    if "error" in answer:
        raise ChainRpcError(method, answer["error"])
    if "result" not in answer:
        raise ChainRpcError(method, f"unusable answer: no result: {answer!r:.120}")
    return answer["result"]
