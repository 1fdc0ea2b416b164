"""Tracing's spans and their parents, checked with the SDK's in-memory exporter."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from cove._capabilities._call_record import HostCallRecord
from cove._config_tracing import TracingSettings
from cove._events import Custom, Event, Message, Webhook
from cove._observe._tracing import Tracing
from cove._store._base import JournalEntry, OutboxEntry

CALLER = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def tracing(exporter: InMemorySpanExporter) -> Iterator[Tracing]:
    tracing = Tracing(TracingSettings(endpoint="http://127.0.0.1:9/v1/traces"), exporter)
    yield tracing
    tracing.close()


def finished(tracing: Tracing, exporter: InMemorySpanExporter) -> dict[str, ReadableSpan]:
    tracing.provider.force_flush()
    return {span.name: span for span in exporter.get_finished_spans()}


def parent_of(span: ReadableSpan) -> int | None:
    return None if span.parent is None else span.parent.span_id


def test_a_failed_event_and_its_failed_host_call_are_errors_under_the_journal_span(
    tracing: Tracing, exporter: InMemorySpanExporter
) -> None:
    event = Event(Custom("probe.x", "", "null"))
    tracing.journal([event]).end()
    trace = tracing.event("mod", JournalEntry(7, event))
    trace.host_call(
        HostCallRecord("http", "fetch", "GET https://a.test/", "timeout: slow", 1_000),
        time.perf_counter_ns(),
    )
    trace.finish("failed", "ValueError: no", 0)
    spans = finished(tracing, exporter)
    journal, handled, call = spans["cove.journal"], spans["cove.event"], spans["http.fetch"]
    assert journal.parent is None  # no inbound traceparent: a new trace
    assert journal.context.span_id == parent_of(handled)
    assert handled.context.span_id == parent_of(call)
    assert (StatusCode.ERROR, "ValueError: no") == (
        handled.status.status_code,
        handled.status.description,
    )
    assert (StatusCode.ERROR, "timeout: slow") == (call.status.status_code, call.status.description)
    assert 1_000 == call.end_time - call.start_time  # type: ignore[operator]
    assert {"cove.module": "mod", "cove.event.seq": 7}.items() <= dict(
        handled.attributes or {}
    ).items()


def test_an_inbound_traceparent_is_the_journal_spans_parent(
    tracing: Tracing, exporter: InMemorySpanExporter
) -> None:
    hooked = Event(Webhook("/in", "POST", (("TraceParent", CALLER),), b""))
    broken = Event(Webhook("/in", "POST", (("traceparent", "00-nonsense"),), b""))
    relayed = Event(Message("hook", "other-engine", "bot", "hi", (("traceparent", CALLER),)))
    tracing.journal([hooked, broken, relayed]).end()
    tracing.provider.force_flush()
    first, second, third = exporter.get_finished_spans()
    assert f"{first.context.trace_id:032x}" == CALLER.split("-")[1]
    assert f"{parent_of(first):016x}" == CALLER.split("-")[2]
    assert second.parent is None  # an unreadable traceparent starts a new trace
    assert first.context.trace_id == third.context.trace_id  # a message's metadata works too


def test_a_delivery_is_under_its_event_carries_its_traceparent_and_records_failure(
    tracing: Tracing, exporter: InMemorySpanExporter
) -> None:
    event = Event(Custom("probe.x", "", "null"), id="ev:1")
    tracing.event("mod", JournalEntry(1, event)).finish("ok", "", 0)
    entry = OutboxEntry(5, "mod:ev:1:0", "mod", "message", "{}", 2)
    with tracing.delivery(entry):
        headers = tracing.headers()
        tracing.failed("DeliveryError: 503")
    spans = finished(tracing, exporter)
    handled, deliver = spans["cove.event"], spans["cove.deliver"]
    assert handled.context.span_id == parent_of(deliver)
    trace_id, span_id = f"{deliver.context.trace_id:032x}", f"{deliver.context.span_id:016x}"
    assert f"00-{trace_id}-{span_id}" == headers["traceparent"].rsplit("-", 1)[0]
    assert StatusCode.ERROR == deliver.status.status_code


def test_an_emitted_event_is_handled_in_the_trace_that_emitted_it(
    tracing: Tracing, exporter: InMemorySpanExporter
) -> None:
    source = Event(Custom("probe.x", "", "null"), id="ev-1")
    tracing.event("mod", JournalEntry(1, source)).finish("ok", "", 0)
    with tracing.delivery(OutboxEntry(1, "mod:ev-1:0", "mod", "emit", "{}", 0)):
        tracing.emitted("emit:mod:ev-1:0")
    emitted = Event(Custom("mod.done", "mod", "null"), id="emit:mod:ev-1:0")
    tracing.event("other", JournalEntry(2, emitted)).finish("ok", "", 0)
    tracing.provider.force_flush()
    first, deliver, second = exporter.get_finished_spans()
    assert first.context.trace_id == second.context.trace_id
    assert deliver.context.span_id == parent_of(second)


def test_sampling_keeps_a_callers_sampled_trace_even_at_ratio_zero(
    exporter: InMemorySpanExporter,
) -> None:
    settings = TracingSettings(endpoint="http://127.0.0.1:9/v1/traces", sample_ratio=0.0)
    tracing = Tracing(settings, exporter)
    own = Event(Custom("probe.x", "", "null"))
    called = Event(Webhook("/in", "POST", (("traceparent", CALLER),), b""))
    tracing.journal([own, called]).end()
    tracing.close()
    [kept] = exporter.get_finished_spans()
    assert f"{kept.context.trace_id:032x}" == CALLER.split("-")[1]


def test_an_event_handled_before_its_publish_returns_is_under_its_journal_span(
    tracing: Tracing, exporter: InMemorySpanExporter
) -> None:
    """Modules wake before the journal's flush: the parent must exist from the append on."""
    event = Event(Custom("probe.x", "", "null"))
    journal = tracing.journal([event])
    tracing.event("mod", JournalEntry(1, event)).finish("ok", "", 0)
    journal.end()
    spans = finished(tracing, exporter)
    assert spans["cove.journal"].context.span_id == parent_of(spans["cove.event"])
