"""Where cove caches per user: built components and compiled components, shared by every command.

Both caches are keyed by content, so one directory serves every engine, data
dir, ``cove build``, ``check``, ``run --mock``, ``mcp`` and test run of a
user: a component compiles once per machine, not once per data dir.
"""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_cache_path

ENV = "COVE_CACHE_DIR"


def user_cache_dir() -> Path:
    """``$COVE_CACHE_DIR`` if set, else the platform's per-user cache (``~/.cache/cove`` on Linux)."""
    override = os.environ.get(ENV)
    if override:
        return Path(override).expanduser().resolve()
    return user_cache_path("cove", appauthor=False)


def compiled_cache_dir() -> Path:
    """Compiled components (``.cwasm``), keyed by component hash, wasmtime and CPU."""
    return user_cache_dir() / "compiled"


def content_store_dir() -> Path:
    """Components by sha256 (``_supply``): fetched once per user, verified on every read."""
    return user_cache_dir() / "store"


def build_cache_dir() -> Path:
    """Components built by ``cove build``, keyed by their inputs."""
    return user_cache_dir() / "builds"
