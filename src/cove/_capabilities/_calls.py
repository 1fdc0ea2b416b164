"""The capability gate: every host call of every host goes through ``HostCalls``.

It checks the call against the module's grants, counts it against the
per-event budget, records it for the trajectory, then runs the backend.
Failures reach the module as ``HostCallError`` (a WIT ``host-error``); only a
blown budget raises ``LimitExceededError``, which stops the event.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from typing import Any, TypeVar

from .._manifest_grants import Capability
from .._redact import redact_url
from ..errors import HostCallError, LimitExceededError
from ._alarms import PendingAlarms, schedule
from ._autonomy import Autonomy
from ._bounds import (
    MAX_KEY_BYTES,
    MAX_LOG_CHARS,
    MAX_LOG_FIELDS,
    MAX_NAME_BYTES,
    MAX_PAYLOAD_BYTES,
    MAX_URL_BYTES,
    checked_keys,
    clip,
    require_size,
    shown_key,
    shown_keys,
)
from ._budgets import TokenBucket
from ._call_record import CallTrace, HostCallRecord, LogSink
from ._chain import ChainBackend, RpcCall
from ._effects import (
    EmittedEvent,
    EventEffects,
    HeldTransaction,
    OutboundMessage,
    ReadOnlyEffects,
)
from ._grants import Grants
from ._http import HttpBackend, HttpRequest, HttpResponse
from ._identity import Identity
from ._identity_tx import parse_transaction, send_transaction
from ._secrets import ModuleSecrets, uses_secrets
from ._spending import Spending

T = TypeVar("T")

_SUMMARY_LIMIT = 120
_SHORT_KEY = MAX_KEY_BYTES // 4
"""A key of at most this many characters is within ``MAX_KEY_BYTES`` in any encoding."""


@dataclass(slots=True)
class HostCalls:
    """Per-event gate between a module and the host backends (``slots``: one is made for
    every event, and a slotted instance is made and read faster)."""

    grants: Grants
    effects: EventEffects
    config: dict[str, Any]
    http: HttpBackend | None
    log_sink: LogSink
    event_id: str = ""
    # What the module's instance gives every call, in the order ``ModuleInstance.host_calls``
    # passes it (positionally: matching a dozen keywords per event cost ~0.5 µs).
    chain: ChainBackend | None = None
    identity: Identity | None = None
    """The module's unlocked key, when the operator assigned it one."""
    emit_rate: TokenBucket | None = None
    """The module's emits per second, shared by all its calls (the runner's)."""
    secrets: ModuleSecrets | None = None
    """The secrets the operator granted the module, filled into its http requests."""
    spending: Spending | None = None
    """The module's operator budgets (``[budgets.<module>]``); None: none set."""
    autonomy: Autonomy | None = None
    """Which of its actions wait for approval (``hold_new_recipients``); None: none do."""
    pending_alarms: PendingAlarms | None = None
    """How many of its alarms are committed and not delivered yet (``_alarms``)."""
    # What one call counts as it goes.
    records: list[HostCallRecord] = field(default_factory=list)
    calls: int = 0
    deadline_ns: int | None = None
    """``perf_counter_ns`` by which the running call must end (set by the wasm host)."""
    cancelled: bool = False
    """The engine is stopping: every wait still to come gets no time (see ``cancel``)."""
    chain_calls: int = 0
    """Chain calls in this event (a batch counts each), against the chain's cap."""
    emitted: int = 0
    sent: int = 0
    trace: CallTrace | None = None
    """Where each call is reported as a span, when ``[tracing]`` is on."""

    @property
    def module(self) -> str:
        return self.grants.module

    def read_only(self) -> HostCalls:
        """This gate over a read-only view of its state, with a budget of its own.

        For an ``init`` run inside another call (an instance rebuilt after a
        trap): init changes nothing, whichever call it runs in.
        """
        effects = self.effects
        view = ReadOnlyEffects(effects.module, effects.as_reader(), effects.quota)
        return replace(
            self,
            effects=view,
            records=[],
            calls=0,
            chain_calls=0,
            deadline_ns=None,
            emitted=0,
            sent=0,
        )

    def cancel(self) -> None:
        """Cut this call's waits short from another thread: the deadline is now, so a wait
        begun later (a WASI sleep, a request, a chain retry) has no time left, and a body
        being read stops at its next chunk."""
        self.cancelled = True
        self.deadline_ns = time.perf_counter_ns()

    def _gate(
        self,
        capability: Capability,
        function: str,
        summary: str,
        run: Callable[..., T],
        *args: Any,
    ) -> T:
        """Check, count and record one call, then ``run(*args)``.

        ``run`` takes its arguments here rather than closing over them: a
        closure built per host call cost the wasm fast path ~0.5 µs a call.
        """
        self.calls += 1
        if self.calls > self.grants.limits.host_calls:
            raise self._over_budget()
        start = time.perf_counter_ns()
        error: str | None = None
        try:
            if capability not in self.grants.granted:  # ``Grants.allows``, one frame less
                raise self._refusal(capability)
            return run(*args)
        except HostCallError as exc:
            error = f"{exc.kind}: {exc.message}"
            raise
        finally:
            self._record(capability, function, summary, error, start)

    def _record(
        self, capability: Capability, function: str, summary: str, error: str | None, start: int
    ) -> None:
        record = HostCallRecord(
            capability, function, summary[:_SUMMARY_LIMIT], error, time.perf_counter_ns() - start
        )
        self.records.append(record)
        if self.trace is not None:
            self.trace.host_call(record, start)

    def _over_budget(self) -> LimitExceededError:
        limit = self.grants.limits.host_calls
        return LimitExceededError(
            self.module, "host-calls", f"more than {limit} host calls in one event"
        )

    def _refusal(self, capability: Capability) -> HostCallError:
        return HostCallError(
            "unsupported",
            f"module {self.module!r} has no {capability!r} capability "
            + (
                "(denied by the operator)"
                if capability in self.grants.declared
                else "(not declared in its manifest)"
            ),
        )

    # store: ``get`` and ``set`` are most of a module's calls, so they run ``_gate``'s
    # steps in place (same count, check, record; ~0.3 µs a call less than through it)
    def store_get(self, key: str) -> bytes:
        self.calls += 1
        if self.calls > self.grants.limits.host_calls:
            raise self._over_budget()
        start = time.perf_counter_ns()
        error: str | None = None
        try:
            if "store" not in self.grants.granted:
                raise self._refusal("store")
            if len(key) > _SHORT_KEY:  # shorter: under the bound however it encodes
                require_size("store: the key", key, MAX_KEY_BYTES)
            value = self.effects.get(key)
            if value is None:
                raise HostCallError("not-found", f"store: no key {key!r}")
            return value
        except HostCallError as exc:
            error = f"{exc.kind}: {exc.message}"
            raise
        finally:
            self._record("store", "get", shown_key(key), error, start)

    def store_get_many(self, keys: list[str]) -> list[bytes | None]:
        return self._gate(
            "store",
            "get-many",
            shown_keys(keys),
            lambda: [self.effects.get(k) for k in checked_keys(keys)],
        )

    def store_set(self, key: str, value: bytes) -> None:
        self.calls += 1
        if self.calls > self.grants.limits.host_calls:
            raise self._over_budget()
        start = time.perf_counter_ns()
        error: str | None = None
        try:
            if "store" not in self.grants.granted:
                raise self._refusal("store")
            if len(key) > _SHORT_KEY:
                require_size("store: the key", key, MAX_KEY_BYTES)
            self.effects.set(key, value)
        except HostCallError as exc:
            error = f"{exc.kind}: {exc.message}"
            raise
        finally:
            self._record("store", "set", f"{shown_key(key)} ({len(value)} bytes)", error, start)

    def _store_set(self, key: str, value: bytes) -> None:
        require_size("store: the key", key, MAX_KEY_BYTES)
        self.effects.set(key, value)

    def store_set_many(self, entries: list[tuple[str, bytes]]) -> None:
        def run() -> None:
            for key, value in entries:
                self._store_set(key, value)

        self._gate("store", "set-many", shown_keys([k for k, _ in entries]), run)

    def store_delete(self, key: str) -> None:
        self._gate("store", "delete", shown_key(key), self._deleted, key)

    def _deleted(self, key: str) -> None:
        require_size("store: the key", key, MAX_KEY_BYTES)
        self.effects.delete(key)

    def store_list_keys(self, prefix: str) -> list[str]:
        return self._gate("store", "list-keys", shown_key(prefix), self._listed, prefix)

    def _listed(self, prefix: str) -> list[str]:
        require_size("store: the prefix", prefix, MAX_KEY_BYTES)
        return self.effects.list_keys(prefix)

    # http
    def http_fetch(self, request: HttpRequest) -> HttpResponse:
        def run() -> HttpResponse:
            if self.http is None:
                raise HostCallError("unavailable", "http: no http backend in this engine")
            self._spend("http_requests", 1)
            require_size("http: the url", request.url, MAX_URL_BYTES)
            require_size("http: the method", request.method, 16)
            # Epoch interruption cannot stop a host call, so the request gets
            # only what is left of the module's deadline.
            left = None
            if self.deadline_ns is not None:
                left = max(0.0, (self.deadline_ns - time.perf_counter_ns()) / 1e9)
            if not uses_secrets(request):
                return self.http.fetch(request, self.grants.http_allow, left, cut=self._cut)
            secrets = self.secrets or ModuleSecrets(self.module)
            filled, sensitive = secrets.fill(request, self.grants.http_allow)
            try:
                return self.http.fetch(filled, self.grants.http_allow, left, sensitive, self._cut)
            except HostCallError as exc:
                raise HostCallError(exc.kind, secrets.scrub(exc.message)) from None

        summary = f"{clip(request.method, 16)} {redact_url(request.url)}"
        response = self._gate("http", "fetch", summary, run)
        # The status belongs in the record: a trajectory of a failing module is
        # read to see which call answered what.
        record, status = self.records[-1], f" → {response.status}"
        record.summary = record.summary[: _SUMMARY_LIMIT - len(status)] + status
        return response

    # chain
    def chain_request(self, chain_id: int, method: str, params_json: str) -> str:
        def run() -> str:
            backend = self._chain_backend(chain_id, 1)
            self._spend("chain_requests", 1)
            call = RpcCall(method, params_json)
            return backend.request(chain_id, call, self.grants.chain_methods, self._time_left())

        return self._gate("chain", "request", f"{chain_id} {method}", run)

    def chain_request_batch(
        self, chain_id: int, calls: list[tuple[str, str]]
    ) -> list[str | HostCallError]:
        def run() -> list[str | HostCallError]:
            backend = self._chain_backend(chain_id, len(calls))
            self._spend("chain_requests", len(calls))
            batch = [RpcCall(method, params) for method, params in calls]
            return backend.request_batch(
                chain_id, batch, self.grants.chain_methods, self._time_left()
            )

        summary = f"{chain_id} " + ",".join(method for method, _ in calls)
        return self._gate("chain", "request-batch", summary, run)

    def _chain_backend(self, chain_id: int, calls: int) -> ChainBackend:
        if self.chain is None:
            raise HostCallError("unavailable", "chain: no chain backend in this engine")
        if chain_id not in self.grants.chains:
            raise HostCallError(
                "denied",
                f"chain: chain {chain_id} is not granted to module {self.module!r} "
                f"(granted: {list(self.grants.chains)}; declare it in [capabilities.chain] "
                "chains and configure it in the engine's [[chains]])",
            )
        cap = self.chain.settings(chain_id).max_calls_per_event
        if self.chain_calls + calls > cap:
            raise HostCallError(
                "limit-exceeded",
                f"chain: more than {cap} calls to chain {chain_id} in one event "
                "(engine config [[chains]] max_calls_per_event)",
            )
        self.chain_calls += calls
        return self.chain

    def _spend(self, name: str, amount: int) -> None:
        if self.spending is not None:
            effects = self.effects
            self.spending.charge(effects.usage, name, amount, effects.spent_before)

    def _cut(self) -> bool:
        return self.cancelled

    def _time_left(self) -> float | None:
        # Epoch interruption cannot stop a host call: the call gets what is left.
        if self.deadline_ns is None:
            return None
        return max(0.0, (self.deadline_ns - time.perf_counter_ns()) / 1e9)

    # identity: signing in the host; the key never reaches the module
    def identity_address(self) -> str:
        return self._gate("identity", "address", "", lambda: self._identity("address").address)

    def identity_sign_message(self, message: bytes) -> str:
        return self._gate(
            "identity",
            "sign-message",
            f"{len(message)} bytes",
            lambda: self._identity("sign-message").sign_message(message),
        )

    def identity_sign_typed_data(self, typed_data_json: str) -> str:
        return self._gate(
            "identity",
            "sign-typed-data",
            f"{len(typed_data_json)} chars",
            lambda: self._identity("sign-typed-data").sign_typed_data(typed_data_json),
        )

    def identity_send_transaction(self, chain_id: int, tx_json: str) -> str:
        def run() -> str:
            identity = self._identity("send-transaction")
            self._chain_backend(chain_id, 0)  # the chain grant, before any work
            value = int(parse_transaction(identity.address, chain_id, tx_json).get("value", 0))
            if self.spending is not None:
                amounts = {"transactions": 1, "value_wei": value}
                effects = self.effects
                self.spending.charge_all(effects.usage, amounts, effects.spent_before)
            if self.autonomy is not None and (held := self.autonomy.holds_value(value)):
                self.effects.add_effect(HeldTransaction(chain_id, tx_json, held))
                raise HostCallError(
                    "denied",
                    f"identity: held for the operator's approval ({held}); committed with "
                    "this event, it is sent once approved, and a cove.approval event says "
                    "which",
                )

            def rpc(calls: list[RpcCall]) -> list[str | HostCallError]:
                backend = self._chain_backend(chain_id, len(calls))
                return backend.request_batch(
                    chain_id, calls, self.grants.chain_methods, self._time_left()
                )

            return send_transaction(identity, chain_id, tx_json, rpc)

        return self._gate("identity", "send-transaction", f"chain {chain_id}", run)

    def _identity(self, method: str) -> Identity:
        if method not in self.grants.identity_methods:
            raise HostCallError(
                "denied",
                f"identity: module {self.module!r} may not call {method!r} (its manifest's "
                f"[capabilities.identity] methods are {list(self.grants.identity_methods)})",
            )
        if self.identity is None:
            raise HostCallError(
                "unsupported",
                f"identity: the engine config assigns module {self.module!r} no key "
                f"([identity.modules.{self.module}])",
            )
        return self.identity

    # messaging and events: queued in the outbox, sent after commit
    def messaging_send(
        self, transport: str, recipient: str, body: str, metadata: tuple[tuple[str, str], ...] = ()
    ) -> None:
        def run() -> None:
            allowed = self.grants.transports
            if allowed is not None and transport not in allowed:
                raise HostCallError(
                    "denied", f"messaging: transport {transport!r} is not in {list(allowed)}"
                )
            require_size("messaging: the transport name", transport, MAX_NAME_BYTES)
            require_size("messaging: the recipient", recipient, MAX_NAME_BYTES)
            require_size("messaging: the body", body, MAX_PAYLOAD_BYTES, "limit-exceeded")
            self.sent += 1
            if self.sent > self.grants.limits.sends:
                raise HostCallError(
                    "limit-exceeded",
                    f"messaging: more than {self.grants.limits.sends} messages in one event "
                    "([resources] sends)",
                )
            self._spend("messages", 1)
            held = "" if self.autonomy is None else self.autonomy.holds(transport, recipient)
            self.effects.add_effect(OutboundMessage(transport, recipient, body, metadata, held))

        summary = f"{clip(transport, MAX_NAME_BYTES)}:{clip(recipient, MAX_NAME_BYTES)}"
        self._gate("messaging", "send", summary, run)

    def alarm_schedule(self, delay_ms: int, payload: str) -> str:
        limit, pending = self.grants.limits.alarms, self.pending_alarms
        return self._gate(
            "alarms", "schedule", f"in {delay_ms} ms", schedule,
            self.effects, limit, pending, delay_ms, payload,
        )  # fmt: skip

    def events_emit(self, name: str, payload: str) -> None:
        def run() -> None:
            if not name:
                raise HostCallError("invalid-input", "events: event name must not be empty")
            require_size("events: the event name", name, MAX_NAME_BYTES)
            patterns = self.grants.emit_names
            if not any(fnmatchcase(name, pattern) for pattern in patterns):
                raise HostCallError(
                    "denied",
                    f"events: module {self.module!r} may not emit {name!r} (it may emit "
                    f"{list(patterns)}; grant more in its manifest's [capabilities.events] emit)",
                )
            require_size("events: the payload", payload, MAX_PAYLOAD_BYTES, "limit-exceeded")
            limits = self.grants.limits
            self.emitted += 1
            if self.emitted > limits.emits:
                raise HostCallError(
                    "limit-exceeded",
                    f"events: more than {limits.emits} emitted events in one event "
                    "([resources] emits)",
                )
            if self.emit_rate is not None and not self.emit_rate.take():
                raise HostCallError(
                    "limit-exceeded",
                    f"events: module {self.module!r} emits more than {limits.emit_rate} events "
                    "per second ([resources] emit_rate)",
                )
            self.effects.add_effect(EmittedEvent(name, payload))

        self._gate("events", "emit", clip(name, MAX_NAME_BYTES), run)

    # logging and config
    def log(self, level: str, message: str, fields: dict[str, str]) -> None:
        message = clip(message, MAX_LOG_CHARS)
        kept = dict(list(fields.items())[:MAX_LOG_FIELDS])
        bounded = {clip(k, MAX_NAME_BYTES): clip(v, MAX_LOG_CHARS) for k, v in kept.items()}
        self._gate(
            "logging",
            "log",
            # The text stays in the module's log: trajectories are readable without
            # the control token, so they record the level and the length only.
            f"{clip(level, 16)}, {len(message)} chars",
            lambda: self.log_sink(
                self.module, level, message, {**bounded, "event_id": self.event_id}
            ),
        )

    def config_get(self, key: str) -> Any:
        return self._gate("config", "get", shown_key(key), self.config.get, key)

    def config_keys(self) -> list[str]:
        return self._gate("config", "keys", "", lambda: sorted(self.config))
