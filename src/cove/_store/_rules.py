"""Rules both backends share, so dead letters and pruning behave alike on each."""

from __future__ import annotations

import json

# Rows one prune step looks at: small enough that the lock is never held for long.
PRUNE_CHUNK = 2_000


def transport_of(kind: str, body: str) -> str:
    """The transport a dead ``message`` effect was for ("" for other kinds or bad bodies)."""
    if kind != "message":
        return ""
    try:
        return str(json.loads(body).get("transport", ""))
    except (ValueError, AttributeError):
        return ""
