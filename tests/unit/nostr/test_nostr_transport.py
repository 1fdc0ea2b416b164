"""cove._sources._nostr: sends that cannot go anywhere fail with a reason (the outbox retries)."""

from __future__ import annotations

import pytest

from cove._nostr._keys import NostrKey, npub
from cove._sources._nostr import NostrOptions, NostrTransport
from cove.errors import DeliveryError, NostrError

ALICE, BOB = NostrKey(b"\x01" * 32), NostrKey(b"\x02" * 32)


def _transport(**keys: NostrKey) -> NostrTransport:
    return NostrTransport("dm", NostrOptions(relays=("ws://127.0.0.1:9",), keys=keys))


async def test_a_send_from_a_module_not_served_names_it() -> None:
    with pytest.raises(DeliveryError, match="does not serve module 'mallory'"):
        await _transport(alice=ALICE).send_from("mallory", npub(BOB.pubkey), "hi", [], "k1")


async def test_a_send_without_a_sender_needs_a_single_served_module() -> None:
    with pytest.raises(DeliveryError, match="must name the module"):
        await _transport(alice=ALICE, bob=BOB).send(npub(BOB.pubkey), "hi", [], "k1")


async def test_with_no_relay_connected_a_send_fails_and_keeps_its_signed_event() -> None:
    transport = _transport(alice=ALICE)
    with pytest.raises(DeliveryError, match="no relay connected"):
        await transport.send(npub(BOB.pubkey), "hi", [], "k1")
    first = transport._signed["k1"]
    with pytest.raises(DeliveryError):
        await transport.send(npub(BOB.pubkey), "hi", [], "k1")
    assert transport._signed["k1"] is first  # a retry republishes the same event (same id)


async def test_a_bad_recipient_is_a_delivery_error() -> None:
    with pytest.raises(DeliveryError, match="not an npub"):
        await _transport(alice=ALICE).send("someone", "hi", [], "k1")


async def test_a_relay_closing_the_dm_subscription_ends_the_connection_with_its_reason() -> None:
    """Raised inside the relay's task: it logs the reason and reconnects (subscribing again)."""
    with pytest.raises(NostrError, match="closed the DM subscription: auth-required"):
        await _transport(alice=ALICE)._on_message(
            "ws://relay", '["CLOSED", "cove-dms", "auth-required: sign in"]'
        )
