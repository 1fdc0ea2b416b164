"""cove._hosts._shared_linker: a host function acts for the thread's current host."""

from __future__ import annotations

from typing import Any, cast

import pytest

from cove._hosts import _shared_linker
from cove._hosts._shared_linker import _CURRENT
from cove.errors import HostCallError


class _Host:
    """What ``_Current`` reads of a ``WasmModuleHost``: the running call's gate."""

    def __init__(self, calls: Any) -> None:
        self._calls = calls


@pytest.mark.parametrize("host", [None, _Host(None)], ids=["no host", "host between calls"])
def test_a_host_call_with_no_running_call_is_an_internal_error(host: _Host | None) -> None:
    previous = _shared_linker.enter(cast(Any, host))
    try:
        with pytest.raises(HostCallError) as info:
            _CURRENT._current()
    finally:
        _shared_linker.leave(previous)
    assert ("internal", "host call outside of an event") == (info.value.kind, info.value.message)


def test_a_host_call_gets_the_running_calls_gate() -> None:
    gate = object()
    previous = _shared_linker.enter(cast(Any, _Host(gate)))
    try:
        assert gate is _CURRENT._current()
    finally:
        _shared_linker.leave(previous)
