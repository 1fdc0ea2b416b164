"""MockHost: http answers in turn (``times``), timeouts and refused connections as answers,
and a settable clock for ticks."""

from __future__ import annotations

from pathlib import Path

import pytest
from cove_sdk.testing import MockHost, MockHostError

from tests.sdk.test_mock_host import write_module

MANIFEST = """
[module]
name = "poller"
kind = "wasm"
component = "poller.wasm"

[capabilities]
required = ["store", "http"]

[capabilities.http]
allow = ["api.example.com"]

[[subscription]]
kind = "tick"
every = "1m"

[[subscription]]
kind = "custom"
name = "poll"
"""

APP = """
from cove_sdk import HostError, WitWorld, fetch, on_event, on_tick, state

__all__ = ["WitWorld"]
URL = "https://api.example.com/price"


@on_tick
def tick(event, meta):
    state.set("ticks", state.get("ticks", []) + [event.scheduled_at_ms])


@on_event("custom")
def poll(event, meta):
    try:
        outcome = fetch(URL).status
    except HostError as exc:
        outcome = exc.kind
    state.set("polls", state.get("polls", []) + [outcome])
"""
URL = "https://api.example.com/price"


@pytest.fixture
def host(tmp_path: Path) -> MockHost:
    return MockHost(write_module(tmp_path, MANIFEST, APP))


def polls(host: MockHost, n: int) -> list[object]:
    for _ in range(n):
        host.custom("poll")
    return list(host.state["polls"])


def test_answers_with_times_come_first_then_the_open_ended_one(host: MockHost) -> None:
    host.respond(URL, json_body={"price": 1})
    host.respond(URL, error="timeout", times=1)
    host.respond(URL, error="connect", times=1)
    host.respond(URL, status=503, times=2)
    assert ["timeout", "unavailable", 503, 503, 200, 200] == polls(host, 6)


def test_a_later_open_ended_answer_replaces_the_earlier_one(host: MockHost) -> None:
    host.respond(URL, status=500)
    host.respond(URL, status=204)
    assert [204] == polls(host, 1)


def test_answers_with_times_run_out_into_unavailable(host: MockHost) -> None:
    host.respond(URL, status=201, times=1)
    assert [201, "unavailable"] == polls(host, 2)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [({"error": "refused"}, "'timeout' or 'connect'"), ({"times": 0}, "at least 1")],
)
def test_a_wrong_respond_argument_is_refused(
    host: MockHost, arguments: dict[str, object], message: str
) -> None:
    with pytest.raises(MockHostError, match=message):
        host.respond(URL, **arguments)  # type: ignore[arg-type]


def test_a_tick_can_be_scheduled_at_a_given_time(host: MockHost) -> None:
    """``at_ms`` sets the tick's scheduled time and moves the clock there."""
    start = host.now_ms
    host.tick()
    host.tick(at_ms=start + 60_000)
    host.advance(60_000)
    host.tick()
    assert [start, start + 60_000, start + 120_001] == host.state["ticks"]


def test_the_clock_does_not_go_back(host: MockHost) -> None:
    with pytest.raises(MockHostError, match="only moves forward"):
        host.tick(at_ms=host.now_ms - 1)
