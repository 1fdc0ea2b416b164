"""The size of everything a guest hands the host, bounded in one place.

A guest controls the length of its keys, URLs, log lines, error texts and
results; each is checked here before the host copies, formats or stores it,
so a 50 MB key costs one length check, not a 50 MB error message in a
trajectory. Names (keys, URLs) past their bound are refused with
``invalid-input``; free text (logs, errors, results) is cut with a marker.
docs/security.md lists every bound.
"""

from __future__ import annotations

import re

from ..errors import ErrorKind, HostCallError

MAX_KEY_BYTES = 1024
"""A state key, a config key, a list-keys prefix."""
MAX_NAME_BYTES = 256
"""An emitted event's name, a transport or recipient name."""
MAX_URL_BYTES = 8192
"""An http request's URL."""
MAX_PAYLOAD_BYTES = 1024 * 1024
"""An emitted event's payload, a message body, a tool result, a hook's output."""
MAX_LOG_CHARS = 8192
"""A log line (module log call or one line of stdout/stderr); longer ones are cut."""
MAX_LOG_FIELDS = 32
"""Fields of one module log call; more are dropped."""
MAX_ERROR_CHARS = 2048
"""A guest's error text (a returned error, an exception, a trap); longer ones are cut."""


_MARKER = re.compile(r"… \[[0-9]{1,20} more characters cut\]")
_MARKER_MAX = len("… [ more characters cut]") + 20


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, with a marker saying how much was dropped.

    A text already cut at ``limit`` (the call path cuts a host call's strings as it
    reads them) is returned as it is, so the marker keeps the guest's whole length.
    """
    if len(text) <= limit:
        return text
    if len(text) - limit <= _MARKER_MAX and _MARKER.fullmatch(text, limit):
        return text
    return f"{text[:limit]}… [{len(text) - limit} more characters cut]"


def require_size(
    what: str, value: str | bytes, limit: int, kind: ErrorKind = "invalid-input"
) -> None:
    """Refuse ``value`` (with ``kind``) when it is longer than ``limit`` bytes, without
    echoing it or encoding more than ``4 * limit`` bytes of it."""
    size = len(value)
    if isinstance(value, str) and limit // 4 < size <= limit:
        # A character is at most 4 bytes: a string short enough is not encoded at all.
        size = len(value.encode("utf-8", "surrogatepass"))
    if size > limit:
        raise HostCallError(kind, f"{what} is longer than the limit of {limit} bytes")


def shown_key(key: str) -> str:
    """A key or prefix as a record shows it (the full one is checked when used)."""
    return key if len(key) <= MAX_KEY_BYTES else clip(key, MAX_KEY_BYTES)


def shown_keys(keys: list[str]) -> str:
    return clip(",".join(k[: MAX_KEY_BYTES + 1] for k in keys[:16]), MAX_KEY_BYTES)


def checked_keys(keys: list[str]) -> list[str]:
    for key in keys:
        require_size("store: a key", key, MAX_KEY_BYTES)
    return keys


def guest_error(text: str) -> str:
    """A guest's error text (a returned error, an exception) as the host keeps it."""
    return clip(text, MAX_ERROR_CHARS)
