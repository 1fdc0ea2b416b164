"""NIP-01 events: the id is the SHA-256 of the canonical array, signed with BIP-340."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from coincurve import PublicKeyXOnly

from ..errors import NostrError
from ._keys import NostrKey

NostrEvent = dict[str, Any]


def event_id(pubkey: str, created_at: int, kind: int, tags: list[list[str]], content: str) -> str:
    """NIP-01's id: SHA-256 over ``[0,pubkey,created_at,kind,tags,content]``, compact UTF-8 JSON."""
    canonical = json.dumps(
        [0, pubkey, created_at, kind, tags, content], separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def sign_event(
    key: NostrKey,
    *,
    kind: int,
    content: str,
    tags: list[list[str]],
    created_at: int | None = None,
    aux: bytes | None = None,
) -> NostrEvent:
    """A complete signed event by ``key`` (``aux``: the signature's auxiliary bytes)."""
    stamp = int(time.time()) if created_at is None else created_at
    pubkey = key.pubkey.hex()
    eid = event_id(pubkey, stamp, kind, tags, content)
    return {
        "id": eid,
        "pubkey": pubkey,
        "created_at": stamp,
        "kind": kind,
        "tags": tags,
        "content": content,
        "sig": key.sign(bytes.fromhex(eid), aux).hex(),
    }


def verify_event(event: NostrEvent) -> None:
    """Raise ``NostrError`` unless the id matches the fields and the signature the pubkey."""
    try:
        pubkey, sig, eid = str(event["pubkey"]), str(event["sig"]), str(event["id"])
        expected = event_id(
            pubkey,
            int(event["created_at"]),
            int(event["kind"]),
            [[str(v) for v in tag] for tag in event["tags"]],
            str(event["content"]),
        )
        raw_pubkey, raw_sig = bytes.fromhex(pubkey), bytes.fromhex(sig)
    except (KeyError, TypeError, ValueError) as exc:
        raise NostrError(f"malformed event: {exc!r}") from None
    if expected != eid:
        raise NostrError(f"event id {eid[:16]}… does not match its content")
    try:
        valid = PublicKeyXOnly(raw_pubkey).verify(raw_sig, bytes.fromhex(eid))
    except ValueError:
        valid = False
    if not valid:
        raise NostrError(f"event {eid[:16]}…: bad signature for pubkey {pubkey[:16]}…")
