"""NIP-44 v2 against the spec's official vectors; BIP-340 events and NIP-19 keys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cove._nostr import _nip44 as nip44
from cove._nostr._event import sign_event, verify_event
from cove._nostr._keys import NostrKey, decode_npub, npub, nsec
from cove.errors import NostrError

VECTORS = json.loads((Path(__file__).parent / "nip44_vectors.json").read_text())


def _xonly(secret_hex: str) -> bytes:
    return NostrKey(bytes.fromhex(secret_hex)).pubkey


@pytest.mark.parametrize("v", VECTORS["get_conversation_key"])
def test_conversation_key_vectors(v: dict[str, str]) -> None:
    key = nip44.conversation_key(bytes.fromhex(v["sec1"]), bytes.fromhex(v["pub2"]))
    assert key.hex() == v["conversation_key"]


@pytest.mark.parametrize("v", VECTORS["encrypt_decrypt"])
def test_encrypt_decrypt_vectors(v: dict[str, str]) -> None:
    key = nip44.conversation_key(bytes.fromhex(v["sec1"]), _xonly(v["sec2"]))
    assert key.hex() == v["conversation_key"]
    assert nip44.encrypt(v["plaintext"], key, nonce=bytes.fromhex(v["nonce"])) == v["payload"]
    reverse = nip44.conversation_key(bytes.fromhex(v["sec2"]), _xonly(v["sec1"]))
    assert nip44.decrypt(v["payload"], reverse) == v["plaintext"]


@pytest.mark.parametrize(("length", "padded"), VECTORS["calc_padded_len"])
def test_padded_length_vectors(length: int, padded: int) -> None:
    assert nip44.padded_length(length) == padded


@pytest.mark.parametrize("v", VECTORS["invalid_decrypt"], ids=lambda v: v["note"])
def test_invalid_payloads_are_refused(v: dict[str, str]) -> None:
    with pytest.raises(NostrError):
        nip44.decrypt(v["payload"], bytes.fromhex(v["conversation_key"]))


def test_a_flipped_ciphertext_bit_fails_the_mac() -> None:
    key = nip44.conversation_key(bytes.fromhex("11" * 32), _xonly("22" * 32))
    raw = bytearray(nip44.encrypt("hello", key).encode())
    raw[50] = ord("A") if raw[50] != ord("A") else ord("B")
    with pytest.raises(NostrError, match="MAC"):
        nip44.decrypt(raw.decode(), key)


def test_npub_and_nsec_round_trip_bip340_pubkey() -> None:
    # NIP-19's example: this npub is the hex pubkey below.
    hex_pubkey = "7e7e9c42a91bfef19fa929e5fda1b72e0ebc1a4c1141673e2794234d86addf4e"
    encoded = "npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjptg"
    assert npub(bytes.fromhex(hex_pubkey)) == encoded
    assert decode_npub(encoded) == bytes.fromhex(hex_pubkey)
    assert decode_npub(hex_pubkey) == bytes.fromhex(hex_pubkey)
    secret = bytes.fromhex("67dea2ed018072d675f5415ecfaed7d2597555e202d85b3d65ea4e58d2d92ffa")
    assert nsec(secret) == "nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe5"


def test_bad_npub_names_itself() -> None:
    with pytest.raises(NostrError, match="npub"):
        decode_npub("npub1notvalid")


def test_signed_event_verifies_and_a_changed_one_does_not() -> None:
    key = NostrKey(bytes.fromhex("33" * 32))
    event = sign_event(key, kind=1, content="hi", tags=[["t", "cove"]], created_at=1_700_000_000)
    assert event["pubkey"] == key.pubkey.hex()
    verify_event(event)
    with pytest.raises(NostrError, match="id"):
        verify_event({**event, "content": "changed"})
    other = sign_event(key, kind=1, content="other", tags=[], created_at=1_700_000_000)
    with pytest.raises(NostrError, match="signature"):
        verify_event({**event, "sig": other["sig"]})
