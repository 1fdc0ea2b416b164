"""Canned http for ``MockHost``: answers per method and URL, in turn, errors included.

The same rules as ``cove run --mock``'s ``[[http]]`` entries: answers given
with ``times`` are used first, in the order given, each for that many
requests; then the answer given without ``times`` (the latest one) answers
every request. ``error`` answers with the host error the engine gives for a
real timeout (``timeout``) or refused connection (``unavailable``).
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

ERRORS = {"timeout": "timed out", "connect": "connection refused"}
_ERROR_KINDS = {"timeout": "timeout", "connect": "unavailable"}


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    error: str | None
    left: int | None
    """Requests this answer still takes (None: every one)."""


def answer(
    status: int,
    json_body: Any,
    body: bytes | str,
    headers: dict[str, str] | None,
    error: str | None,
    times: int | None,
) -> Answer:
    """One answer from ``MockHost.respond``'s arguments; a contradiction raises ``ValueError``."""
    if error is not None and error not in ERRORS:
        raise ValueError(f"respond(error={error!r}): use 'timeout' or 'connect'")
    if times is not None and times < 1:
        raise ValueError(f"respond(times={times}): at least 1, or None for every request")
    all_headers = dict(headers or {})
    if json_body is not None:
        body = json.dumps(json_body)
        all_headers.setdefault("content-type", "application/json")
    raw = body.encode() if isinstance(body, str) else bytes(body)
    return Answer(status, list(all_headers.items()), raw, error, times)


class CannedHttp:
    """The answers ``MockHost.respond`` set up, by (method, url)."""

    def __init__(self, fail: Callable[[str, str], Exception]) -> None:
        self._fail = fail
        self._limited: dict[tuple[str, str], list[Answer]] = {}
        self._forever: dict[tuple[str, str], Answer] = {}

    def add(self, method: str, url: str, given: Answer) -> None:
        key = (method.upper(), url)
        if given.left is None:
            self._forever[key] = given
        else:
            self._limited.setdefault(key, []).append(given)

    def next(self, method: str, url: str) -> Answer:
        """The answer to this request; raises the host error the module would see."""
        key = (method, url)
        queue = self._limited.get(key, [])
        while queue and queue[0].left == 0:
            queue.pop(0)
        if queue:
            found = queue[0]
            found.left = (found.left or 1) - 1
        elif key in self._forever:
            found = self._forever[key]
        else:
            used = " (the answers given with `times` are used up)" if key in self._limited else ""
            raise self._fail(
                "unavailable",
                f"http: no canned response for {method} {url}{used} "
                "(MockHost.respond(...) adds one)",
            )
        if found.error is not None:
            raise self._fail(
                _ERROR_KINDS[found.error], f"http: {method} {url}: {ERRORS[found.error]} (canned)"
            )
        return found
