"""The module file view: every module as a read-only tree of what the engine knows of it.

::

    <module>/status            its status (JSON, as GET /v1/modules/<name>)
    <module>/config            its effective [config] (JSON)
    <module>/state/<key>       one state value (text when UTF-8, else bytes)
    <module>/inbox             the newest events it handled (JSON)
    <module>/outbox            its newest effects and dead letters (JSON)
    <module>/trajectories/<id>.json   its newest trajectories, one file each
    <module>/identity/address, public_key, npub   when it has an identity
    <module>/tools             its tools (JSON)
    <module>/budget            its [budgets.<module>] use and its held actions (JSON)

Design note: one resolver behind three surfaces (``/v1/fs``, MCP resources,
``cove fs``), so they cannot disagree. Nothing is copied or cached: each read
asks the store, the trajectory store and the engine's status at that moment,
so a file is as fresh as the engine. Reads are synchronous (store queries);
callers run them off the event loop. A part with nothing in it yet is an
empty directory or an empty JSON list, never an error.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal

from .._event_codec import event_to_json
from .._observe._trajectories import TrajectoryQuery
from .._store._base import JournalEntry
from ..errors import FilePathError
from ._api import status_json
from ._fs_path import encode_name, join_path, split_path

if TYPE_CHECKING:
    from ._view import EngineView

INBOX_EVENTS: Final = 50
"""Newest handled events the inbox shows."""
INBOX_SCAN: Final = 2_000
"""Journal entries before the module's cursor the inbox looks through, at most."""
INBOX_WINDOW: Final = 100
"""Entries read at a time, newest first, until the inbox is full."""
OUTBOX_EFFECTS: Final = 50
DEAD_LETTERS: Final = 20
TRAJECTORIES: Final = 50
"""Newest trajectories listed in ``trajectories/``."""

JSON: Final = "application/json"
TEXT: Final = "text/plain; charset=utf-8"
BYTES: Final = "application/octet-stream"


@dataclass(frozen=True, slots=True)
class Entry:
    """One name in a directory, encoded (``a%2Fb``), and whether it is a directory."""

    name: str
    kind: Literal["dir", "file"]


@dataclass(frozen=True, slots=True)
class Directory:
    path: str
    entries: list[Entry]

    def to_json(self) -> dict[str, Any]:
        entries = [{"name": e.name, "type": e.kind} for e in self.entries]
        return {"path": self.path, "type": "dir", "entries": entries}


@dataclass(frozen=True, slots=True)
class File:
    path: str
    data: bytes
    media_type: str


Node = Directory | File

_TOP: Final = [
    Entry("status", "file"),
    Entry("config", "file"),
    Entry("state", "dir"),
    Entry("inbox", "file"),
    Entry("outbox", "file"),
    Entry("trajectories", "dir"),
    Entry("identity", "dir"),
    Entry("tools", "file"),
    Entry("budget", "file"),
]


def _json(value: Any) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode()


class ModuleFiles:
    """Resolves view paths (``<module>/<part>/...``, names percent-encoded) on one engine."""

    def __init__(self, engine: EngineView) -> None:
        self._engine = engine
        self._files: dict[str, Callable[[str], bytes]] = {
            "status": self._status,
            "config": self._config,
            "inbox": self._inbox,
            "outbox": self._outbox,
            "tools": self._tools,
            "budget": self._budget,
        }

    def modules(self) -> list[str]:
        return sorted(s.name for s in self._engine.status())

    def read(self, path: str) -> Node:
        """The directory or file at ``path``; ``FilePathError`` when it names nothing."""
        names = split_path(path)
        shown = join_path(names)
        if not names:
            return Directory("", [Entry(encode_name(m), "dir") for m in self.modules()])
        module, rest = names[0], names[1:]
        # A loaded module answers module_info cheaply; status() (which also lists the
        # modules still compiling) costs a query of the outbox and /proc reads.
        if self._engine.module_info(module) is None and module not in self.modules():
            raise FilePathError(shown, f"no module named {module!r} is loaded")
        if not rest:
            return Directory(shown, list(_TOP))
        part, below = rest[0], rest[1:]
        if part in self._files and not below:
            return File(shown, self._files[part](module), JSON)
        if part == "state":
            return self._state(shown, module, below)
        if part == "trajectories":
            return self._trajectories(shown, module, below)
        if part == "identity":
            return self._identity(shown, module, below)
        raise FilePathError(shown, f"module {module!r} has no file or directory here")

    def files(self, module: str) -> list[str]:
        """Every file path under ``module`` (the MCP resource list): directories are
        listed, files are not read."""
        found: list[str] = []
        pending = [encode_name(module)]
        while pending:
            node = self.read(pending.pop())
            assert isinstance(node, Directory)
            for entry in node.entries:
                path = f"{node.path}/{entry.name}"
                if entry.kind == "dir":
                    pending.append(path)
                else:
                    found.append(path)
        return sorted(found)

    # files -----------------------------------------------------------------------
    def _status(self, module: str) -> bytes:
        for status in self._engine.status():
            if status.name == module:
                return _json(status_json(status))
        raise FilePathError(f"{module}/status", f"no module named {module!r} is loaded")

    def _budget(self, module: str) -> bytes:
        budgets = next((s.budgets for s in self._engine.status() if s.name == module), {})
        held = self._engine.held_actions(module, 100)
        return _json({"budgets": budgets, "held": held})

    def _config(self, module: str) -> bytes:
        info = self._engine.module_info(module)
        return _json({} if info is None else info.config)

    def _inbox(self, module: str) -> bytes:
        """Its newest handled events: journal entries up to its cursor that it subscribes to."""
        store = self._engine.store
        cursor = store.cursor(module)
        floor = max(0, cursor - INBOX_SCAN)
        found: list[JournalEntry] = []
        end = cursor
        while end > floor and len(found) < INBOX_EVENTS:  # back from the cursor, a window at a time
            start = max(floor, end - INBOX_WINDOW)
            window = [
                e
                for e in store.read(start, end - start)
                if e.seq <= end and self._engine.subscribes(module, e.event)
            ]
            found.extend(reversed(window))
            end = start
        events = [
            {"seq": e.seq, **json.loads(event_to_json(e.event))} for e in found[:INBOX_EVENTS]
        ]
        return _json(events)

    def _outbox(self, module: str) -> bytes:
        store = self._engine.store
        effects = [
            {
                "id": e.id,
                "kind": e.kind,
                "delivered": e.delivered,
                "attempts": e.attempts,
                "created_ms": e.created_ms,
                "done_ms": e.done_ms or None,
                "last_error": e.last_error or None,
                "body": _parsed(e.body),
            }
            for e in store.recent_effects(module, OUTBOX_EFFECTS)
        ]
        dead = [
            {
                "id": d.id,
                "kind": d.kind,
                "transport": d.transport or None,
                "attempts": d.attempts,
                "dead_ms": d.dead_ms,
                "last_error": d.last_error,
                "body": _parsed(d.body or ""),
            }
            for d in store.dead_letters(module, DEAD_LETTERS, True)
        ]
        return _json({"effects": effects, "dead_letters": dead})

    def _tools(self, module: str) -> bytes:
        tools = [
            {"name": t.name, "description": t.description, "input_schema": t.input_schema}
            for t in self._engine.tools.all()
            if t.module == module
        ]
        return _json(tools)

    # directories ----------------------------------------------------------------
    def _state(self, shown: str, module: str, below: list[str]) -> Node:
        store = self._engine.store
        if not below:
            keys = store.list_keys(module, "")
            return Directory(shown, [Entry(encode_name(k), "file") for k in keys])
        value = store.get(module, below[0]) if len(below) == 1 else None
        if value is None:
            raise FilePathError(shown, f"module {module!r} has no state key {below[0]!r}")
        try:
            value.decode("utf-8")
        except UnicodeDecodeError:
            return File(shown, value, BYTES)
        return File(shown, value, TEXT)

    def _trajectories(self, shown: str, module: str, below: list[str]) -> Node:
        store = self._engine.trajectories
        if not below:
            found = (
                [] if store is None else store.query(TrajectoryQuery(module, limit=TRAJECTORIES))
            )
            return Directory(shown, [Entry(f"{t.id}.json", "file") for t in found])
        stem = below[0].removesuffix(".json")
        if store is not None and len(below) == 1 and below[0].endswith(".json") and stem.isdigit():
            found = store.query(TrajectoryQuery(module=module, after_id=int(stem) - 1, limit=1))
            if found and found[0].id == int(stem):
                return File(shown, _json(found[0].to_json()), JSON)
        raise FilePathError(shown, f"module {module!r} has no trajectory {below[0]!r}")

    def _identity(self, shown: str, module: str, below: list[str]) -> Node:
        info = self._engine.module_info(module)
        parts = (
            {}
            if info is None
            else {"address": info.address, "public_key": info.public_key, "npub": info.npub}
        )
        present = {name: value for name, value in parts.items() if value}
        if not below:
            return Directory(shown, [Entry(name, "file") for name in present])
        if len(below) == 1 and below[0] in present:
            return File(shown, (present[below[0]] + "\n").encode(), TEXT)
        raise FilePathError(shown, f"module {module!r} has no identity file {below[0]!r}")


def _parsed(body: str) -> Any:
    """An effect's body as JSON when it is JSON (it always is today), else its text."""
    try:
        return json.loads(body)
    except ValueError:
        return body
