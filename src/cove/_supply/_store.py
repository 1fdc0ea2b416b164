"""The content store: components by sha256, so a module starts again without its sources.

A blob is named by its own hash; it is written to a unique temporary file and
renamed into place (a reader sees a whole blob or none, concurrent writers of
one blob never interleave), and every read hashes it again: a blob damaged on
disk is dropped and fetched anew instead of being run.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

_PIN = re.compile(r"^sha256:([0-9a-f]{64})$")


def pin_digest(pin: str) -> str:
    """The 64 hex digits of ``sha256:<hex>``; anything else is a programming error."""
    match = _PIN.match(pin)
    if match is None:
        raise ValueError(f"not a sha256 pin: {pin!r}")
    return match.group(1)


def sha256_pin(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class ContentStore:
    """Blobs under ``root/sha256/<hex>``, verified on every read."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, pin: str) -> Path:
        return self.root / "sha256" / pin_digest(pin)

    def get(self, pin: str) -> bytes | None:
        """The blob pinned ``pin``, or None if absent or damaged (a damaged one is removed)."""
        path = self.path(pin)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        if sha256_pin(data) != pin:
            path.unlink(missing_ok=True)
            return None
        return data

    def put(self, pin: str, data: bytes) -> Path:
        """Keep ``data`` under ``pin``; refuses bytes that are not the pinned ones."""
        actual = sha256_pin(data)
        if actual != pin:
            raise ValueError(f"content store: bytes are {actual}, not {pin}")
        path = self.path(pin)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path
