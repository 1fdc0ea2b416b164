"""An event as ``handle`` receives it (cove:host@0.3): one string, decoded on first read.

The layout is in ``wit/host.wit`` (``module.handle``). Dispatch reads only the
kind digit; a handler's ``event`` and ``meta`` decode their fields the first
time one is read, all of that object's fields at once, and keep them as plain
attributes. A handler that never looks at the event pays nothing for it.
Attribute names and types are those of the generated bindings' records
(``event.chain_id``, ``event.topics`` as a list, ``event.data`` as bytes,
``event.metadata`` as a list of pairs, ``meta.attempt``).
"""

import importlib
from typing import Any

KINDS = ("block", "log", "tick", "message", "webhook", "custom", "lifecycle")
PHASES = ("started", "stopping", "reloaded")

# Each kind's fields in WIT order, with their codes: s string, b bytes,
# q u64, i u32, ? bool, S list<string>, H list<header>, p lifecycle phase.
_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "block": (("chain_id", "q"), ("number", "q"), ("hash", "s"), ("parent_hash", "s"),
              ("timestamp", "q")),
    "log": (("chain_id", "q"), ("block_number", "q"), ("block_hash", "s"),
            ("transaction_hash", "s"), ("log_index", "i"), ("address", "s"), ("topics", "S"),
            ("data", "b"), ("removed", "?")),
    "tick": (("schedule", "s"), ("scheduled_at_ms", "q")),
    "message": (("transport", "s"), ("sender", "s"), ("recipient", "s"), ("body", "s"),
                ("metadata", "H")),
    "webhook": (("path", "s"), ("method", "s"), ("headers", "H"), ("body", "b")),
    "custom": (("name", "s"), ("source", "s"), ("payload", "s")),
    "lifecycle": (("phase", "p"), ("detail", "s")),
}  # fmt: skip


def _item(raw: str, at: int) -> tuple[str, int]:
    """The item at ``at`` (its length, ``:``, its characters) and where the next starts."""
    colon = raw.index(":", at)
    end = colon + 1 + int(raw[at:colon])
    return raw[colon + 1 : end], end


def _read(raw: str, at: int, code: str) -> tuple[Any, int]:
    item, end = _item(raw, at)
    if code == "s":
        return item, end
    if code == "b":
        return item.encode("latin-1"), end
    if code in "qi":
        return int(item), end
    if code == "?":
        return item == "1", end
    if code == "p":
        return _phase(int(item)), end
    items: list[Any] = []
    at = end
    for _ in range(int(item)):
        if code == "S":
            value, at = _item(raw, at)
        else:
            key, at = _item(raw, at)
            text, at = _item(raw, at)
            value = (key, text)
        items.append(value)
    return items, at


def _head(raw: str) -> tuple[int, int, str, int]:
    """(attempt, accepted-at-ms, id, where the payload starts)."""
    attempt, at = _item(raw, 1)
    accepted, at = _item(raw, at)
    ident, at = _item(raw, at)
    return int(attempt), int(accepted), ident, at


def _phase(index: int) -> Any:
    """The bindings' ``LifecyclePhase`` case where the build has it, else its name."""
    try:
        phases = importlib.import_module("wit_world.imports.types").LifecyclePhase
    except (ImportError, AttributeError):
        return PHASES[index]
    return phases(index)


class _Lazy:
    """Fields decoded from ``_raw`` on the first read of any of them."""

    _names: tuple[str, ...] = ()

    def __init__(self, raw: str) -> None:
        self._raw = raw

    def _decode(self) -> None:
        raise NotImplementedError

    def __getattr__(self, name: str) -> Any:
        # Only called for names not set yet: decode once, then they are plain attributes.
        if name.startswith("_") or name not in self._names:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        self._decode()
        return self.__dict__[name]

    def __repr__(self) -> str:
        fields = ", ".join(f"{n}={getattr(self, n)!r}" for n in self._names)
        return f"{type(self).__name__}({fields})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _Lazy) or other._names != self._names:
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self._names)

    __hash__ = None  # type: ignore[assignment]


class EventMeta(_Lazy):
    """Facts the same for every kind: ``id``, ``accepted_at_ms``, ``attempt``."""

    _names = ("id", "accepted_at_ms", "attempt")

    def _decode(self) -> None:
        self.attempt, self.accepted_at_ms, self.id, _ = _head(self._raw)


class Payload(_Lazy):
    """One event's own fields (``kind`` says which: ``name``, ``payload``, ``number``, …)."""

    kind = ""
    _codes: tuple[tuple[str, str], ...] = ()

    def _decode(self) -> None:
        raw = self._raw
        at = _head(raw)[3]
        for name, code in self._codes:
            value, at = _read(raw, at, code)
            setattr(self, name, value)


# One class per kind, made once: an event costs one object with one attribute
# until a handler reads a field.
PAYLOADS = {
    kind: type(
        f"{kind.capitalize()}Event",
        (Payload,),
        {"kind": kind, "_codes": codes, "_names": tuple(name for name, _ in codes)},
    )
    for kind, codes in _FIELDS.items()
}


def kind_of(raw: str) -> str:
    """The event's kind, from its first character."""
    return KINDS[int(raw[0])]
