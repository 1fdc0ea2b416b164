"""NIP-44 v2 payloads: ECDH conversation key, HKDF, padding, ChaCha20, HMAC-SHA256.

No maintained Python package here implements v2 against the official
vectors with typed code, so the construction is assembled from
``cryptography``'s primitives (HKDF-Expand, ChaCha20, HMAC) and coincurve's
ECDH; the spec's vectors check it byte for byte.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os

from coincurve import PublicKey
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from ..errors import NostrError

VERSION = 2
_SALT = b"nip44-v2"


def conversation_key(secret: bytes, pubkey: bytes) -> bytes:
    """HKDF-Extract(salt ``nip44-v2``) of the shared point's x; symmetric between the two."""
    try:
        shared = PublicKey(b"\x02" + pubkey).multiply(secret).format(compressed=True)[1:]
    except ValueError as exc:
        raise NostrError(f"no conversation key with pubkey {pubkey.hex()[:16]}…: {exc}") from None
    return hmac.digest(_SALT, shared, "sha256")


def padded_length(length: int) -> int:
    if length <= 32:
        return 32
    next_power = 1 << (length - 1).bit_length()
    chunk = 32 if next_power <= 256 else next_power // 8
    return chunk * ((length - 1) // chunk + 1)


def encrypt(plaintext: str, key: bytes, *, nonce: bytes | None = None) -> str:
    """The base64 payload; ``nonce`` is random unless a test fixes it."""
    raw = plaintext.encode()
    if not 1 <= len(raw) <= 65535:
        raise NostrError(f"a NIP-44 message is 1 to 65535 bytes, not {len(raw)}")
    nonce = os.urandom(32) if nonce is None else nonce
    chacha_key, chacha_nonce, hmac_key = _message_keys(key, nonce)
    padded = len(raw).to_bytes(2, "big") + raw + bytes(padded_length(len(raw)) - len(raw))
    ciphertext = _chacha(chacha_key, chacha_nonce, padded)
    mac = hmac.digest(hmac_key, nonce + ciphertext, "sha256")
    return base64.b64encode(bytes([VERSION]) + nonce + ciphertext + mac).decode()


def decrypt(payload: str, key: bytes) -> str:
    """The plaintext; a wrong version, length, MAC or padding is a ``NostrError``."""
    if not payload or payload[0] == "#":
        raise NostrError("NIP-44 payload: unknown encryption version")
    if not 132 <= len(payload) <= 87472:
        raise NostrError(f"NIP-44 payload: invalid length {len(payload)}")
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise NostrError("NIP-44 payload: invalid base64") from None
    if data[0] != VERSION:
        raise NostrError(f"NIP-44 payload: unknown encryption version {data[0]}")
    nonce, ciphertext, mac = data[1:33], data[33:-32], data[-32:]
    chacha_key, chacha_nonce, hmac_key = _message_keys(key, nonce)
    if not hmac.compare_digest(hmac.digest(hmac_key, nonce + ciphertext, "sha256"), mac):
        raise NostrError("NIP-44 payload: invalid MAC (tampered, or not for this key)")
    padded = _chacha(chacha_key, chacha_nonce, ciphertext)
    length = int.from_bytes(padded[:2], "big")
    if not 1 <= length <= 65535 or len(padded) != 2 + padded_length(length):
        raise NostrError("NIP-44 payload: invalid padding")
    try:
        return padded[2 : 2 + length].decode()
    except UnicodeDecodeError:
        raise NostrError("NIP-44 payload: plaintext is not UTF-8") from None


def _message_keys(key: bytes, nonce: bytes) -> tuple[bytes, bytes, bytes]:
    if len(key) != 32 or len(nonce) != 32:
        raise NostrError("NIP-44: conversation key and nonce are 32 bytes")
    out = HKDFExpand(hashes.SHA256(), 76, nonce).derive(key)
    return out[:32], out[32:44], out[44:]


def _chacha(key: bytes, nonce: bytes, data: bytes) -> bytes:
    """IETF ChaCha20, counter 0 (cryptography takes the 4-byte counter before the nonce)."""
    cipher = Cipher(algorithms.ChaCha20(key, bytes(4) + nonce), mode=None)
    return cipher.encryptor().update(data)


__all__ = ["conversation_key", "decrypt", "encrypt", "padded_length"]
