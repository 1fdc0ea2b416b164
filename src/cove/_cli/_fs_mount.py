"""``cove fs mount DIR``: the module file view of a running engine as a read-only FUSE file system.

Design note. The mount is a client of ``GET /v1/fs`` like ``cove fs cat``,
not a second view inside the engine: it runs wherever the CLI runs, with
the same token, and the engine needs no FUSE. A file's size is only known
once its bytes are read, so each answer is kept for ``ttl`` seconds and
``stat``, ``open`` and ``read`` of one ``cat`` cost one request; a file is
at most that stale. Names are the view's own (percent-encoded), so every
state key is one file name. mfusepy (ctypes over the OS's libfuse) is
imported only here: nothing else in cove needs libfuse installed.
"""

from __future__ import annotations

import errno
import stat
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx
import mfusepy as fuse

from .._control._fs_path import KIND_HEADER

_ERRNO = {400: errno.EINVAL, 401: errno.EACCES, 403: errno.EACCES, 404: errno.ENOENT}


@dataclass(frozen=True, slots=True)
class _Answer:
    at: float
    is_dir: bool
    data: bytes
    names: tuple[str, ...]


class FileViewFs(fuse.Operations):  # type: ignore[misc]  # mfusepy ships no types
    """getattr, readdir, open and read over the control plane's ``/v1/fs``."""

    use_ns = True

    def __init__(self, http: httpx.Client, ttl: float) -> None:
        self._http = http
        self._ttl = ttl
        self._cache: dict[str, _Answer] = {}
        self._lock = threading.Lock()
        self._started = time.time_ns()

    def _get(self, path: str) -> _Answer:
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(path)
        if cached is not None and now - cached.at < self._ttl:
            return cached
        try:
            response = self._http.get("/v1/fs" + path)
        except httpx.TransportError:
            raise fuse.FuseOSError(errno.EIO) from None
        if response.status_code != 200:
            raise fuse.FuseOSError(_ERRNO.get(response.status_code, errno.EIO))
        if response.headers.get(KIND_HEADER) == "dir":
            names = tuple(e["name"] for e in response.json()["entries"])
            answer = _Answer(now, True, b"", names)
        else:
            answer = _Answer(now, False, response.content, ())
        with self._lock:
            self._cache[path] = answer
        return answer

    def getattr(self, path: str, fh: Any = None) -> dict[str, int]:
        answer = self._get(path)
        times = {"st_atime": self._started, "st_mtime": self._started, "st_ctime": self._started}
        if answer.is_dir:
            return {"st_mode": stat.S_IFDIR | 0o555, "st_nlink": 2, **times}
        return {
            "st_mode": stat.S_IFREG | 0o444,
            "st_nlink": 1,
            "st_size": len(answer.data),
            **times,
        }

    def readdir(self, path: str, fh: Any) -> list[str]:
        answer = self._get(path)
        if not answer.is_dir:
            raise fuse.FuseOSError(errno.ENOTDIR)
        return [".", "..", *answer.names]

    def open(self, path: str, flags: int) -> int:
        if flags & (0o1 | 0o2):  # O_WRONLY, O_RDWR: the view is read-only
            raise fuse.FuseOSError(errno.EROFS)
        self._get(path)
        return 0

    def read(self, path: str, size: int, offset: int, fh: Any) -> bytes:
        answer = self._get(path)
        if answer.is_dir:
            raise fuse.FuseOSError(errno.EISDIR)
        return answer.data[offset : offset + size]


def mount(http: httpx.Client, mountpoint: str, ttl: float) -> None:
    """Serve the view at ``mountpoint`` until it is unmounted or the process is interrupted."""
    # The kernel keeps sizes and lookups no longer than the answers: a file that grew is
    # read whole once the ttl has passed.
    fuse.FUSE(
        FileViewFs(http, ttl),
        mountpoint,
        foreground=True,
        ro=True,
        nothreads=True,
        attr_timeout=ttl,
        entry_timeout=ttl,
        negative_timeout=ttl,
    )
