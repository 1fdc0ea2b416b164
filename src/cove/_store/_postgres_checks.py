"""What a commit is checked for before any of it goes to PostgreSQL.

Design note: a commit sends its statements without a SAVEPOINT (one per event
batch made PostgreSQL track thousands of subtransactions in one group commit,
slowing every snapshot on the server), so anything the server would refuse
is refused here first, and the open batch never holds half an event. Text must
be ``str``, encodable as UTF-8 and free of NUL (which PostgreSQL's ``text``
cannot hold, though SQLite can); values must be bytes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..errors import StoreError
from ._base import NewEffect


def checked_effects(
    where: str,
    module: str,
    writes: Mapping[str, bytes | None],
    effects: Sequence[tuple[str, Sequence[NewEffect]]],
) -> list[tuple[str, str, str, int]]:
    """The outbox rows (key, kind, body, not-before ms) of ``effects``; raises before anything is sent.

    ``where`` starts the StoreError's message. A key that is not UTF-8 raises
    ``UnicodeEncodeError`` as on SQLite.
    """
    _text(where, "module", module)
    for key, value in writes.items():
        _text(where, "state key", key)
        if value is not None and not isinstance(value, bytes | bytearray | memoryview):
            raise StoreError(f"{where}: the value of {key!r} is not bytes")
    queued = []
    for event_id, event_effects in effects:
        for index, effect in enumerate(event_effects):
            _text(where, "effect kind", effect.kind)
            _text(where, "effect body", effect.body)
            key = f"{module}:{event_id}:{index}"
            queued.append((key, effect.kind, effect.body, effect.not_before_ms))
    for key, _, _, _ in queued:
        _text(where, "effect key", key)
    return queued


def _text(where: str, what: str, value: object) -> None:
    if not isinstance(value, str):
        raise StoreError(f"{where}: the {what} is a {type(value).__name__}, not text")
    value.encode()
    if "\x00" in value:
        raise StoreError(
            f"{where}: the {what} holds a NUL character, which PostgreSQL cannot store"
        )
