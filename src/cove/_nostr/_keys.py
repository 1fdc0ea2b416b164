"""A module's secp256k1 key seen as a Nostr identity: x-only pubkey, npub and nsec.

The key is the same one the module's Ethereum v3 keystore holds; Nostr uses
its BIP-340 x-only form. coincurve (libsecp256k1) does the curve work and
``bech32`` the NIP-19 encoding; cove adds no curve arithmetic of its own.
"""

from __future__ import annotations

import os

from bech32 import bech32_decode, bech32_encode, convertbits
from coincurve import PrivateKey

from ..errors import NostrError


class NostrKey:
    """A secret key that signs events and derives NIP-44 keys; ``repr`` shows the npub only."""

    __slots__ = ("_secret", "pubkey")

    def __init__(self, secret: bytes) -> None:
        try:
            private = PrivateKey(secret)
        except ValueError as exc:
            raise NostrError(f"not a secp256k1 secret key: {exc}") from None
        self._secret = private
        self.pubkey: bytes = private.public_key_xonly.format()
        """The 32-byte x-only public key (hex of it is the event ``pubkey``)."""

    def __repr__(self) -> str:
        return f"NostrKey({npub(self.pubkey)})"

    @property
    def secret(self) -> bytes:
        return self._secret.secret

    def sign(self, digest: bytes, aux: bytes | None = None) -> bytes:
        """BIP-340 Schnorr signature of a 32-byte digest; fresh auxiliary randomness unless
        ``aux`` is given (BIP-340 is safe with any aux: it only hardens against side channels)."""
        return self._secret.sign_schnorr(digest, os.urandom(32) if aux is None else aux)


def npub(pubkey: bytes) -> str:
    """NIP-19 ``npub1…`` of a 32-byte x-only public key."""
    return _encode("npub", pubkey)


def nsec(secret: bytes) -> str:
    """NIP-19 ``nsec1…`` of a 32-byte secret key."""
    return _encode("nsec", secret)


def decode_npub(text: str) -> bytes:
    """The x-only pubkey of an ``npub1…`` or of 64 hex digits."""
    text = text.strip()
    if len(text) == 64:
        try:
            return bytes.fromhex(text)
        except ValueError:
            pass
    hrp, data = bech32_decode(text)
    raw = None if data is None else convertbits(data, 5, 8, False)
    if hrp != "npub" or raw is None or len(raw) != 32:
        raise NostrError(f"{text[:80]!r} is not an npub (npub1…) nor 64 hex digits of a pubkey")
    return bytes(raw)


def _encode(hrp: str, raw: bytes) -> str:
    words = convertbits(raw, 8, 5, True)
    assert words is not None
    return str(bech32_encode(hrp, words))
