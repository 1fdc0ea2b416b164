"""cove._hosts._native_host: a plugin's actions applied through the gate, by their type."""

from __future__ import annotations

from typing import Any, cast

import pytest

from cove._capabilities._calls import HostCalls
from cove._hosts._native_host import _apply
from cove.errors import HostCallError
from cove.plugin import DeleteState, SetState


class RecordingCalls:
    """Stands in for the gate: records the calls an action makes."""

    def __init__(self) -> None:
        self.made: list[tuple[str, Any]] = []

    def store_set(self, key: str, value: bytes) -> None:
        self.made.append(("set", (key, value)))

    def store_delete(self, key: str) -> None:
        self.made.append(("delete", key))


class NamedSetState(SetState):
    """A plugin's own subclass of an action."""


def test_each_action_becomes_its_host_call() -> None:
    calls = RecordingCalls()
    _apply(SetState("k", {"a": 1}), cast(HostCalls, calls))
    _apply(DeleteState("k"), cast(HostCalls, calls))
    assert calls.made == [("set", ("k", b'{"a":1}')), ("delete", "k")]


def test_a_subclass_of_an_action_applies_as_its_base() -> None:
    calls = RecordingCalls()
    _apply(NamedSetState("k", "v"), cast(HostCalls, calls))
    assert calls.made == [("set", ("k", b'"v"'))]


def test_something_else_is_refused_naming_it() -> None:
    with pytest.raises(HostCallError, match="not an action: 42"):
        _apply(cast(SetState, 42), cast(HostCalls, RecordingCalls()))
