"""The inbound HTTP routes: requests become journaled events, answered once durable.

``POST /messages/<transport>`` takes ``{"sender", "recipient", "body"}`` (JSON)
and becomes a ``Message``; ``X-Cove-Meta-<key>`` headers become its metadata.
``POST /webhooks/<path>`` becomes a ``Webhook`` with the raw body and headers.
Both need the server's signature or token, stay under ``max_body``, and take
``X-Cove-Delivery: <id>`` as an idempotency key: the event id is derived from
it, so a redelivery is answered 202 again but journaled once.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .._events import Event, Message, Payload, Webhook
from ._base import Publish
from ._webhook_auth import (
    DELIVERY_HEADER,
    META_PREFIX,
    SIGNATURE_HEADER,
    Credentials,
    parse_delivery_id,
)

_WEBHOOK_PATH = re.compile(r"/[\w./-]*")
# The bearer token authenticated the request; modules have no use for it.
_HIDDEN_HEADERS = frozenset({"authorization"})


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
) -> Starlette:
    """The ASGI app; ``transports`` are the names ``/messages/`` accepts."""

    async def accept(request: Request, kind: str, name: str) -> tuple[bytes, str | None] | Response:
        body = await _read_limited(request, max_body)
        if body is None:
            return _error(413, f"body is larger than {max_body} bytes (webhook.max_body)")
        headers = request.headers
        reason = credentials.check(
            body, headers.get(SIGNATURE_HEADER), headers.get("authorization")
        )
        if reason is not None:
            log.warning("webhook request refused", kind=kind, target=name, reason=reason)
            return _error(401, reason)
        delivery = headers.get(DELIVERY_HEADER)
        if delivery is not None and parse_delivery_id(delivery) is None:
            return _error(400, "X-Cove-Delivery must be 1-200 printable ASCII characters")
        return body, delivery

    async def journal(payload: Payload, kind: str, name: str, delivery: str | None) -> Response:
        event = (
            Event(payload) if delivery is None else Event(payload, id=f"{kind}:{name}:{delivery}")
        )
        try:
            await publish([event])
        except Exception as exc:  # whatever failed, the event is not durable: the sender retries
            log.error("webhook event not journaled", event_id=event.id, error=repr(exc))
            return _error(503, "the event could not be journaled; retry later")
        return JSONResponse({"id": event.id}, status_code=202)

    async def messages(request: Request) -> Response:
        transport = request.path_params["transport"]
        if transport not in transports:
            return _error(404, f"no webhook transport named {transport!r} in this engine")
        accepted = await accept(request, "message", transport)
        if isinstance(accepted, Response):
            return accepted
        body, delivery = accepted
        try:
            inbound = InboundMessage.model_validate_json(body)
        except ValidationError as exc:
            return _error(400, "body must be JSON {sender, recipient, body}: " + _describe(exc))
        metadata = tuple(
            (key[len(META_PREFIX) :], value)
            for key, value in request.headers.items()
            if key.startswith(META_PREFIX) and len(key) > len(META_PREFIX)
        )
        message = Message(transport, inbound.sender, inbound.recipient, inbound.body, metadata)
        return await journal(message, "message", transport, delivery)

    async def webhooks(request: Request) -> Response:
        path = "/" + request.path_params["path"]
        if not _WEBHOOK_PATH.fullmatch(path):
            return _error(400, "a webhook path may hold letters, digits and _ . / - only")
        accepted = await accept(request, "webhook", path)
        if isinstance(accepted, Response):
            return accepted
        body, delivery = accepted
        headers = tuple((k, v) for k, v in request.headers.items() if k not in _HIDDEN_HEADERS)
        return await journal(
            Webhook(path, request.method, headers, body), "webhook", path, delivery
        )

    return Starlette(
        routes=[
            Route("/messages/{transport}", messages, methods=["POST"]),
            Route("/webhooks/{path:path}", webhooks, methods=["POST"]),
        ]
    )


async def _read_limited(request: Request, limit: int) -> bytes | None:
    """The whole body, or None once it is known to exceed ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
    except ClientDisconnect:
        return None
    return b"".join(chunks)


def _error(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status)


def _describe(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}" for err in exc.errors()
    )
