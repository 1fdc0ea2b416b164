"""Parsers for the human units used in config files: durations and byte sizes."""

from __future__ import annotations

import math
import re

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")
_DURATION_MS = {"ms": 1, "s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}

_SIZE = re.compile(r"^\s*(\d+)\s*(B|KB|KiB|MB|MiB|GB|GiB)?\s*$")
_SIZE_BYTES = {
    None: 1,
    "B": 1,
    "KB": 1_000,
    "KiB": 1_024,
    "MB": 1_000_000,
    "MiB": 1_048_576,
    "GB": 1_000_000_000,
    "GiB": 1_073_741_824,
}


def parse_duration_ms(text: str) -> int:
    """``"30s"`` → 30000. Accepts ms, s, m, h, d; the result must be positive."""
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"expected a duration like '250ms', '30s', '5m' or '1h', got {text!r}")
    value = float(match.group(1)) * _DURATION_MS[match.group(2)]
    if not math.isfinite(value):
        raise ValueError(f"duration {text!r} is too large")
    if value < 1:
        raise ValueError(f"duration {text!r} is shorter than 1ms")
    return int(value)


def parse_size_bytes(value: int | str) -> int:
    """``"64MiB"`` → 67108864; a plain integer is a byte count."""
    if isinstance(value, bool):
        raise ValueError("expected a size in bytes, got a boolean")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"size must not be negative, got {value}")
        return value
    match = _SIZE.match(value)
    if match is None:
        raise ValueError(f"expected a size like 1048576, '512KiB' or '64MiB', got {value!r}")
    return int(match.group(1)) * _SIZE_BYTES[match.group(2)]
