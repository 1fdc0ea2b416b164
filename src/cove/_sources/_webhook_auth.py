"""Who may post to the webhook server: an HMAC-SHA256 signature or a bearer token.

Parsers return ``None`` for anything malformed instead of raising: a header
is attacker-controlled input, and every bad shape means the same thing
(401). Comparisons are constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Final

SIGNATURE_HEADER: Final = "x-cove-signature"
DELIVERY_HEADER: Final = "x-cove-delivery"
META_PREFIX: Final = "x-cove-meta-"

_SIGNATURE = re.compile(r"sha256=([0-9a-fA-F]{64})")
_BEARER = re.compile(r"[Bb][Ee][Aa][Rr][Ee][Rr] +([\x21-\x7e]+)")
_DELIVERY = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]{0,198}[\x21-\x7e])?")


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


@dataclass(frozen=True, slots=True)
class Credentials:
    """What the server accepts; with neither set, requests are not authenticated."""

    secret: bytes | None = None
    token: str | None = None

    @property
    def required(self) -> bool:
        return self.secret is not None or self.token is not None

    def check(self, body: bytes, signature: str | None, authorization: str | None) -> str | None:
        """None if the request is authentic, else the reason it is not."""
        if not self.required:
            return None
        if self.secret is not None and signature is not None:
            digest = parse_signature(signature)
            if digest is None:
                return "malformed X-Cove-Signature (expected sha256=<64 hex digits>)"
            expected = hmac.new(self.secret, body, hashlib.sha256).digest()
            if hmac.compare_digest(digest, expected):
                return None
            return "X-Cove-Signature does not match the body"
        if self.token is not None and authorization is not None:
            token = parse_bearer(authorization)
            if token is not None and hmac.compare_digest(token.encode(), self.token.encode()):
                return None
            return "bearer token does not match"
        wanted = " or ".join(
            name
            for name, on in (
                ("X-Cove-Signature", self.secret),
                ("Authorization: Bearer", self.token),
            )
            if on is not None
        )
        return f"missing {wanted} header"
