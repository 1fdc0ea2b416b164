"""Chain JSON-RPC for modules: failover, retries, rate limit, method policy, health.

Why httpx and not web3.py's providers: a module asks for a method and gets
the raw JSON ``result`` back, so the host only moves JSON; web3.py's
providers would parse every answer through its formatters (measured ~165 µs
per log on this machine) only for us to serialise it again, and its batch
API is tied to its typed methods. JSON-RPC over HTTP is one POST of an
envelope; httpx (already the engine's HTTP client, and well kept) does the
pooling and timeouts, and a batch is one JSON array on the wire. The retry,
failover and rate-limit policy is ours either way: web3.py's retry middleware
knows neither fallback endpoints nor the module's deadline.

Calls are synchronous like every host call (they run inside the wasm call);
the backend is shared by all modules and thread-safe.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

import httpx

from .._config_chain import ChainSettings
from .._redact import hosts_in, url_host
from .._units import parse_duration_ms
from ..errors import EndpointFailure, HostCallError

# HTTP answers worth another try (on this endpoint later, or on a fallback now).
_RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
_JITTER = 0.2


@dataclass(frozen=True, slots=True)
class RpcCall:
    """One JSON-RPC call: ``params_json`` is the JSON text of the params array."""

    method: str
    params_json: str = "[]"


@dataclass
class EndpointHealth:
    """What one endpoint has done since the engine started.

    Named by ``label`` (index and host:port) in health and errors, never by
    its URL: a provider's key rides in the path, query or userinfo, and an
    error reaches the module and its status.
    """

    url: str = field(repr=False)
    label: str
    requests: int = 0
    errors: int = 0
    last_error: str | None = None
    last_latency_ms: float | None = None
    total_latency_ms: float = 0.0

    @property
    def mean_latency_ms(self) -> float | None:
        ok = self.requests - self.errors
        return self.total_latency_ms / ok if ok else None


@dataclass
class ChainHealth:
    chain_id: int
    endpoints: list[EndpointHealth]
    fallback_hits: int = 0
    """Requests answered by a fallback because the endpoints before it failed."""
    failures: int = 0
    """Requests that failed on every endpoint after every retry."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "chain_id": self.chain_id,
            "fallback_hits": self.fallback_hits,
            "failures": self.failures,
            "endpoints": [
                {
                    "endpoint": e.label,
                    "requests": e.requests,
                    "errors": e.errors,
                    "last_error": e.last_error,
                    "last_latency_ms": e.last_latency_ms,
                    "mean_latency_ms": e.mean_latency_ms,
                }
                for e in self.endpoints
            ],
        }


@dataclass
class _RateLimiter:
    """Token bucket holding one second of requests; ``take`` waits for tokens."""

    rate: float
    clock: Callable[[], float]
    tokens: float = 0.0
    updated: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.tokens = self.rate
        self.updated = self.clock()

    def reserve(self, count: int) -> float:
        """Take ``count`` tokens (going into debt) and return how long to wait first."""
        with self.lock:
            now = self.clock()
            self.tokens = min(self.rate, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
            self.tokens -= count
            return 0.0 if self.tokens >= 0 else -self.tokens / self.rate


class _Chain:
    def __init__(
        self, settings: ChainSettings, client: httpx.Client, clock: Callable[[], float]
    ) -> None:
        self.settings = settings
        self.client = client
        self.urls = [settings.http, *settings.fallbacks]
        self.timeout = parse_duration_ms(settings.timeout) / 1000
        self.retry_initial = parse_duration_ms(settings.retry.initial) / 1000
        self.retry_max = parse_duration_ms(settings.retry.max) / 1000
        self.limiter = (
            None if settings.rate_limit is None else _RateLimiter(settings.rate_limit, clock)
        )
        self.health = ChainHealth(
            settings.chain_id,
            [EndpointHealth(u, f"#{i} {url_host(u)}") for i, u in enumerate(self.urls)],
        )
        self.lock = threading.Lock()


class ChainBackend:
    """Every configured chain, by chain id; the gate checks grants, this checks methods."""

    def __init__(
        self,
        chains: Iterable[ChainSettings],
        transport: httpx.BaseTransport | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._client = httpx.Client(transport=transport, follow_redirects=False)
        self._chains = {c.chain_id: _Chain(c, self._client, clock) for c in chains}
        self._sleep = sleep
        self._clock = clock
        self._jitter = jitter
        self._ids = 0
        self._ids_lock = threading.Lock()

    def close(self) -> None:
        self._client.close()

    @property
    def chain_ids(self) -> list[int]:
        return sorted(self._chains)

    def settings(self, chain_id: int) -> ChainSettings:
        return self._chain(chain_id).settings

    def health(self) -> list[dict[str, Any]]:
        return [self._chains[c].health.as_dict() for c in self.chain_ids]

    def recorder(self, chain_id: int) -> Callable[[int, float, str | None], None]:
        """Counts another client's requests to this chain (the block/log source's reads)
        in its provider health: per endpoint by index, and a fallback hit when a later
        endpoint answered."""
        chain = self._chain(chain_id)

        def record(index: int, latency_ms: float, error: str | None) -> None:
            with chain.lock:
                _count(chain.health.endpoints[index], latency_ms, error)
                if error is None and index:
                    chain.health.fallback_hits += 1

        return record

    def check_method(self, chain_id: int, method: str, granted: tuple[str, ...] = ()) -> None:
        """Raise ``denied`` unless the chain's policy (or the module's grant) allows ``method``."""
        settings = self._chain(chain_id).settings
        allowed = any(fnmatchcase(method, p) for p in settings.allow_methods)
        denied = any(fnmatchcase(method, p) for p in settings.deny_methods)
        if denied and any(fnmatchcase(method, p) for p in granted):
            return
        if not allowed or denied:
            raise HostCallError(
                "denied",
                f"chain {chain_id}: method {method!r} is not allowed by the engine config "
                f"({'deny_methods' if denied else 'allow_methods'}; the operator can grant it "
                "to one module with policy.modules.<name>.chain_methods)",
            )

    def request(
        self,
        chain_id: int,
        call: RpcCall,
        granted: tuple[str, ...] = (),
        time_left: float | None = None,
    ) -> str:
        """The call's raw JSON ``result``; a JSON-RPC error is ``invalid-input`` with its text."""
        self.check_method(chain_id, call.method, granted)
        answer = self._send(chain_id, _envelope(self._next_id(), call), 1, time_left)
        if not isinstance(answer, dict):
            raise HostCallError("internal", f"chain {chain_id}: answer is not a JSON-RPC object")
        return _result(chain_id, call.method, answer)

    def request_batch(
        self,
        chain_id: int,
        calls: list[RpcCall],
        granted: tuple[str, ...] = (),
        time_left: float | None = None,
    ) -> list[str | HostCallError]:
        """One JSON-RPC batch on the wire; each call gets its result or its own error."""
        if not calls:
            return []
        for call in calls:
            self.check_method(chain_id, call.method, granted)
        first = self._next_id(len(calls))
        ids = list(range(first, first + len(calls)))
        body = [_envelope(i, c) for i, c in zip(ids, calls, strict=True)]
        answer = self._send(chain_id, body, len(calls), time_left)
        if not isinstance(answer, list):
            # Some providers answer a whole batch with one error object.
            message = answer.get("error", {}).get("message") if isinstance(answer, dict) else None
            raise HostCallError(
                "unavailable", f"chain {chain_id}: the batch was refused: {message or answer!r}"
            )
        by_id = {item.get("id"): item for item in answer if isinstance(item, dict)}
        results: list[str | HostCallError] = []
        for i, call in zip(ids, calls, strict=True):
            item = by_id.get(i)
            if item is None:
                results.append(
                    HostCallError("internal", f"chain {chain_id}: no answer for {call.method}")
                )
                continue
            try:
                results.append(_result(chain_id, call.method, item))
            except HostCallError as exc:
                results.append(exc)
        return results

    # internals ---------------------------------------------------------------

    def _chain(self, chain_id: int) -> _Chain:
        chain = self._chains.get(chain_id)
        if chain is None:
            raise HostCallError(
                "not-found", f"chain {chain_id} is not configured in this engine ([[chains]])"
            )
        return chain

    def _next_id(self, count: int = 1) -> int:
        with self._ids_lock:
            first = self._ids + 1
            self._ids += count
            return first

    def _send(self, chain_id: int, body: Any, weight: int, time_left: float | None) -> Any:
        """POST ``body`` to the first endpoint that answers, in rounds with backoff."""
        chain = self._chain(chain_id)
        deadline = None if time_left is None else self._clock() + time_left
        if chain.limiter is not None:
            self._wait(chain.limiter.reserve(weight), deadline, chain_id, "rate limit")
        content = json.dumps(body, separators=(",", ":")).encode()
        problems: list[str] = []
        for attempt in range(chain.settings.retry.attempts):
            if attempt:
                delay = min(chain.retry_max, chain.retry_initial * 2 ** (attempt - 1))
                delay *= 1 + _JITTER * (2 * self._jitter() - 1)
                self._wait(delay, deadline, chain_id, "retry backoff")
            for index, health in enumerate(chain.health.endpoints):
                try:
                    answer = self._post(chain, health, content, deadline)
                except EndpointFailure as exc:
                    problems.append(str(exc))
                    continue
                if index:
                    with chain.lock:
                        chain.health.fallback_hits += 1
                return answer
        with chain.lock:
            chain.health.failures += 1
        raise HostCallError(
            "unavailable",
            f"chain {chain_id}: every endpoint failed after {chain.settings.retry.attempts} "
            f"round(s); last: {problems[-1]}",
        )

    def _post(
        self, chain: _Chain, health: EndpointHealth, content: bytes, deadline: float | None
    ) -> Any:
        timeout = chain.timeout
        if deadline is not None:
            timeout = min(timeout, deadline - self._clock())
            if timeout <= 0:
                raise HostCallError(
                    "timeout",
                    f"chain {chain.settings.chain_id}: no time left before the module's deadline",
                )
        start = time.perf_counter()
        try:
            response = chain.client.post(
                health.url,
                content=content,
                headers={"content-type": "application/json"},
                timeout=timeout,
            )
            if response.status_code in _RETRY_STATUS:
                raise EndpointFailure(f"{health.label}: HTTP {response.status_code}")
            if response.status_code != 200:
                raise EndpointFailure(
                    f"{health.label}: HTTP {response.status_code}: {hosts_in(response.text[:200])}"
                )
            answer = response.json()
        except httpx.HTTPError as exc:
            failure = EndpointFailure(f"{health.label}: {type(exc).__name__}: {hosts_in(str(exc))}")
            self._record(chain, health, start, str(failure))
            raise failure from None
        except ValueError as exc:
            failure = EndpointFailure(f"{health.label}: answer is not JSON: {exc}")
            self._record(chain, health, start, str(failure))
            raise failure from None
        except EndpointFailure as exc:
            self._record(chain, health, start, str(exc))
            raise
        self._record(chain, health, start, None)
        return answer

    @staticmethod
    def _record(chain: _Chain, health: EndpointHealth, start: float, error: str | None) -> None:
        with chain.lock:
            _count(health, (time.perf_counter() - start) * 1000, error)

    def _wait(self, delay: float, deadline: float | None, chain_id: int, why: str) -> None:
        if delay <= 0:
            return
        if deadline is not None and self._clock() + delay > deadline:
            raise HostCallError(
                "timeout",
                f"chain {chain_id}: waiting {delay:.3g}s for the {why} would pass the "
                "module's deadline",
            )
        self._sleep(delay)


def _envelope(request_id: int, call: RpcCall) -> dict[str, Any]:
    try:
        params = json.loads(call.params_json) if call.params_json else []
    except ValueError as exc:
        raise HostCallError(
            "invalid-input", f"chain: params of {call.method} are not JSON: {exc}"
        ) from None
    if not isinstance(params, list | dict):
        raise HostCallError(
            "invalid-input", f"chain: params of {call.method} must be a JSON array or object"
        )
    return {"jsonrpc": "2.0", "id": request_id, "method": call.method, "params": params}


def _result(chain_id: int, method: str, answer: dict[str, Any]) -> str:
    if "error" in answer:
        error = answer["error"]
        if isinstance(error, dict):
            text = f"{error.get('message')} (code {error.get('code')})"
            if error.get("data") is not None:
                text += f" data={json.dumps(error['data'])[:200]}"
        else:
            text = repr(error)
        raise HostCallError("invalid-input", f"chain {chain_id}: {method}: {text}")
    if "result" not in answer:
        raise HostCallError("internal", f"chain {chain_id}: {method}: answer has no result")
    return json.dumps(answer["result"], separators=(",", ":"))


def _count(health: EndpointHealth, latency_ms: float, error: str | None) -> None:
    """One request in an endpoint's health; the caller holds the chain's lock."""
    health.requests += 1
    if error is None:
        health.last_latency_ms = latency_ms
        health.total_latency_ms += latency_ms
    else:
        health.errors += 1
        health.last_error = error
