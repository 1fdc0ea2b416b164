"""cove._capabilities._calls.HostCalls: the gate every host call goes through."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from cove._capabilities._calls import HostCalls
from cove._capabilities._effects import EmittedEvent, EventEffects, OutboundMessage
from cove._capabilities._grants import Grants, Limits
from cove._capabilities._http import HttpRequest, HttpResponse
from cove._manifest_grants import Capability
from cove.errors import HostCallError, LimitExceededError
from tests.helpers.fakes import FakeStateReader

LogLine = tuple[str, str, str, dict[str, str]]


class FakeHttp:
    """Records what it was asked and answers 200."""

    def __init__(self) -> None:
        self.seen: list[tuple[HttpRequest, tuple[str, ...]]] = []
        self.waits: list[tuple[float | None, bool]] = []
        """Each request's time left, and whether it was already cut."""

    def fetch(
        self,
        request: HttpRequest,
        allow: tuple[str, ...],
        timeout: float | None = None,
        cut: Callable[[], bool] = lambda: False,
    ) -> HttpResponse:
        self.seen.append((request, allow))
        self.waits.append((timeout, cut()))
        return HttpResponse(200, (), b"ok")


def host_calls(
    declared: set[Capability] | None = None,
    granted: set[Capability] | None = None,
    *,
    host_calls: int = 100,
    transports: tuple[str, ...] | None = None,
    config: dict[str, Any] | None = None,
    http: Any = None,
    logs: list[LogLine] | None = None,
) -> HostCalls:
    declared = set(declared or set()) | {"logging", "config"}
    granted = declared if granted is None else granted | {"logging", "config"}
    grants = Grants(
        module="mod",
        declared=frozenset(declared),
        granted=frozenset(granted),
        http_allow=("api.test",),
        transports=transports,
        limits=Limits(fuel=1, memory_bytes=1, timeout_ms=1, state_bytes=100, host_calls=host_calls),
        emit_names=("counter.*",),
    )
    sink = logs.append if logs is not None else lambda *line: None
    return HostCalls(
        grants=grants,
        effects=EventEffects("mod", FakeStateReader({"mod": {"k": b"v"}}), quota=100),
        config=config or {},
        http=http,
        log_sink=lambda *line: sink(line),
        event_id="ev-1",
    )


# the gate --------------------------------------------------------------------------


def test_undeclared_capability_is_unsupported_naming_module_and_capability() -> None:
    """Calling an interface the manifest never declared is ``unsupported``."""
    calls = host_calls()
    with pytest.raises(HostCallError) as info:
        calls.store_get("k")
    assert "unsupported" == info.value.kind
    assert "module 'mod' has no 'store' capability (not declared in its manifest)" == (
        info.value.message
    )


def test_denied_capability_is_unsupported_and_says_the_operator_denied_it() -> None:
    """A declared but denied capability is ``unsupported`` with a different reason."""
    calls = host_calls(declared={"http"}, granted=set(), http=FakeHttp())
    with pytest.raises(HostCallError) as info:
        calls.http_fetch(HttpRequest("GET", "https://api.test/"))
    assert "unsupported" == info.value.kind
    assert "module 'mod' has no 'http' capability (denied by the operator)" == info.value.message


def test_every_call_is_recorded_with_its_error_kind() -> None:
    """Each call appends one record: interface, function, summary, and the error if any."""
    calls = host_calls(declared={"store"})
    calls.store_set("a", b"123")
    with pytest.raises(HostCallError):
        calls.store_get("missing")
    with pytest.raises(HostCallError):
        calls.events_emit("x", "")
    assert [
        ("store", "set", "a (3 bytes)", None),
        ("store", "get", "missing", "not-found: store: no key 'missing'"),
        (
            "events",
            "emit",
            "x",
            "unsupported: module 'mod' has no 'events' capability (not declared in its manifest)",
        ),
    ] == [(r.interface, r.function, r.summary, r.error) for r in calls.records]
    assert 3 == calls.calls


def test_record_summary_is_truncated() -> None:
    """Long arguments do not bloat trajectories."""
    calls = host_calls(declared={"store"})
    calls.store_list_keys("p" * 500)
    assert "p" * 120 == calls.records[0].summary


def test_host_call_budget_raises_limit_exceeded() -> None:
    """The call after the budget stops the event with LimitExceededError (host-calls)."""
    calls = host_calls(declared={"store"}, host_calls=2)
    calls.store_list_keys("")
    calls.store_list_keys("")
    with pytest.raises(LimitExceededError) as info:
        calls.store_list_keys("")
    assert ("mod", "host-calls") == (info.value.module, info.value.limit)
    assert "more than 2 host calls in one event" in str(info.value)
    assert 2 == len(calls.records)


def test_refused_calls_count_against_the_budget() -> None:
    """A module cannot spin on calls it is not allowed to make."""
    calls = host_calls(host_calls=1)
    with pytest.raises(HostCallError):
        calls.store_get("k")
    with pytest.raises(LimitExceededError):
        calls.store_get("k")


# the interfaces -----------------------------------------------------------------------


def test_store_calls_go_through_the_event_overlay() -> None:
    """Store calls read and write the event's effects, not the durable store."""
    calls = host_calls(declared={"store"})
    assert b"v" == calls.store_get("k")
    calls.store_set_many([("a", b"1"), ("b", b"2")])
    calls.store_delete("k")
    assert [b"1", None, b"2"] == calls.store_get_many(["a", "k", "b"])
    assert ["a", "b"] == calls.store_list_keys("")
    assert {"a": b"1", "b": b"2", "k": None} == calls.effects.writes


def test_a_delete_or_a_list_prefix_over_the_key_bound_is_refused_as_a_set_is() -> None:
    """docs/security.md: a state key and a list-keys prefix past 1,024 bytes get
    invalid-input; a delete wrote the whole key into the overlay (and the commit)."""
    calls = host_calls(declared={"store"})
    for call, what in ((calls.store_delete, "key"), (calls.store_list_keys, "prefix")):
        with pytest.raises(HostCallError) as info:
            call("k" * 1025)
        assert ("invalid-input", f"store: the {what} is longer than the limit of 1024 bytes") == (
            info.value.kind,
            info.value.message,
        )
    assert {} == calls.effects.writes


def test_store_quota_error_reaches_the_module_as_limit_exceeded_kind() -> None:
    """Going over the state quota is a host error the module sees, not an event failure."""
    calls = host_calls(declared={"store"})
    with pytest.raises(HostCallError) as info:
        calls.store_set("big", b"x" * 200)
    assert "limit-exceeded" == info.value.kind
    assert "limit-exceeded" == (calls.records[-1].error or "").split(":")[0]


def test_messaging_send_queues_an_outbound_message() -> None:
    """Sends go to the outbox, to leave after commit."""
    calls = host_calls(declared={"messaging"})
    calls.messaging_send("sms", "+1", "hi", (("k", "v"),))
    assert [OutboundMessage("sms", "+1", "hi", (("k", "v"),))] == calls.effects.outbox


def test_messaging_send_to_a_transport_outside_the_list_is_denied() -> None:
    """``[capabilities.messaging] transports`` is enforced per call."""
    calls = host_calls(declared={"messaging"}, transports=("console",))
    with pytest.raises(HostCallError) as info:
        calls.messaging_send("sms", "+1", "hi")
    assert "denied" == info.value.kind
    assert "'sms'" in info.value.message
    assert [] == calls.effects.outbox


def test_events_emit_queues_an_event_and_refuses_empty_names() -> None:
    """Emitted events go to the outbox; an empty name is invalid input."""
    calls = host_calls(declared={"events"})
    calls.events_emit("counter.threshold", '{"n": 5}')
    with pytest.raises(HostCallError) as info:
        calls.events_emit("", "")
    assert "invalid-input" == info.value.kind
    assert [EmittedEvent("counter.threshold", '{"n": 5}')] == calls.effects.outbox


def test_events_emit_refuses_a_name_outside_the_granted_patterns() -> None:
    calls = host_calls(declared={"events"})
    with pytest.raises(HostCallError) as info:
        calls.events_emit("other.threshold", "{}")
    assert "denied" == info.value.kind
    assert [] == calls.effects.outbox


def test_log_goes_to_the_sink_with_the_event_id() -> None:
    """Logging needs no declaration and tags each line with the event id."""
    logs: list[LogLine] = []
    calls = host_calls(logs=logs)
    calls.log("info", "hello", {"a": "b"})
    assert [("mod", "info", "hello", {"a": "b", "event_id": "ev-1"})] == logs


def test_config_reads_need_no_declaration() -> None:
    """``config.get`` returns a value or None; ``config.keys`` is sorted."""
    calls = host_calls(config={"b": 1, "a": [2]})
    assert [2] == calls.config_get("a")
    assert calls.config_get("zzz") is None
    assert ["a", "b"] == calls.config_keys()


def test_http_fetch_passes_the_granted_allowlist() -> None:
    """The backend gets the module's allowlist with every request."""
    http = FakeHttp()
    calls = host_calls(declared={"http"}, http=http)
    request = HttpRequest("GET", "https://api.test/x")
    assert 200 == calls.http_fetch(request).status
    assert [(request, ("api.test",))] == http.seen
    assert "GET https://api.test/x → 200" == calls.records[0].summary


def test_a_cancelled_call_gives_every_later_wait_no_time_and_cuts_the_one_under_way() -> None:
    """The engine's stop cancels the call: a request made after it has nothing left of
    the deadline, and the body being read learns at its next chunk that it is cut."""
    http = FakeHttp()
    calls = host_calls(declared={"http"}, http=http)
    calls.deadline_ns = time.perf_counter_ns() + 60 * 10**9
    calls.http_fetch(HttpRequest("GET", "https://api.test/x"))
    calls.cancel()
    calls.http_fetch(HttpRequest("GET", "https://api.test/x"))
    (before, was_cut), after = http.waits
    assert before is not None and before > 59
    assert not was_cut
    assert (0.0, True) == after


def test_an_http_record_ends_with_the_status_within_the_summary_limit() -> None:
    """The status survives a URL long enough to be clipped: it is what a reader looks for."""
    calls = host_calls(declared={"http"}, http=FakeHttp())
    calls.http_fetch(HttpRequest("GET", "https://api.test/" + "a" * 300))
    summary = calls.records[0].summary
    assert summary.endswith(" → 200")
    assert 120 == len(summary)


def test_http_fetch_without_a_backend_is_unavailable() -> None:
    """An engine without http reports ``unavailable`` instead of crashing."""
    calls = host_calls(declared={"http"})
    with pytest.raises(HostCallError) as info:
        calls.http_fetch(HttpRequest("GET", "https://api.test/"))
    assert "unavailable" == info.value.kind


# a read-only view (init inside another call) ---------------------------------------


def test_a_read_only_view_reads_the_overlay_refuses_writes_and_keeps_its_own_budget() -> None:
    calls = host_calls({"store", "events"})
    calls.store_set("new", b"1")
    view = calls.read_only()
    assert b"1" == view.store_get("new") and b"v" == view.store_get("k")
    for write in (lambda: view.store_set("k", b"x"), lambda: view.events_emit("e", "{}")):
        with pytest.raises(HostCallError) as refused:
            write()
        assert "denied" == refused.value.kind
    assert {"new": b"1"} == calls.effects.writes and [] == calls.effects.outbox
    assert (1, 4) == (calls.calls, view.calls)  # the view's calls do not spend the call's budget


def test_a_get_or_set_key_over_the_bound_in_bytes_is_refused_and_recorded() -> None:
    """The store's get and set check a key's size in place (not through ``_gate``): a key
    of few characters but more than 1,024 bytes (300 four-byte ones) is still refused,
    and both calls are still counted and recorded with their error."""
    calls = host_calls(declared={"store"})
    key = "\U0001f600" * 300
    for call in (lambda: calls.store_get(key), lambda: calls.store_set(key, b"v")):
        with pytest.raises(HostCallError) as info:
            call()
        assert ("invalid-input", "store: the key is longer than the limit of 1024 bytes") == (
            info.value.kind,
            info.value.message,
        )
    assert 2 == calls.calls
    assert [("store", "get"), ("store", "set")] == [
        (r.interface, r.function) for r in calls.records
    ]
    assert all((r.error or "").startswith("invalid-input: ") for r in calls.records)
    assert {} == calls.effects.writes
