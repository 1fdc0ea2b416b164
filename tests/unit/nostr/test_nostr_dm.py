"""cove._sources._nostr_dm: sends as signed events, DMs in as addressed message events."""

from __future__ import annotations

import base64

import pytest

from cove._events import Message
from cove._nostr import _nip44 as nip44
from cove._nostr._event import sign_event, verify_event
from cove._nostr._keys import NostrKey, npub
from cove._sources._nostr_dm import Resend, Served, inbound_event, outbound_event
from cove.errors import NostrError

ALICE, BOB, CAROL = (NostrKey(bytes([n]) * 32) for n in (1, 2, 3))
SERVED = Served({"bob": BOB, "carol": CAROL})


def test_a_dm_out_is_sealed_for_the_recipient_and_opens_as_an_addressed_message() -> None:
    dm = outbound_event(ALICE, npub(BOB.pubkey), "hi bob", [("ignored", "x")])
    verify_event(dm)
    assert (dm["kind"], dm["tags"]) == (4, [["p", BOB.pubkey.hex()]])
    assert "hi bob" not in dm["content"]
    event = inbound_event("dm", dm, SERVED)
    assert event.id == f"message:dm:{dm['id']}"
    assert event.payload == Message(
        "dm",
        npub(ALICE.pubkey),
        npub(BOB.pubkey),
        "hi bob",
        (("nostr-id", dm["id"]), ("created-at", str(dm["created_at"]))),
        addressee="bob",
    )


def test_a_note_is_public_and_carries_the_metadata_as_tags() -> None:
    note = outbound_event(ALICE, "note", "hello world", [("t", "cove")])
    verify_event(note)
    assert (note["kind"], note["content"], note["tags"]) == (1, "hello world", [["t", "cove"]])


def test_a_recipient_that_is_no_pubkey_is_refused() -> None:
    with pytest.raises(NostrError, match="not an npub"):
        outbound_event(ALICE, "bob@example.com", "hi", [])


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (sign_event(ALICE, kind=1, content="x", tags=[["p", BOB.pubkey.hex()]]), "kind 1"),
        (sign_event(ALICE, kind=4, content="x", tags=[["p", "ab" * 32]]), "none of the served"),
        (
            sign_event(
                ALICE,
                kind=4,
                content=nip44.encrypt("x", nip44.conversation_key(ALICE.secret, CAROL.pubkey)),
                tags=[["p", BOB.pubkey.hex()]],
            ),
            "invalid MAC",
        ),
    ],
    ids=["not-a-dm", "unaddressed", "sealed-for-another"],
)
def test_refused_dms_say_why(event: dict[str, object], reason: str) -> None:
    with pytest.raises(NostrError, match=reason):
        inbound_event("dm", event, SERVED)


def test_a_dm_tagging_two_served_modules_goes_to_the_one_it_is_sealed_for() -> None:
    sealed = nip44.encrypt("for carol", nip44.conversation_key(ALICE.secret, CAROL.pubkey))
    dm = sign_event(
        ALICE, kind=4, content=sealed, tags=[["p", BOB.pubkey.hex()], ["p", CAROL.pubkey.hex()]]
    )
    event = inbound_event("dm", dm, SERVED)
    assert isinstance(event.payload, Message)
    assert (event.payload.addressee, event.payload.body) == ("carol", "for carol")


def test_a_resent_dm_is_the_same_event_and_another_message_never_shares_its_nonce() -> None:
    to = npub(BOB.pubkey)
    resend = Resend("alice:event-1:0", 1_700_000_000)
    first = outbound_event(ALICE, to, "offer 60", [], resend=resend)
    assert first == outbound_event(ALICE, to, "offer 60", [], resend=resend)  # sig too
    assert 1_700_000_000 == first["created_at"]
    verify_event(first)
    assert "offer 60" == inbound_event("dm", first, SERVED).payload.body  # type: ignore[union-attr]

    def nonce(event: dict[str, object]) -> bytes:
        return base64.b64decode(str(event["content"]))[1:33]

    others = [
        outbound_event(ALICE, to, "offer 61", [], resend=resend),  # a hook changed the body
        outbound_event(ALICE, to, "offer 60", [], resend=Resend("alice:event-1:1", 1_700_000_000)),
        outbound_event(ALICE, to, "offer 60", [], resend=Resend("alice:event-1:0", 1_700_000_001)),
        outbound_event(ALICE, npub(CAROL.pubkey), "offer 60", [], resend=resend),
        outbound_event(ALICE, to, "offer 60", []),  # no resend: random
    ]
    assert len({nonce(first), *map(nonce, others)}) == 6
