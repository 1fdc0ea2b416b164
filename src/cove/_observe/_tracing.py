"""OpenTelemetry traces: one trace per event, from the journal to the outbox delivery.

Design note: each event's trace is

    cove.journal (publish: append + fsync; a child of an inbound webhook's
    │             ``traceparent``, or a message's from another engine)
    └─ cove.event (one per module that handles it)
       ├─ <interface>.<function> (one per host call, timed by the capability gate)
       ├─ cove.commit (the batch commit; linked to the other events it covered)
       └─ cove.deliver (each message sent or event emitted; the outbound webhook
          carries its ``traceparent``, and an emitted event's own trace goes on
          under it)

and a tool call is a ``cove.tool`` span with its host calls under it. The
parent of a span started elsewhere (a runner thread, the outbox task) is
found by event id in a bounded map, not in the journal: the journal's format
stays as it is, and after a restart an event simply starts a new trace.
Host-call spans are made after the call from its record (start and duration)
instead of around it, so the gate's only cost when tracing is off is one
``None`` check. Everything here is imported only when ``[tracing]`` is set.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from .._capabilities._call_record import HostCallRecord
from .._config_tracing import TracingSettings
from .._events import Event, Message, Webhook
from .._store._base import JournalEntry, OutboxEntry
from .._units import parse_duration_ms

REMEMBERED = 20_000
"""Span contexts kept per map: events waiting to be handled, events whose effects wait."""

_PROPAGATOR = TraceContextTextMapPropagator()


class _Contexts:
    """A bounded, thread-safe map from a key to the span context its children hang under."""

    def __init__(self) -> None:
        self._items: OrderedDict[Any, Context] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, key: Any, context: Context) -> None:
        with self._lock:
            self._items[key] = context
            self._items.move_to_end(key)
            while len(self._items) > REMEMBERED:
                self._items.popitem(last=False)

    def get(self, key: Any) -> Context | None:
        with self._lock:
            return self._items.get(key)


class JournalSpans(list[Span]):
    """The journal spans of one publish."""

    def end(self) -> None:
        """The events are durable: their spans end, all at this moment."""
        end_ns = time.time_ns()
        for span in self:
            span.end(end_time=end_ns)


class SpanTrace:
    """The span of one event (or tool call) in one module; the capability gate reports to it."""

    __slots__ = ("_context", "_offset_ns", "_tracer", "span")

    def __init__(self, tracer: trace.Tracer, span: Span, offset_ns: int) -> None:
        self.span = span
        self._tracer = tracer
        self._context = trace.set_span_in_context(span)
        self._offset_ns = offset_ns

    def host_call(self, record: HostCallRecord, start_ns: int) -> None:
        """A child span for one host call (``start_ns`` is ``perf_counter_ns``)."""
        start = start_ns + self._offset_ns
        span = self._tracer.start_span(
            f"{record.interface}.{record.function}",
            context=self._context,
            start_time=start,
            attributes={"cove.summary": record.summary},
        )
        if record.error is not None:
            span.set_status(Status(StatusCode.ERROR, record.error))
        span.end(end_time=start + record.duration_ns)

    def finish(self, outcome: str, error: str, fuel: int) -> None:
        self.span.set_attribute("cove.outcome", outcome)
        if fuel:
            self.span.set_attribute("cove.fuel", fuel)
        if outcome != "ok":
            self.span.set_status(Status(StatusCode.ERROR, error))
        self.span.end()


class Tracing:
    """The engine's tracer: spans for journal, events, host calls, commits, deliveries, tools."""

    def __init__(self, settings: TracingSettings, exporter: SpanExporter | None = None) -> None:
        if exporter is None:
            exporter = OTLPSpanExporter(
                endpoint=settings.endpoint,
                headers=settings.headers,
                timeout=parse_duration_ms(settings.export_timeout) / 1000,
            )
        self.provider = TracerProvider(
            resource=Resource.create({"service.name": settings.service_name}),
            sampler=ParentBased(TraceIdRatioBased(settings.sample_ratio)),
        )
        self.provider.add_span_processor(
            BatchSpanProcessor(exporter, max_queue_size=settings.max_queue)
        )
        self.tracer = self.provider.get_tracer("cove")
        self._journaled = _Contexts()  # event id -> its cove.journal span
        self._handled = _Contexts()  # (module, event id) -> its cove.event span
        # Host calls are timed with perf_counter_ns; spans want Unix ns.
        self._offset_ns = time.time_ns() - time.perf_counter_ns()

    # journal --------------------------------------------------------------------
    def journal(self, events: Sequence[Event]) -> JournalSpans:
        """Start one ``cove.journal`` span per event, before it is appended: a module may
        handle it before its publish returns. ``end()`` them once it is durable."""
        spans = JournalSpans()
        for event in events:
            parent = _inbound(event)
            span = self.tracer.start_span(
                "cove.journal",
                context=parent,
                kind=SpanKind.CONSUMER if parent is not None else SpanKind.INTERNAL,
                attributes={"cove.event.id": event.id, "cove.event.kind": event.kind},
            )
            self._journaled.put(event.id, trace.set_span_in_context(span))
            spans.append(span)
        return spans

    # events and tools -----------------------------------------------------------
    def event(self, module: str, entry: JournalEntry) -> SpanTrace:
        """The ``cove.event`` span of ``module`` handling ``entry`` (under its journal span)."""
        event = entry.event
        span = self.tracer.start_span(
            "cove.event",
            context=self._journaled.get(event.id),
            attributes={
                "cove.module": module,
                "cove.event.id": event.id,
                "cove.event.kind": event.kind,
                "cove.event.seq": entry.seq,
            },
        )
        self._handled.put((module, event.id), trace.set_span_in_context(span))
        return SpanTrace(self.tracer, span, self._offset_ns)

    def tool(self, module: str, tool: str, call_id: str) -> SpanTrace:
        """The ``cove.tool`` span of one tool call (its own trace)."""
        span = self.tracer.start_span(
            "cove.tool",
            kind=SpanKind.SERVER,
            attributes={"cove.module": module, "cove.tool": tool, "cove.call.id": call_id},
        )
        self._handled.put((module, call_id), trace.set_span_in_context(span))
        return SpanTrace(self.tracer, span, self._offset_ns)

    def commit(self, module: str, event_ids: Sequence[str], start_ns: int) -> None:
        """The ``cove.commit`` span of one batch (``start_ns``: ``perf_counter_ns``), under
        its last event, linked to the others."""
        contexts = [self._handled.get((module, event_id)) for event_id in event_ids]
        found = [c for c in contexts if c is not None]
        if not found:
            return
        links = [Link(trace.get_current_span(c).get_span_context()) for c in found[:-1]]
        span = self.tracer.start_span(
            "cove.commit",
            context=found[-1],
            links=links,
            start_time=start_ns + self._offset_ns,
            attributes={"cove.module": module, "cove.events": len(event_ids)},
        )
        span.end()

    # the outbox -----------------------------------------------------------------
    @contextmanager
    def delivery(self, entry: OutboxEntry) -> Iterator[None]:
        """The ``cove.deliver`` span, current while the effect is delivered (so an
        outbound webhook's ``headers()`` carry it)."""
        event_id = entry.key[len(entry.module) + 1 : entry.key.rindex(":")]
        span = self.tracer.start_span(
            "cove.deliver",
            context=self._handled.get((entry.module, event_id)),
            kind=SpanKind.PRODUCER,
            attributes={
                "cove.module": entry.module,
                "cove.effect.kind": entry.kind,
                "cove.effect.key": entry.key,
                "cove.effect.attempts": entry.attempts,
            },
        )
        with trace.use_span(span, end_on_exit=True):
            yield

    def emitted(self, event_id: str) -> None:
        """The event the current delivery journals continues its trace."""
        self._journaled.put(event_id, trace.set_span_in_context(trace.get_current_span()))

    def failed(self, error: str) -> None:
        """Mark the current delivery failed (it is retried or dead-lettered)."""
        trace.get_current_span().set_status(Status(StatusCode.ERROR, error))

    def headers(self) -> dict[str, str]:
        """``traceparent`` (and ``tracestate``) of the current span, for an outbound request."""
        carrier: dict[str, str] = {}
        _PROPAGATOR.inject(carrier)
        return carrier

    def close(self) -> None:
        """Export what is queued, then stop (blocking: call it off the event loop)."""
        self.provider.shutdown()


def _inbound(event: Event) -> Context | None:
    """The caller's trace context, when an inbound webhook carried ``traceparent`` (a
    message from another engine carries it in its metadata)."""
    payload = event.payload
    if isinstance(payload, Webhook):
        pairs = payload.headers
    elif isinstance(payload, Message):
        pairs = payload.metadata
    else:
        return None
    carrier = {name.lower(): value for name, value in pairs}
    if "traceparent" not in carrier:
        return None
    context = _PROPAGATOR.extract(carrier)
    return context if trace.get_current_span(context).get_span_context().is_valid else None
