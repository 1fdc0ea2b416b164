"""What each hook point's payload looks like, and which replacements a hook may return.

A modifying hook may change what the action carries, never who does it:
a message keeps its sending module and transport (the sender's grant was
checked for those), a tool result keeps its module and tool.
"""

from __future__ import annotations

from typing import Any

from .._capabilities._effects import EventEffects
from .._config_hooks import HookPoint
from .._manifest import Manifest

JSON = Any


def loaded_payload(manifest: Manifest) -> dict[str, Any]:
    """``module-loaded``: who the module is and which points it hooks."""
    module = manifest.module
    return {
        "module": module.name,
        "version": module.version,
        "kind": module.kind,
        "sha256": module.sha256 or "",
        "path": str(manifest.root),
        "hooks": [h.point for h in manifest.hook],
    }


def message_payload(module: str, body: dict[str, Any]) -> dict[str, Any]:
    """``before-message``: an outbox message (its stored JSON body) and who sends it."""
    return {
        "module": module,
        "transport": body["transport"],
        "recipient": body["recipient"],
        "body": body["body"],
        "metadata": body["metadata"],
    }


def commit_payload(module: str, cursor: int, event_ids: list[str], batch: EventEffects) -> JSON:
    """``before-commit``: the state writes about to commit (text when UTF-8), and the cursor."""
    writes = []
    for key, value in batch.writes.items():
        text: str | None = None
        if value is not None:
            try:
                text = value.decode()
            except UnicodeDecodeError:
                text = None
        writes.append(
            {
                "key": key,
                "deleted": value is None,
                "size": 0 if value is None else len(value),
                "text": text,
            }
        )
    return {"module": module, "cursor": cursor, "events": event_ids, "writes": writes}


def check_replacement(point: HookPoint, before: JSON, after: JSON) -> None:
    """Raise ``ValueError`` (the hook then counts as failed) for a replacement of the wrong shape."""
    if point == "before-message":
        _same_keys(after, ("module", "transport", "recipient", "body", "metadata"))
        _unchanged(before, after, ("module", "transport"))
        for key in ("recipient", "body"):
            if not isinstance(after[key], str):
                raise ValueError(f"replacement {key} must be a string")
        metadata = after["metadata"]
        if not isinstance(metadata, list) or not all(
            isinstance(m, list) and len(m) == 2 and all(isinstance(x, str) for x in m)
            for m in metadata
        ):
            raise ValueError("replacement metadata must be a list of [key, value] strings")
    elif point == "after-tool-result":
        _same_keys(after, ("module", "tool", "result"))
        _unchanged(before, after, ("module", "tool"))


def _same_keys(after: JSON, keys: tuple[str, ...]) -> None:
    if not isinstance(after, dict) or sorted(after) != sorted(keys):
        raise ValueError(f"replacement must be an object with exactly the keys {list(keys)}")


def _unchanged(before: JSON, after: JSON, keys: tuple[str, ...]) -> None:
    for key in keys:
        if after[key] != before[key]:
            raise ValueError(f"a hook may not change {key!r} ({before[key]!r} -> {after[key]!r})")
