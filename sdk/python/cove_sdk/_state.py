"""JSON state over ``cove:host/store`` with writes buffered until the event ends.

Values are JSON text, so they cross as text (``get-text``/``set-text``, one
copy each and no ``result`` to lift); several writes go in one ``set-many``.
"""

import json
from typing import Any

from ._errors import HostError
from ._host import call, host_error, store

_DELETE = object()


class State:
    """Key/value state; writes become visible to the host in one call at the end of the event."""

    def __init__(self) -> None:
        self._pending: dict[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        """The JSON value of ``key`` (this event's own writes included), or ``default``."""
        if key in self._pending:
            value = self._pending[key]
            return default if value is _DELETE else value
        raw, error = store().get_text(key)
        if error is not None:
            raise host_error(error)
        return default if raw is None else json.loads(raw)

    def get_many(self, keys: list[str], default: Any = None) -> list[Any]:
        """The JSON values of ``keys`` in one host call (``default`` where absent)."""
        self.flush()
        raws = call("store", "get_many", keys)
        return [default if raw is None else json.loads(raw) for raw in raws]

    def set(self, key: str, value: Any) -> None:
        """Write a JSON-encodable value; sent with the event's other writes when it ends."""
        self._pending[key] = value

    def delete(self, key: str) -> None:
        """Remove ``key`` (no error when it is absent)."""
        self._pending[key] = _DELETE

    def incr(self, key: str, by: int = 1) -> int:
        """Add ``by`` to an integer value (absent counts as 0); the new value."""
        value = int(self.get(key, 0)) + by
        self.set(key, value)
        return value

    def keys(self, prefix: str = "") -> list[str]:
        """The keys that start with ``prefix``, sorted (flushes buffered writes first)."""
        self.flush()
        return list(call("store", "list_keys", prefix))

    def flush(self) -> None:
        """Send buffered writes in one ``set-many`` (deletes one by one)."""
        if not self._pending:
            return
        pending, self._pending = self._pending, {}
        writes = [(k, json.dumps(v)) for k, v in pending.items() if v is not _DELETE]
        if len(writes) == 1:
            error = store().set_text(*writes[0])
            if error is not None:
                raise host_error(error)
        elif writes:
            call("store", "set_many", [(k, v.encode()) for k, v in writes])
        for key, value in pending.items():
            if value is _DELETE:
                call("store", "delete", key)

    def discard(self) -> None:
        """Drop buffered writes (the SDK does this when an event fails)."""
        self._pending = {}


state = State()

__all__ = ["HostError", "State", "state"]
