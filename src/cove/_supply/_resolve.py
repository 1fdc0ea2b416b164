"""Resolution of a pin: the content store, else each source in order, verified, then stored.

This is the one way an engine, ``cove check`` and (later) the on-chain
registry get a component given as ``sha256:`` plus sources. It blocks (it
is called from worker threads, never on the event loop).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .._redact import redact_url
from ..errors import FetchError, SourceFailure
from ._fetch import FetchLimits, fetch_path, fetch_url, ipfs_url
from ._oci import fetch_layer
from ._store import ContentStore, sha256_pin


class Resolver:
    """A content store and the limits every fetch into it is held to."""

    def __init__(self, store: ContentStore, limits: FetchLimits) -> None:
        self.store = store
        self.limits = limits

    def resolve(self, pin: str, sources: Sequence[str]) -> Path:
        """The store's path of the component pinned ``pin``, fetched from ``sources`` if
        the store lacks it; ``FetchError`` names every source that failed, and why."""
        self.read(pin, sources)
        return self.store.path(pin)

    def read(self, pin: str, sources: Sequence[str]) -> bytes:
        """As ``resolve``, the verified bytes themselves."""
        stored = self.store.get(pin)
        if stored is not None:
            return stored
        failures: list[str] = []
        mismatch = False
        for source in sources:
            try:
                data = self._fetch(source, pin)
            except SourceFailure as exc:
                failures.append(f"{shown(source)}: {exc}")
                mismatch = mismatch or exc.mismatch
                continue
            actual = sha256_pin(data)
            if actual != pin:
                failures.append(f"{shown(source)} gave {actual}, not the pinned {pin}")
                mismatch = True
                continue
            self.store.put(pin, data)
            return data
        tried = "; ".join(failures) if failures else "no sources given"
        raise FetchError(
            f"{pin} is not in the content store {self.store.root} and no source gave it: {tried}",
            mismatch=mismatch,
        )

    def _fetch(self, source: str, pin: str) -> bytes:
        if source.startswith(("https://", "http://")):
            return fetch_url(source, self.limits)
        if source.startswith("ipfs://"):
            return fetch_url(ipfs_url(source, self.limits), self.limits)
        if source.startswith("oci://"):
            return fetch_layer(source, pin, self.limits)
        return fetch_path(Path(source), self.limits)


def shown(source: str) -> str:
    """A source as errors show it: a URL without credentials or query."""
    return redact_url(source) if source.startswith(("https://", "http://")) else source
