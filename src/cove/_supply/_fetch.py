"""Fetching one source of a pinned component: a path, http(s), or ipfs through a gateway.

Each fetch is bounded by ``FetchLimits``: bytes (checked against the announced
length and again as the body streams) and one deadline over the whole fetch,
so a source that drips is cut off like one that stalls. A failure raises
``SourceFailure`` naming the source; the resolver then tries the next one.
OCI sources are in ``_oci.py``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from .._config_fetch import FetchSettings
from .._redact import error_reason
from .._units import parse_duration_ms, parse_size_bytes
from ..errors import SourceFailure


@dataclass(frozen=True, slots=True)
class FetchLimits:
    max_bytes: int
    timeout_s: float
    ipfs_gateway: str | None = None

    @classmethod
    def of(cls, settings: FetchSettings) -> FetchLimits:
        timeout_s = parse_duration_ms(settings.timeout) / 1000
        return cls(parse_size_bytes(settings.max_size), timeout_s, settings.ipfs_gateway)


def too_big(size: int, limits: FetchLimits) -> SourceFailure:
    return SourceFailure(f"{size} bytes, over [fetch] max_size ({limits.max_bytes} bytes)")


def fetch_path(path: Path, limits: FetchLimits) -> bytes:
    try:
        size = path.stat().st_size
        if size > limits.max_bytes:
            raise too_big(size, limits)
        return path.read_bytes()
    except OSError as exc:
        raise SourceFailure(f"cannot read it ({exc.strerror})") from None


def fetch_url(url: str, limits: FetchLimits) -> bytes:
    """GET ``url`` (redirects followed: the bytes are checked against the pin anyway)."""
    deadline = time.monotonic() + limits.timeout_s
    try:
        with (
            httpx.Client(timeout=limits.timeout_s, follow_redirects=True) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code != 200:
                raise SourceFailure(f"HTTP {response.status_code}")
            announced = response.headers.get("content-length")
            if announced is not None and announced.isdigit():
                if int(announced) > limits.max_bytes:
                    raise too_big(int(announced), limits)
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > limits.max_bytes:
                    raise too_big(len(body), limits)
                if time.monotonic() > deadline:
                    raise SourceFailure(f"not done within [fetch] timeout ({limits.timeout_s:g}s)")
            return bytes(body)
    except httpx.TimeoutException:
        raise SourceFailure(f"timed out ([fetch] timeout {limits.timeout_s:g}s)") from None
    except httpx.HTTPError as exc:
        raise SourceFailure(error_reason(exc)) from None


def ipfs_url(source: str, limits: FetchLimits) -> str:
    """``ipfs://<cid>[/path]`` as a URL of the configured gateway."""
    if limits.ipfs_gateway is None:
        raise SourceFailure("no [fetch] ipfs_gateway is configured to fetch it through")
    rest = source.removeprefix("ipfs://")
    if not rest or rest.startswith("/"):
        raise SourceFailure("no CID after ipfs://")
    return f"{limits.ipfs_gateway.rstrip('/')}/ipfs/{rest}"
