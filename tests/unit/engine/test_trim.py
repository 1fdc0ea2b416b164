"""HeapTrim: hibernations ask for a heap trim; at most one runs per interval."""

from __future__ import annotations

import asyncio

import pytest

from cove._engine import _trim


async def test_many_requests_make_one_trim(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_trim, "INTERVAL_S", 0.05)
    calls: list[int] = []
    trim = _trim.HeapTrim()
    trim._trim = lambda pad: calls.append(pad) or 1
    for _ in range(100):
        trim.request()
    await asyncio.sleep(0.3)
    assert calls == [0]
    trim.request()
    await asyncio.sleep(0.3)
    assert calls == [0, 0]


def test_the_c_library_here_has_malloc_trim() -> None:
    assert _trim.HeapTrim()._trim is not None  # glibc: the engine's machines
