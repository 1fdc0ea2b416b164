"""The ``cove:host`` host functions of the wrapper call path (wasmtime-py's component API).

Each turns a ``HostCallError`` into a WIT ``host-error`` value, so only a
``LimitExceededError`` (a blown budget) aborts the guest call; the fast
path's counterparts are in ``_fast_host``.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import structlog
from wasmtime.component import Record, Variant

from .._capabilities._calls import HostCalls
from .._capabilities._http import HttpRequest
from ..errors import HostCallError, LimitExceededError
from . import _wit_values as wit

if TYPE_CHECKING:
    from ._wasm_host import WasmModuleHost

log = structlog.get_logger("cove.wasm")


def host_functions(host: WasmModuleHost) -> dict[str, dict[str, Callable[..., Any]]]:
    """The wrapper path's host functions; they hold the host weakly (see ``_wasm_host._output_to``:
    wasmtime-py keeps them in a global table as long as the linker lives)."""
    me = weakref.proxy(host)

    def guard(body: Callable[..., Any], *, tagged: bool = False) -> Callable[..., Any]:
        return _guard(me, body, tagged=tagged)

    return {
        "store": {
            "get": guard(lambda c, key: c.store_get(key)),
            "get-many": guard(lambda c, keys: c.store_get_many(list(keys))),
            "set": guard(lambda c, key, value: c.store_set(key, bytes(value))),
            "set-many": guard(
                lambda c, entries: c.store_set_many([(k, bytes(v)) for k, v in entries])
            ),
            "delete": guard(lambda c, key: c.store_delete(key)),
            "list-keys": guard(lambda c, prefix: c.store_list_keys(prefix)),
        },
        # ok and err are both records here, so wasmtime-py needs them tagged
        "http": {"fetch": guard(_http_fetch, tagged=True)},
        "messaging": {
            "send": guard(
                lambda c, transport, recipient, body, metadata: c.messaging_send(
                    transport, recipient, body, tuple(tuple(m) for m in metadata)
                )
            ),
        },
        "events": {"emit": guard(lambda c, name, payload: c.events_emit(name, payload))},
        "logging": {"log": lambda store, *args: me._log(store, *args)},
        "config": {
            "get": lambda _store, key: me._config_get(key),
            "keys": lambda _store: me._config_keys(),
        },
        "chain": {
            "request": guard(
                lambda c, chain_id, method, params: c.chain_request(chain_id, method, params)
            ),
            "request-batch": guard(_chain_request_batch),
        },
        "identity": {
            "address": guard(lambda c: c.identity_address()),
            "sign-message": guard(lambda c, message: c.identity_sign_message(bytes(message))),
            "sign-typed-data": guard(lambda c, data: c.identity_sign_typed_data(data)),
            "send-transaction": guard(
                lambda c, chain_id, tx: c.identity_send_transaction(chain_id, tx)
            ),
        },
    }


def _chain_request_batch(calls: HostCalls, chain_id: int, batch: list[Record]) -> list[Any]:
    pairs = [(wit.field(c, "method"), wit.field(c, "params-json")) for c in batch]
    results = calls.chain_request_batch(chain_id, pairs)
    # ok (a string) and err (a record) differ by Python type: bare payloads
    return [wit.host_error(r) if isinstance(r, HostCallError) else r for r in results]


def _http_fetch(calls: HostCalls, request: Record) -> Record:
    response = calls.http_fetch(
        HttpRequest(
            method=wit.field(request, "method"),
            url=wit.field(request, "url"),
            headers=tuple(tuple(h) for h in wit.field(request, "headers")),
            body=bytes(wit.field(request, "body")),
        )
    )
    return wit.record(status=response.status, headers=list(response.headers), body=response.body)


def _guard(
    host: WasmModuleHost, body: Callable[..., Any], *, tagged: bool = False
) -> Callable[..., Any]:
    """Wrap a host function so failures become WIT ``host-error`` values.

    ``tagged``: the result's ok and err types are indistinguishable by
    Python type (both records), so wasmtime-py wants ``Variant("ok"|"err", v)``.
    """

    def call(_store: Any, *args: Any) -> Any:
        try:
            value = body(host._current(), *args)
        except HostCallError as exc:
            return Variant("err", wit.host_error(exc)) if tagged else wit.host_error(exc)
        except LimitExceededError:
            raise
        except Exception as exc:  # a bug or a backend failure: the WIT's "internal"
            log.warning("host function failed", error=f"{type(exc).__name__}: {exc}")
            error = wit.host_error(HostCallError("internal", f"{type(exc).__name__}: {exc}"))
            return Variant("err", error) if tagged else error
        return Variant("ok", value) if tagged else value

    return call
