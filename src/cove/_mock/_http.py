"""Canned http answers for ``cove run --mock``: the fixture's ``[[http]]`` entries as the network.

Design note: the module's requests take the engine's real path (capability
gate, allowlist on every redirect hop, size and time limits); only the
network is fake, an ``httpx.MockTransport``. The entries for one method and
URL answer in order: an entry with ``times`` answers that many requests and
then hands over to the next one, an entry without ``times`` answers every
request from then on (so entries after it would never be used; the fixture
warns about those). An ``error`` entry raises what httpx raises on a real
timeout or refused connection, so the module sees the host errors it would
see in production (``timeout``, ``unavailable``).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from pathlib import Path

import httpx

from ._fixture import HttpFixture

Key = tuple[str, str]


def _key(entry: HttpFixture) -> Key:
    return entry.method.upper(), entry.url


def shadowed(entries: list[HttpFixture], source: Path) -> list[str]:
    """A warning for each entry that can never answer: an earlier one without ``times``
    answers every request to the same method and URL."""
    forever: dict[Key, int] = {}
    warnings = []
    for index, entry in enumerate(entries):
        key = _key(entry)
        if key in forever:
            first = forever[key]
            warnings.append(
                f"{source}: http[{index}] ({key[0]} {key[1]}) is never used: http[{first}] "
                f"answers every such request; give http[{first}] a `times` to answer in turn"
            )
        elif entry.times is None:
            forever[key] = index
    return warnings


class CannedHttp:
    """Answers each request from the next unused fixture entry for its method and URL."""

    def __init__(self, entries: list[HttpFixture], source: Path) -> None:
        self.source = source
        self._entries: dict[Key, list[tuple[int, HttpFixture]]] = defaultdict(list)
        for index, entry in enumerate(entries):
            self._entries[_key(entry)].append((index, entry))
        self._used: dict[int, int] = defaultdict(int)
        self._calls: dict[Key, int] = defaultdict(int)
        self._lock = threading.Lock()  # module calls run on the engine's worker threads

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self._handle)

    def _next(self, key: Key) -> tuple[int, HttpFixture] | None:
        with self._lock:
            self._calls[key] += 1
            for index, entry in self._entries.get(key, ()):
                if entry.times is None or self._used[index] < entry.times:
                    self._used[index] += 1
                    return index, entry
        return None

    def _handle(self, request: httpx.Request) -> httpx.Response:
        key = (request.method, str(request.url))
        found = self._next(key)
        if found is None:
            raise httpx.ConnectError(self._missing(key), request=request)
        index, entry = found
        where = f"canned by {self.source.name} http[{index}]"
        if entry.error == "timeout":
            raise httpx.ReadTimeout(f"timed out ({where})", request=request)
        if entry.error == "connect":
            raise httpx.ConnectError(f"connection refused ({where})", request=request)
        headers, body = entry.content()
        return httpx.Response(entry.status, headers=headers, content=body)

    def _missing(self, key: Key) -> str:
        method, url = key
        entries = self._entries.get(key)
        if not entries:
            return f"no canned response for {method} {url} in {self.source} (add an [[http]] entry)"
        calls = self._calls[key]
        return (
            f"the {len(entries)} [[http]] entries for {method} {url} in {self.source} are used "
            f"up at request {calls} (raise a `times`, or end with an entry without one)"
        )
