"""The inbound HTTP routes: requests become journaled events, answered once durable.

``POST /messages/<transport>`` takes ``{"sender", "recipient", "body"}`` (JSON)
and becomes a ``Message``; ``X-Cove-Meta-<key>`` headers become its metadata.
``POST /webhooks/<path>`` becomes a ``Webhook`` with the raw body and headers.
Both need the server's signature or token, stay under ``max_body``, and take
``X-Cove-Delivery: <id>`` (or, with the Standard Webhooks scheme,
``webhook-id``) as an idempotency key: the event id is derived from it, so a
redelivery is answered 202 again but journaled once.

Order matters against a hostile client: whatever the headers decide (a
missing signature, a wrong token, a stale timestamp, a reused id, a size
over the limit) is answered before a byte of the body is read, and the
connection is closed so the body is never read at all. Bodies then wait for
a share of a global in-flight budget (a quarter of it at most per peer
address) and must arrive within a deadline.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Collection, Mapping
from json.encoder import encode_basestring
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from .._body import receive_capped
from .._events import Event, Message, Payload, Webhook
from .._listen import body_received
from .._ratelimit import RateLimitedLog
from ._base import Publish
from ._webhook_auth import (
    DELIVERY_HEADER,
    META_PREFIX,
    Credentials,
    parse_delivery_id,
)
from ._webhook_standard import ID_HEADER, TIMESTAMP_HEADER, parse_timestamp
from ._webhook_standard import SIGNATURE_HEADER as STANDARD_SIGNATURE

_WEBHOOK_PATH = re.compile(r"/[\w./-]*")
# The bearer token authenticated the request; modules have no use for it.
_HIDDEN_HEADERS = frozenset({"authorization"})
_TRACE_HEADERS = frozenset({"traceparent", "tracestate"})
"""W3C trace context, kept as message metadata (as message systems carry it), so a
message from another engine's webhook transport continues the sender's trace."""
_CLOSE = {"connection": "close"}
Answer = Callable[[Scope, Receive, Send], Awaitable[None]]
Endpoint = Callable[[Scope, Receive, str], Awaitable[Answer]]


class InboundMessage(BaseModel):
    """The JSON body of ``POST /messages/<transport>``."""

    model_config = ConfigDict(extra="forbid")

    sender: str = Field(min_length=1)
    recipient: str = ""
    body: str


def inbound_app(
    publish: Publish,
    *,
    transports: Collection[str],
    credentials: Credentials,
    max_body: int,
    log: Any,
    max_in_flight: int | None = None,
    body_timeout: float = 10.0,
    clock: Callable[[], float] = time.time,
) -> ASGIApp:
    """The ASGI app; ``transports`` are the names ``/messages/`` accepts."""
    budget = _BodyBudget(max_in_flight or 16 * max_body, max_body)
    seen = _SeenIds(2 * credentials.tolerance, clock)
    started = int(clock())
    refusals = RateLimitedLog(log.warning)

    async def accept(
        scope: Scope, receive: Receive, headers: Mapping[str, str], kind: str, name: str
    ) -> tuple[bytes, str | None] | Answer:
        if not credentials.required and (reason := _cross_site(headers)) is not None:
            refusals("refused", "webhook request refused", kind=kind, target=name, reason=reason)
            return _error(403, reason, _CLOSE)
        refusal, verify = credentials.before_body(headers, clock())
        if refusal is not None:
            refusals("refused", "webhook request refused", kind=kind, target=name, reason=refusal)
            return _error(401, refusal, {**_CLOSE, "www-authenticate": "Bearer"})
        standard = credentials.standard and STANDARD_SIGNATURE in headers
        delivery = headers.get(ID_HEADER if standard else DELIVERY_HEADER)
        if delivery is not None and parse_delivery_id(delivery) is None:
            return _error(400, "X-Cove-Delivery must be 1-200 printable ASCII characters")
        target = f"{kind}:{name}"
        signed = (delivery or "", headers.get(TIMESTAMP_HEADER, ""))
        if standard:
            if (refusal := _signed_before(signed[1], started)) is not None:
                refusals(
                    "refused", "webhook request refused", kind=kind, target=name, reason=refusal
                )
                return _error(401, refusal, _CLOSE)
            if earlier := seen.elsewhere(signed, target):
                return _error(
                    409, f"webhook-id {delivery!r} was already delivered to {earlier}", _CLOSE
                )
        declared = headers.get("content-length", "")
        size = int(declared) if declared.isdigit() and len(declared) < 19 else max_body
        if size > max_body:
            return _error(413, f"body is larger than {max_body} bytes (webhook.max_body)", _CLOSE)
        client = scope.get("client")
        peer = client[0] if client else ""
        if not budget.take(size, peer):
            return _error(
                503, "too many request bodies in flight; retry", {**_CLOSE, "retry-after": "1"}
            )
        try:
            if body_received(scope):  # nothing to wait for: no timer to arm
                body = await _read_limited(receive, max_body)
            else:
                async with asyncio.timeout(body_timeout):
                    body = await _read_limited(receive, max_body)
        except TimeoutError:
            return _error(408, f"body did not arrive within {body_timeout:g} s", _CLOSE)
        finally:
            budget.give(size, peer)
        if body is None:
            return _error(413, f"body is larger than {max_body} bytes (webhook.max_body)", _CLOSE)
        if verify and (reason := credentials.verify_body(body, headers)) is not None:
            refusals("refused", "webhook request refused", kind=kind, target=name, reason=reason)
            return _error(401, reason)
        if delivery is None:
            return body, None
        if standard:
            if earlier := seen.elsewhere(signed, target):  # the same replay, sent concurrently
                return _error(409, f"webhook-id {delivery!r} was already delivered to {earlier}")
            seen.add(signed, target)
            return body, f"{target}:webhook-id:{delivery}"
        return body, f"{target}:{delivery}"

    async def journal(payload: Payload, event_id: str | None) -> Answer:
        event = Event(payload) if event_id is None else Event(payload, id=event_id)
        try:
            await publish([event])
        except Exception as exc:  # whatever failed, the event is not durable: the sender retries
            log.error("webhook event not journaled", event_id=event.id, error=repr(exc))
            return _error(503, "the event could not be journaled; retry later")
        return _Accepted(event.id)

    async def messages(scope: Scope, receive: Receive, transport: str) -> Answer:
        if transport not in transports:
            return _error(404, f"no webhook transport named {transport!r} in this engine")
        raw = _decoded(scope["headers"])
        accepted = await accept(scope, receive, _first(raw), "message", transport)
        if not isinstance(accepted, tuple):
            return accepted
        body, event_id = accepted
        try:
            inbound = InboundMessage.model_validate_json(body)
        except ValidationError as exc:
            return _error(400, "body must be JSON {sender, recipient, body}: " + _describe(exc))
        metadata = tuple(
            (key[len(META_PREFIX) :], value)
            for key, value in raw
            if key.startswith(META_PREFIX) and len(key) > len(META_PREFIX)
        ) + tuple((k, v) for k, v in raw if k in _TRACE_HEADERS)
        message = Message(transport, inbound.sender, inbound.recipient, inbound.body, metadata)
        return await journal(message, event_id)

    async def webhooks(scope: Scope, receive: Receive, name: str) -> Answer:
        path = "/" + name
        if not _WEBHOOK_PATH.fullmatch(path):
            return _error(400, "a webhook path may hold letters, digits and _ . / - only")
        raw = _decoded(scope["headers"])
        accepted = await accept(scope, receive, _first(raw), "webhook", path)
        if not isinstance(accepted, tuple):
            return accepted
        body, event_id = accepted
        headers = tuple((k, v) for k, v in raw if k not in _HIDDEN_HEADERS)
        return await journal(Webhook(path, scope["method"], headers, body), event_id)

    return _Routes(messages, webhooks)


class _Routes:
    """``POST /messages/<transport>`` and ``POST /webhooks/<path>``, dispatched by prefix.

    Rejected: a Starlette app, whose router and two middleware layers (error
    pages, exception handlers) took about a third of the event loop's time per
    ingress request in py-spy, for two fixed prefixes; an exception still
    becomes uvicorn's 500 and a log line.
    """

    def __init__(self, messages: Endpoint, webhooks: Endpoint) -> None:
        self._messages = messages
        self._webhooks = webhooks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        name = path[len("/messages/") :]
        if path.startswith("/webhooks/"):
            endpoint, name = self._webhooks, path[len("/webhooks/") :]
        elif path.startswith("/messages/") and name and "/" not in name:
            endpoint = self._messages
        else:
            await _error(404, "not found: POST /webhooks/<path> or /messages/<transport>")(
                scope, receive, send
            )
            return
        if scope["method"] != "POST":
            answer: Answer = _error(405, "method not allowed: only POST", {"allow": "POST"})
        else:
            answer = await endpoint(scope, receive, name)
        await answer(scope, receive, send)


def _decoded(raw: list[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    """A request's headers as text, in order (names come lower-cased from the server)."""
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw]


def _first(headers: list[tuple[str, str]]) -> dict[str, str]:
    """Each header's first value, as ``Request.headers.get`` gives it: one dict per request.

    Rejected: Starlette's ``Headers``, which decodes and scans the whole list
    on every lookup; the ingress makes about ten per request.
    """
    return dict(reversed(headers))


class _Accepted:
    """The ``202 {"id": ...}`` answer, sent as two ASGI messages without a Starlette response.

    Its bytes are what ``JSONResponse({"id": id}, 202)`` sends; building that
    response (header list, JSON encoder, background hook) was a tenth of the
    ingress's per-request time.
    """

    __slots__ = ("_body",)

    def __init__(self, event_id: str) -> None:
        self._body = b'{"id":' + encode_basestring(event_id).encode() + b"}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = self._body
        await send(
            {
                "type": "http.response.start",
                "status": 202,
                "headers": [
                    (b"content-length", str(len(body)).encode()),
                    (b"content-type", b"application/json"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


async def _read_limited(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None once it is known to exceed ``limit`` bytes or the client left."""
    try:
        return await receive_capped(receive, limit)
    except ClientDisconnect:
        return None


def _error(status: int, message: str, headers: Mapping[str, str] | None = None) -> Answer:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _signed_before(timestamp: str, started: int) -> str | None:
    """Why a Standard Webhooks request signed before this server started is refused, or None.

    Replays to another path are caught by remembering (id, timestamp); that
    memory starts empty, so a request signed before it could be a replay of
    one the last run took. Senders sign each attempt anew, so a retry passes.
    """
    sent = parse_timestamp(timestamp)
    if sent is not None and sent < started:
        return (
            "webhook-timestamp is before this engine started, so a replay cannot be ruled out; "
            "sign the request again"
        )
    return None


def _cross_site(headers: Mapping[str, str]) -> str | None:
    """Why a request looks like a browser's cross-site one (unauthenticated mode only), or None.

    Browsers send ``Origin`` on every cross-origin POST (a ``text/plain``
    form post needs no preflight) and ``Sec-Fetch-Site`` on every request;
    webhook senders send neither. Nothing is served from this port, so no
    page can be same-origin.
    """
    site = headers.get("sec-fetch-site")
    if headers.get("origin") is not None or (site is not None and site != "none"):
        return (
            "browser requests are refused by an unauthenticated webhook server "
            "(Origin/Sec-Fetch-Site); configure webhook.secret_env or token_env"
        )
    return None


class _BodyBudget:
    """Bytes of request bodies being read at once, across all connections and per peer address.

    A body is read before its signature can be checked, so anyone who can
    send well-formed headers can hold budget until the body deadline; one
    address may hold a quarter of it (at least one ``max_body``), so a single
    slow client cannot starve the senders.
    """

    def __init__(self, limit: int, max_body: int) -> None:
        self.limit = limit
        self.share = max(max_body, limit // 4)
        self.used = 0
        self._by_peer: dict[str, int] = {}

    def take(self, size: int, peer: str) -> bool:
        held = self._by_peer.get(peer, 0)
        if self.used + size > self.limit or held + size > self.share:
            return False
        self.used += size
        self._by_peer[peer] = held + size
        return True

    def give(self, size: int, peer: str) -> None:
        self.used -= size
        held = self._by_peer.pop(peer) - size
        if held:
            self._by_peer[peer] = held


class _SeenIds:
    """Standard Webhooks (id, timestamp) pairs accepted in the last ``window`` seconds, and where.

    The signature does not cover the path, so a captured request could be
    replayed to another one; it cannot change its id or timestamp, so the
    pair names it. Another sender's colliding id comes with its own
    timestamp (its event id is scoped by its path). The timestamp tolerance
    bounds how long this memory must last; requests signed before it began
    are refused (``_signed_before``).
    """

    def __init__(self, window: float, clock: Callable[[], float], size: int = 100_000) -> None:
        self._window = window
        self._clock = clock
        self._size = size
        self._ids: OrderedDict[tuple[str, str], tuple[str, float]] = OrderedDict()

    def elsewhere(self, msg_id: tuple[str, str], target: str) -> str | None:
        """The other target ``msg_id`` went to, or None."""
        earlier = self._ids.get(msg_id)
        return earlier[0] if earlier is not None and earlier[0] != target else None

    def add(self, msg_id: tuple[str, str], target: str) -> None:
        now = self._clock()
        self._ids[msg_id] = (target, now)
        self._ids.move_to_end(msg_id)
        while self._ids and (
            len(self._ids) > self._size or next(iter(self._ids.values()))[1] < now - self._window
        ):
            self._ids.popitem(last=False)


def _describe(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}" for err in exc.errors()
    )
