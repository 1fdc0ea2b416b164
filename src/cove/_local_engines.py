"""Where a local engine's control plane tells the CLI which token file it reads.

A loopback control plane with a ``token_file`` writes a small record
(``<state dir>/engines/control-<port>.json``: its URL and the token file's
path, never the token) while it runs, so ``cove health`` or ``cove module
list`` on the same machine find the token without ``--token-file``. The
state dir is ``$COVE_STATE_DIR``, else ``$XDG_STATE_HOME/cove``, else
``~/.local/state/cove``; it is created with mode 0700.

Rejected: the CLI reading the engine's config file (it would have to guess
where that is), and a fixed token path (two engines on one machine would
share a token).
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from urllib.parse import urlsplit

_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def records_dir() -> Path:
    """The per-user directory the records live in."""
    explicit = os.environ.get("COVE_STATE_DIR")
    if explicit:
        return Path(explicit) / "engines"
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "cove" / "engines"


def _record_path(port: int) -> Path:
    return records_dir() / f"control-{port}.json"


def write_record(host: str, port: int, url: str, token_file: Path) -> Path | None:
    """Record a loopback listener's token file; None (nothing written) off loopback or on error."""
    if host not in _LOOPBACK:
        return None
    path = _record_path(port)
    body = {"url": url, "token_file": str(token_file.resolve()), "pid": os.getpid()}
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(body), encoding="utf-8")
        temporary.replace(path)
    except OSError:
        return None  # a convenience for the CLI: the engine runs the same without it
    return path


def remove_record(path: Path) -> None:
    """Remove a record this process wrote (a later engine on the port may have replaced it)."""
    with contextlib.suppress(OSError, ValueError):
        if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
            path.unlink()


def token_file_for(url: str) -> Path | None:
    """The token file a running loopback engine at ``url`` recorded, if any."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        return None
    if parts.hostname not in _LOOPBACK or port is None:
        return None
    try:
        record = json.loads(_record_path(port).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    token_file = record.get("token_file") if isinstance(record, dict) else None
    return Path(token_file) if isinstance(token_file, str) else None
