"""Webhook transports: outbound HTTP POSTs (``cove._app`` builds them from the config).

A send POSTs ``{"recipient", "body", "metadata": [[key, value], ...]}`` with
``Idempotency-Key`` and, so one cove engine can post into another's
``/messages/``, ``X-Cove-Delivery`` (or ``webhook-id``): the same value, or a
digest of it when it is too long or not printable ASCII for a delivery id.
Any non-2xx answer or network failure raises ``DeliveryError``, and the
outbox retries later.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence

import httpx

from .._redact import error_reason, redact_url
from ..errors import DeliveryError
from . import _webhook_standard as standard
from ._base import Transport
from ._webhook_auth import DELIVERY_HEADER, SIGNATURE_HEADER, delivery_id_for, sign


class WebhookTransport(Transport):
    """Sends messages as JSON POSTs to one URL; signs them when it has a secret."""

    def __init__(
        self,
        name: str,
        url: str,
        *,
        timeout: float = 10.0,
        secret: bytes | None = None,
        standard_key: bytes | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.name = name
        self.url = url
        self._secret = secret
        self._standard_key = standard_key
        self._client = client or httpx.AsyncClient(timeout=timeout, follow_redirects=False)

    async def send(
        self, recipient: str, body: str, metadata: Sequence[tuple[str, str]], idempotency_key: str
    ) -> None:
        content = json.dumps(
            {"recipient": recipient, "body": body, "metadata": [list(m) for m in metadata]}
        ).encode()
        delivery = delivery_id_for(idempotency_key)
        headers = {
            "content-type": "application/json",
            "idempotency-key": idempotency_key,
            DELIVERY_HEADER: delivery,
        }
        if self.request_headers is not None:
            headers.update(self.request_headers())
        if self._secret is not None:
            headers[SIGNATURE_HEADER] = sign(self._secret, content)
        if self._standard_key is not None:
            now = int(time.time())
            headers[standard.ID_HEADER] = delivery
            headers[standard.TIMESTAMP_HEADER] = str(now)
            headers[standard.SIGNATURE_HEADER] = standard.sign(
                self._standard_key, delivery, now, content
            )
        try:
            response = await self._client.post(self.url, content=content, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(
                f"transport {self.name!r}: POST {redact_url(self.url)} failed: {error_reason(exc)}"
            ) from exc
        if not response.is_success:
            raise DeliveryError(
                f"transport {self.name!r}: POST {redact_url(self.url)} answered "
                f"{response.status_code}"
            )

    async def aclose(self) -> None:
        await self._client.aclose()
