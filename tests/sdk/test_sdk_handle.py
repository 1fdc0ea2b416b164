"""``WitWorld.handle`` on the engine's event string, in plain Python: the path a component runs.

MockHost hands handlers decoded events; inside a component ``handle`` gets the
compact string, finds the handlers from the kind digit (the dispatch table the
decorators keep) and builds lazy event and meta objects. Here the same
string the engine writes go through ``handle`` with MockHost's fake bindings.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from cove_sdk import HostError
from cove_sdk.testing import MockHost, MockHostError

from cove._events import Custom, Event, Tick
from cove._hosts._event_text import encode_event_text

APP = """
from cove_sdk import WitWorld, on_event, state

__all__ = ["WitWorld"]


@on_event("custom")
def first(event, meta):
    state.set("seen", [event.name, event.payload, meta.id, meta.attempt])


@on_event("custom")
def second(event, meta):
    state.incr("count")
    if event.name == "demo.fail":
        raise ValueError("refused")
"""


def module(tmp_path: Path) -> Path:
    (tmp_path / "cove.toml").write_text(
        textwrap.dedent("""
        [module]
        name = "demo"
        kind = "wasm"
        component = "demo.wasm"

        [capabilities]
        required = ["store"]

        [[subscription]]
        kind = "custom"
        name = "demo.*"
        """)
    )
    (tmp_path / "app.py").write_text(APP)
    return tmp_path


def handle(host: MockHost, event: Event, attempt: int = 1) -> None:
    host._run(lambda: host._world.handle(encode_event_text(event, attempt)))


def test_handle_runs_every_handler_of_the_kind_in_order_with_lazy_event_and_meta(
    tmp_path: Path,
) -> None:
    host = MockHost(module(tmp_path))
    handle(host, Event(Custom("demo.hi", "src", '{"a": 1}'), id="e-1"), attempt=3)
    assert host.state == {"seen": ["demo.hi", '{"a": 1}', "e-1", 3], "count": 1}


def test_a_kind_without_handlers_is_ignored(tmp_path: Path) -> None:
    host = MockHost(module(tmp_path))
    handle(host, Event(Tick("every 1s", 5)))
    assert host.state == {}


def test_a_failing_handler_leaves_no_write(tmp_path: Path) -> None:
    host = MockHost(module(tmp_path))
    handle(host, Event(Custom("demo.ok", "src", "1"), id="e-1"))
    with pytest.raises((ValueError, HostError, MockHostError), match="refused"):
        handle(host, Event(Custom("demo.fail", "src", "2"), id="e-2"))
    assert host.state == {"seen": ["demo.ok", "1", "e-1", 1], "count": 1}


def test_a_new_app_replaces_the_handlers_of_the_last(tmp_path: Path) -> None:
    MockHost(module(tmp_path))
    other = tmp_path / "other"
    other.mkdir()
    (other / "cove.toml").write_text((tmp_path / "cove.toml").read_text())
    (other / "app.py").write_text(APP.replace('"count"', '"other"'))
    host = MockHost(other)
    handle(host, Event(Custom("demo.hi", "src", "1"), id="e-1"))
    assert host.state == {"seen": ["demo.hi", "1", "e-1", 1], "other": 1}
