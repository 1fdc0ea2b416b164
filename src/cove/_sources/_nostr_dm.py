"""How a cove message maps onto Nostr events, both ways (no I/O).

Out: a send to ``note`` is a public kind 1 note (metadata pairs become tags);
a send to an npub (or 64 hex digits) is a kind 4 event whose content is a
NIP-44 v2 payload for that pubkey, with one ``p`` tag. Both are signed by
the sending module's key.

Why kind 4 with NIP-44 v2 content and not NIP-17 gift wraps: one event
signed by the sender lets the relay and the recipient check the sender
directly, and its id is the same on every relay and every replay, so the
journal takes it once. A gift wrap is signed by a throwaway key, so each
retry of one message is a new event with a new id. The cost is metadata:
the relay sees who writes to whom and when (docs/security.md).

In: a kind 4 event is taken only if its id and BIP-340 signature check, it
is ``p``-tagged to a served module, and its payload opens with that
module's key (the MAC checks); it becomes the ``message`` event
``message:<transport>:<nostr id>`` for that module alone.
"""

from __future__ import annotations

import hmac
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .._events import Event, Message
from .._nostr import _nip44 as nip44
from .._nostr._event import NostrEvent, sign_event, verify_event
from .._nostr._keys import NostrKey, decode_npub, npub
from ..errors import NostrError

DM_KIND = 4
NOTE_KIND = 1
NOTE = "note"
"""The recipient that publishes a public note instead of a DM."""
_KEPT_CONVERSATIONS = 4096


class Conversations:
    """NIP-44 conversation keys by (own pubkey, peer), newest kept: the ECDH is most of a
    DM's cost, and agents talk to the same few peers."""

    def __init__(self, size: int = _KEPT_CONVERSATIONS) -> None:
        self._size = size
        self._keys: OrderedDict[tuple[bytes, bytes], bytes] = OrderedDict()

    def get(self, key: NostrKey, peer: bytes) -> bytes:
        pair = (key.pubkey, peer)
        found = self._keys.get(pair)
        if found is None:
            found = self._keys[pair] = nip44.conversation_key(key.secret, peer)
            if len(self._keys) > self._size:
                self._keys.popitem(last=False)
        else:
            self._keys.move_to_end(pair)
        return found


def outbound_event(
    key: NostrKey,
    recipient: str,
    body: str,
    metadata: Sequence[tuple[str, str]],
    conversations: Conversations | None = None,
    *,
    resend: Resend | None = None,
) -> NostrEvent:
    """The signed event of one send; a recipient that is no pubkey is a ``NostrError``.

    With ``resend`` the event is a function of its inputs: the same send (idempotency key,
    date, body) is the same event, byte for byte, however often it is made."""
    created_at = resend.created_at if resend is not None else None
    aux = resend.mac(key.secret, "sig", body) if resend is not None else None
    if recipient == NOTE:
        tags = [[str(k), str(v)] for k, v in metadata]
        return sign_event(
            key, kind=NOTE_KIND, content=body, tags=tags, created_at=created_at, aux=aux
        )
    to = decode_npub(recipient)
    conversation = (conversations or Conversations(1)).get(key, to)
    nonce = resend.mac(conversation, "nonce", body) if resend is not None else None
    content = nip44.encrypt(body, conversation, nonce=nonce)
    return sign_event(
        key, kind=DM_KIND, content=content, tags=[["p", to.hex()]], created_at=created_at, aux=aux
    )


@dataclass(frozen=True, slots=True)
class Resend:
    """What makes a send's event the same on every retry: its outbox key and date.

    The NIP-44 nonce (and the signature's aux bytes) are an HMAC under the conversation
    key (the sender's secret) of the idempotency key, the date and the plaintext: unique
    per distinct message, repeated only for the very same message (docs/security.md).
    """

    idempotency_key: str
    created_at: int

    def mac(self, key: bytes, purpose: str, body: str) -> bytes:
        parts = (purpose, self.idempotency_key, str(self.created_at), body)
        return hmac.digest(key, "\0".join(("cove-nostr-resend", *parts)).encode(), "sha256")


@dataclass(frozen=True, slots=True)
class Served:
    """The keys of the modules a transport serves, by module and by hex pubkey."""

    keys: Mapping[str, NostrKey]
    conversations: Conversations = field(default_factory=Conversations)

    def by_pubkey(self) -> dict[str, str]:
        return {key.pubkey.hex(): module for module, key in self.keys.items()}


def inbound_event(transport: str, event: NostrEvent, served: Served) -> Event:
    """The ``message`` event of one DM, or a ``NostrError`` saying why it is refused."""
    verify_event(event)
    if event.get("kind") != DM_KIND:
        raise NostrError(f"kind {event.get('kind')} is not a direct message ({DM_KIND})")
    modules = served.by_pubkey()
    tagged = [t[1] for t in event["tags"] if len(t) >= 2 and t[0] == "p"]
    addressed = [modules[p] for p in tagged if p in modules]
    if not addressed:
        raise NostrError("addressed to none of the served modules (p tags)")
    sender = bytes.fromhex(str(event["pubkey"]))
    module, body = _open(str(event["content"]), sender, addressed, served)
    key = served.keys[module]
    message = Message(
        transport=transport,
        sender=npub(sender),
        recipient=npub(key.pubkey),
        body=body,
        metadata=(("nostr-id", str(event["id"])), ("created-at", str(event["created_at"]))),
        addressee=module,
    )
    return Event(message, id=f"message:{transport}:{event['id']}")


def _open(content: str, sender: bytes, addressed: list[str], served: Served) -> tuple[str, str]:
    """The first addressed module whose key opens the payload, and the plaintext."""
    error = NostrError("no payload")
    for module in addressed:
        try:
            return module, nip44.decrypt(
                content, served.conversations.get(served.keys[module], sender)
            )
        except NostrError as exc:
            error = exc
    raise error


__all__ = [
    "DM_KIND",
    "NOTE",
    "Conversations",
    "Resend",
    "Served",
    "inbound_event",
    "outbound_event",
]
