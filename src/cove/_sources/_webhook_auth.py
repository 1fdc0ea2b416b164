"""Who may post to the webhook server: an HMAC-SHA256 signature (two schemes) or a bearer token.

Parsers return ``None`` for anything malformed instead of raising: a header
is attacker-controlled input, and every bad shape means the same thing
(401). Comparisons are constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from . import _webhook_standard as standard
from ._webhook_standard import parse_timestamp

SIGNATURE_HEADER: Final = "x-cove-signature"
DELIVERY_HEADER: Final = "x-cove-delivery"
META_PREFIX: Final = "x-cove-meta-"

_SIGNATURE = re.compile(r"sha256=([0-9a-fA-F]{64})")
_BEARER = re.compile(r"[Bb][Ee][Aa][Rr][Ee][Rr] +([\x21-\x7e]+)")
_DELIVERY = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]{0,198}[\x21-\x7e])?")
_MALFORMED: Final = "malformed X-Cove-Signature (expected sha256=<64 hex digits>)"


def sign(secret: bytes, body: bytes) -> str:
    """The ``X-Cove-Signature`` value for ``body``: ``sha256=<hex>``."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def parse_signature(value: str) -> bytes | None:
    """The digest in a ``sha256=<64 hex>`` header value, or None if malformed."""
    match = _SIGNATURE.fullmatch(value.strip())
    return bytes.fromhex(match.group(1)) if match else None


def parse_bearer(value: str) -> str | None:
    """The token in an ``Authorization: Bearer <token>`` value, or None."""
    match = _BEARER.fullmatch(value.strip())
    return match.group(1) if match else None


def parse_delivery_id(value: str) -> str | None:
    """A delivery id: 1-200 printable ASCII characters, not starting or ending in a space."""
    return value if _DELIVERY.fullmatch(value) else None


def delivery_id_for(idempotency_key: str) -> str:
    """The delivery id a send carries: the key itself when a receiver takes it, else a stable digest.

    Keys like ``<module>:<event id>:<index>`` can outgrow the 200-character
    bound; such a key sent verbatim would be refused on every retry. The
    digest is the same on every attempt, so a redelivery is still one event.
    """
    if parse_delivery_id(idempotency_key) is not None:
        return idempotency_key
    return "msg_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Credentials:
    """What the server accepts; with none set, requests are not authenticated.

    ``secret`` is the key of cove's own scheme (``X-Cove-Signature``, the
    body alone); ``standard`` the keys of the Standard Webhooks scheme (id,
    timestamp and body; several while a key is rotated); ``token`` a bearer
    token. Everything that can be decided from the headers is decided
    before the body is read (``before_body``).
    """

    secret: bytes | None = None
    token: str | None = None
    standard: tuple[bytes, ...] = ()
    tolerance: float = 300.0

    @property
    def required(self) -> bool:
        return self.secret is not None or self.token is not None or bool(self.standard)

    def before_body(self, headers: Mapping[str, str], now: float) -> tuple[str | None, bool]:
        """``(refusal, verify_body)``: why the request is refused, else whether its body must be checked."""
        if not self.required:
            return None, False
        signature = headers.get(standard.SIGNATURE_HEADER)
        if self.standard and signature is not None:
            return self._standard_headers(headers, signature, now), True
        cove_signature = headers.get(SIGNATURE_HEADER)
        if self.secret is not None and cove_signature is not None:
            if parse_signature(cove_signature) is None:
                return _MALFORMED, False
            return None, True
        authorization = headers.get("authorization")
        if self.token is not None and authorization is not None:
            token = parse_bearer(authorization)
            if token is not None and hmac.compare_digest(token.encode(), self.token.encode()):
                return None, False
            return "bearer token does not match", False
        wanted = " or ".join(
            name
            for name, on in (
                ("webhook-id/webhook-timestamp/webhook-signature", self.standard),
                ("X-Cove-Signature", self.secret is not None),
                ("Authorization: Bearer", self.token is not None),
            )
            if on
        )
        return f"missing {wanted} header", False

    def _standard_headers(
        self, headers: Mapping[str, str], signature: str, now: float
    ) -> str | None:
        if not standard.signatures(signature):
            return "webhook-signature holds no v1,<base64 HMAC-SHA256> entry"
        msg_id = headers.get(standard.ID_HEADER)
        if msg_id is None or parse_delivery_id(msg_id) is None:
            return "webhook-id must be 1-200 printable ASCII characters"
        sent = parse_timestamp(headers.get(standard.TIMESTAMP_HEADER, ""))
        if sent is None:
            return "webhook-timestamp must be whole Unix seconds"
        if abs(now - sent) > self.tolerance:
            return (
                f"webhook-timestamp is {int(now - sent)} s from this engine's clock; "
                f"more than the {int(self.tolerance)} s tolerance (webhook.tolerance)"
            )
        return None

    def verify_body(self, body: bytes, headers: Mapping[str, str]) -> str | None:
        """After ``before_body`` asked for it: None if the signature covers this body."""
        signature = headers.get(standard.SIGNATURE_HEADER)
        if self.standard and signature is not None:
            msg_id = headers.get(standard.ID_HEADER, "")
            timestamp = headers.get(standard.TIMESTAMP_HEADER, "")
            if standard.verify(self.standard, msg_id, timestamp, signature, body):
                return None
            return "webhook-signature does not match webhook-id, webhook-timestamp and the body"
        digest = parse_signature(headers.get(SIGNATURE_HEADER, ""))
        if digest is None or self.secret is None:
            return _MALFORMED
        expected = hmac.new(self.secret, body, hashlib.sha256).digest()
        if hmac.compare_digest(digest, expected):
            return None
        return "X-Cove-Signature does not match the body"

    def check(self, body: bytes, signature: str | None, authorization: str | None) -> str | None:
        """None if a request of cove's scheme or with a bearer token is authentic, else why not."""
        headers = {
            k: v
            for k, v in ((SIGNATURE_HEADER, signature), ("authorization", authorization))
            if v is not None
        }
        refusal, verify = self.before_body(headers, 0.0)
        if refusal is None and verify:
            return self.verify_body(body, headers)
        return refusal
