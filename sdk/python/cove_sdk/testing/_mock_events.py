"""Events for ``MockHost``: the bindings' event values with defaults, and subscription matching."""

import fnmatch
import json
from typing import Any


class MockHostError(Exception):
    """The module cannot run under MockHost as set up (what the engine would refuse)."""


def build_event(t: Any, kind: str, fields: dict[str, Any], now_ms: int, module: str) -> Any:
    """The bindings' ``Event`` variant of ``kind``: the fields given over the defaults."""
    chain = {"chain_id": 1, "hash": "0x" + "00" * 32, "parent_hash": "0x" + "00" * 32}
    defaults: dict[str, tuple[Any, dict[str, Any]]] = {
        "block": (t.BlockEvent, {**chain, "timestamp": now_ms // 1000}),
        "log": (
            t.LogEvent,
            {
                "chain_id": 1,
                "block_number": 1,
                "block_hash": chain["hash"],
                "transaction_hash": chain["hash"],
                "log_index": 0,
                "topics": [],
                "data": b"",
                "removed": False,
            },
        ),
        "tick": (t.TickEvent, {"scheduled_at_ms": now_ms}),
        "message": (
            t.MessageEvent,
            {"transport": "console", "sender": "alice", "recipient": module, "metadata": []},
        ),
        "webhook": (t.WebhookEvent, {"method": "POST", "headers": [], "body": b""}),
        "custom": (t.CustomEvent, {"source": "", "payload": "null"}),
        "lifecycle": (t.LifecycleEvent, {"phase": "started", "detail": ""}),
    }
    if kind not in defaults:
        raise MockHostError(f"unknown event kind {kind!r}; expected one of {sorted(defaults)}")
    cls, values = defaults[kind]
    values = {**values, **fields}
    if kind == "custom" and not isinstance(values["payload"], str):
        values["payload"] = json.dumps(values["payload"])
    if kind in ("log", "webhook") and isinstance(values.get("data", values.get("body")), str):
        key = "data" if kind == "log" else "body"
        values[key] = values[key].encode()
    if kind == "lifecycle":
        values["phase"] = t.LifecyclePhase[str(values["phase"]).upper()]
    try:
        payload = cls(**values)
    except TypeError as exc:
        raise MockHostError(f"{kind} event: {exc}") from None
    return getattr(t, f"Event_{kind.capitalize()}")(payload)


def check_subscribed(
    subscriptions: list[dict[str, Any]], kind: str, payload: Any, module: str
) -> None:
    """Refuse an event no ``[[subscription]]`` matches: the engine would not deliver it."""
    if not any(_matches(sub, kind, payload) for sub in subscriptions):
        raise MockHostError(
            f"module {module!r} does not subscribe to this {kind} event, so the engine "
            f"would not deliver it; add a [[subscription]] with kind = {kind!r} to cove.toml"
        )


def _matches(sub: dict[str, Any], kind: str, p: Any) -> bool:
    if sub.get("kind") != kind:
        return False
    if kind == "custom":
        return fnmatch.fnmatchcase(p.name, sub.get("name", ""))
    if kind == "message":
        return sub.get("transport") in (None, p.transport)
    if kind == "webhook":
        return bool(p.path == sub.get("path"))
    if kind == "tick":
        return p.schedule in (sub.get("schedule"), f"every {sub.get('every')}")
    if kind in ("block", "log"):
        return bool(p.chain_id == sub.get("chain_id"))
    return True
