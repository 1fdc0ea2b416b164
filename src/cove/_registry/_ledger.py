"""Which publication each registry module runs, and the ones before it, kept in the store.

Why: a restart must load what was applied, not re-apply old publications;
and a reorged publication must find the version to roll back to. Each module
has a history, newest last; an entry with id ``local`` is the module as it was
loaded from the engine config before its first publication.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Final, Protocol

KEY: Final = "registry:modules"
LOCAL: Final = "local"


class StateStore(Protocol):
    def source_state(self, source: str) -> str | None: ...
    def set_source_state(self, source: str, value: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Applied:
    id: str
    version: str
    dir: str
    sha256: str | None = None

    @property
    def path(self) -> Path:
        return Path(self.dir)


class Ledger:
    def __init__(self, store: StateStore) -> None:
        self._store = store
        raw = store.source_state(KEY)
        loaded = {} if raw is None else json.loads(raw)
        self._history: dict[str, list[Applied]] = {
            name: [Applied(**entry) for entry in entries] for name, entries in loaded.items()
        }

    def current(self, name: str) -> Applied | None:
        history = self._history.get(name)
        return history[-1] if history else None

    def running(self) -> dict[str, Applied]:
        """Each module's current entry that came from a publication (what a start loads)."""
        return {
            name: history[-1]
            for name, history in self._history.items()
            if history and history[-1].id != LOCAL
        }

    def has(self, name: str, publication: str) -> bool:
        return any(entry.id == publication for entry in self._history.get(name, ()))

    def push(self, name: str, entry: Applied) -> None:
        self._history.setdefault(name, []).append(entry)
        self._save()

    def remove(self, name: str, publication: str) -> tuple[bool, Applied | None]:
        """Drop ``publication``; (was it the current one, the entry now current)."""
        history = self._history.get(name, [])
        index = next((i for i, e in enumerate(history) if e.id == publication), None)
        if index is None:
            return False, self.current(name)
        was_current = index == len(history) - 1
        del history[index]
        if not history or all(e.id == LOCAL for e in history):
            # Nothing published is left: the module is the operator's again.
            self._history.pop(name, None)
            previous = history[-1] if history else None
        else:
            previous = history[-1]
        self._save()
        return was_current, previous

    def forget(self, name: str) -> None:
        if self._history.pop(name, None) is not None:
            self._save()

    def _save(self) -> None:
        data = {name: [asdict(e) for e in history] for name, history in self._history.items()}
        self._store.set_source_state(KEY, json.dumps(data, sort_keys=True))
