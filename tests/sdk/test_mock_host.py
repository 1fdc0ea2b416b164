"""MockHost runs a guest's handlers in plain Python with the engine's checks."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
from cove_sdk import HostError
from cove_sdk.testing import Emitted, LogRecord, MockHost, MockHostError, Sent

from cove._capabilities._calls import HostCalls
from cove._capabilities._effects import EventEffects
from cove._capabilities._grants import resolve_grants
from cove._manifest import load_manifest
from cove.errors import HostCallError
from tests.helpers.fakes import FakeStateReader, engine_config

REPO = Path(__file__).resolve().parents[2]

MANIFEST = """
[module]
name = "demo"
kind = "wasm"
component = "demo.wasm"

[capabilities]
required = ["store"]
optional = ["messaging", "http"]

[capabilities.http]
allow = ["api.example.com"]

[capabilities.messaging]
transports = ["chat"]

[config]
greeting = "hi"

[[subscription]]
kind = "custom"
name = "demo.*"

[[subscription]]
kind = "message"
"""

APP = """
import json
from cove_sdk import WitWorld, config, emit, fetch, log, on_event, on_init, on_message, send, state

__all__ = ["WitWorld"]


@on_init
def setup():
    if config.get("write_in_init"):
        state.set("x", 1)
        state.flush()


@on_event("custom")
def custom(event, meta):
    request = json.loads(event.payload)
    op = request["op"]
    state.incr("seen")
    if op == "send":
        send(request.get("transport", "chat"), "bob", config["greeting"])
    elif op == "emit":
        emit("demo.done", {"n": 1})
    elif op == "fetch":
        state.set("price", fetch(request["url"]).json()["price"])
    elif op == "fail":
        send("chat", "bob", "never delivered")
        raise ValueError("asked to fail")
    log("handled", op=op)


@on_message
def echo(message, meta):
    send("chat", message.sender, message.body.upper())
"""


def write_module(tmp_path: Path, manifest: str = MANIFEST, app: str = APP) -> Path:
    root = tmp_path / "demo"
    root.mkdir()
    (root / "cove.toml").write_text(textwrap.dedent(manifest))
    (root / "app.py").write_text(textwrap.dedent(app))
    return root


def test_the_counter_example_counts_and_alerts() -> None:
    """The shipped example, run natively: every `threshold` readings it alerts."""
    host = MockHost(REPO / "examples" / "counter", config={"threshold": 2})
    for value in (1, 2, 3):
        host.custom("sensor.reading", {"value": value})
    assert {"count": 3, "sum": 6.0} == host.state
    assert [
        Emitted("counter.threshold", {"count": 2, "sum": 3.0, "event": "mock-2"})
    ] == host.emitted
    assert [Sent("console", "ops", "counter reached 2 readings (sum 3)")] == host.sent
    assert [LogRecord("info", "threshold reached", {"count": "2"})] == host.logs


def test_effects_commit_per_event(tmp_path: Path) -> None:
    """Sends, logs and state land after a successful event."""
    host = MockHost(write_module(tmp_path))
    host.custom("demo.go", {"op": "send"})
    host.message("ping", sender="carol")
    assert {"seen": 1} == host.state
    assert [Sent("chat", "bob", "hi"), Sent("chat", "carol", "PING")] == host.sent
    assert [LogRecord("info", "handled", {"op": "send"})] == host.logs


def test_a_failed_event_rolls_back(tmp_path: Path) -> None:
    """The handler's exception reaches the test; its writes and sends are dropped."""
    host = MockHost(write_module(tmp_path), state={"seen": 5})
    with pytest.raises(ValueError, match="asked to fail"):
        host.custom("demo.go", {"op": "fail"})
    assert {"seen": 5} == host.state
    assert [] == host.sent


def test_undeclared_capability_is_unsupported_as_in_the_sandbox(tmp_path: Path) -> None:
    """`events` is not declared: the interface is absent, the SDK says so."""
    host = MockHost(write_module(tmp_path))
    with pytest.raises(HostError) as caught:
        host.custom("demo.go", {"op": "emit"})
    assert "unsupported" == caught.value.kind
    assert "does not import cove:host/events; declare it in cove.toml" in caught.value.message


def test_denied_optional_capability_answers_like_the_engine(tmp_path: Path) -> None:
    """MockHost's refusal is word for word the engine's capability layer's."""
    root = write_module(tmp_path)
    host = MockHost(root, deny=("messaging",))
    with pytest.raises(HostError) as caught:
        host.custom("demo.go", {"op": "send"})
    manifest = load_manifest(root)
    grants = resolve_grants(manifest, engine_config(policy={"deny": ["messaging"]}))
    calls = HostCalls(grants, EventEffects("demo", FakeStateReader(), 1 << 20), {}, None, print)
    with pytest.raises(HostCallError) as engine:
        calls.messaging_send("chat", "bob", "hi")
    assert (engine.value.kind, engine.value.message) == (caught.value.kind, caught.value.message)


def test_required_capability_cannot_be_denied(tmp_path: Path) -> None:
    """The engine refuses such a module at load; so does MockHost."""
    with pytest.raises(MockHostError, match="requires 'store'"):
        MockHost(write_module(tmp_path), deny=("store",))


def test_transport_outside_the_grant_is_denied(tmp_path: Path) -> None:
    host = MockHost(write_module(tmp_path))
    with pytest.raises(HostError, match="denied: messaging: transport 'sms'"):
        host.custom("demo.go", {"op": "send", "transport": "sms"})


def test_http_answers_from_canned_responses_within_the_allowlist(tmp_path: Path) -> None:
    host = MockHost(write_module(tmp_path))
    host.respond("https://api.example.com/price", json_body={"price": 42})
    host.custom("demo.go", {"op": "fetch", "url": "https://api.example.com/price"})
    assert 42 == host.state["price"]
    assert ["https://api.example.com/price"] == [r.url for r in host.requests]
    with pytest.raises(HostError, match=r"denied: http: 'https://evil\.example\.net/'"):
        host.custom("demo.go", {"op": "fetch", "url": "https://evil.example.net/"})
    with pytest.raises(HostError, match="unavailable: http: no canned response"):
        host.custom("demo.go", {"op": "fetch", "url": "https://api.example.com/other"})


def test_init_may_not_write_state(tmp_path: Path) -> None:
    """Init runs again after every restart, so the engine forbids writes there."""
    with pytest.raises(HostError, match="denied: store: writes are not allowed in init"):
        MockHost(write_module(tmp_path), config={"write_in_init": True})


def test_events_the_module_does_not_subscribe_to_are_refused(tmp_path: Path) -> None:
    host = MockHost(write_module(tmp_path))
    with pytest.raises(MockHostError, match="does not subscribe to this custom event"):
        host.custom("other.thing", {"op": "emit"})
    with pytest.raises(MockHostError, match="does not subscribe to this tick event"):
        host.tick("* * * * *")


def test_config_must_be_wit_values(tmp_path: Path) -> None:
    with pytest.raises(MockHostError, match=r"config.nested: a wasm module's config values"):
        MockHost(write_module(tmp_path), config={"nested": {"a": 1}})


def test_a_fresh_host_starts_from_scratch(tmp_path: Path) -> None:
    """Handlers register once per host, even when the app was imported before."""
    root = write_module(tmp_path)
    MockHost(root).custom("demo.go", {"op": "send"})
    host = MockHost(root)
    host.message("x")
    assert [Sent("chat", "alice", "X")] == host.sent


def test_hosts_for_different_modules_each_get_their_own_app(tmp_path: Path) -> None:
    """Every module's entry point is `app`; the latest host's directory wins."""
    first = write_module(tmp_path)
    other = tmp_path / "other"
    shutil.copytree(REPO / "examples" / "counter", other, ignore=shutil.ignore_patterns("*.wasm"))
    for root in (first, other, first):
        host = MockHost(root)
        assert host.app.__file__ == str(root / "app.py")
