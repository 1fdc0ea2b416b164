"""JSON state over ``cove:host/store`` with writes buffered until the event ends."""

import json
from typing import Any

from componentize_py_types import Err

from ._host import HostError, missing, unwrap

try:
    from wit_world.imports import store as _store
except ImportError:
    _store = None

_DELETE = object()


class State:
    def __init__(self) -> None:
        self._pending: dict[str, Any] = {}

    def _api(self) -> Any:
        if _store is None:
            raise missing("store")
        return _store

    def get(self, key: str, default: Any = None) -> Any:
        if key in self._pending:
            value = self._pending[key]
            return default if value is _DELETE else value
        try:
            raw = self._api().get(key)
        except Err as err:
            error = unwrap(err)
            if error.kind == "not-found":
                return default
            raise error from None
        return json.loads(raw)

    def set(self, key: str, value: Any) -> None:
        self._pending[key] = value

    def delete(self, key: str) -> None:
        self._pending[key] = _DELETE

    def incr(self, key: str, by: int = 1) -> int:
        value = int(self.get(key, 0)) + by
        self.set(key, value)
        return value

    def keys(self, prefix: str = "") -> list[str]:
        self.flush()
        try:
            return list(self._api().list_keys(prefix))
        except Err as err:
            raise unwrap(err) from None

    def flush(self) -> None:
        """Send buffered writes in one ``set-many`` (deletes one by one)."""
        if not self._pending:
            return
        pending, self._pending = self._pending, {}
        api = self._api()
        try:
            writes = [(k, json.dumps(v).encode()) for k, v in pending.items() if v is not _DELETE]
            if writes:
                api.set_many(writes)
            for key, value in pending.items():
                if value is _DELETE:
                    api.delete(key)
        except Err as err:
            raise unwrap(err) from None

    def discard(self) -> None:
        self._pending = {}


state = State()

__all__ = ["HostError", "State", "state"]
