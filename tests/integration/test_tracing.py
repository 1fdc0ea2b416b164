"""OpenTelemetry traces on a real engine, exported over OTLP/HTTP to a local collector.

The collector is a real HTTP server on loopback that keeps what the engine's
OTLP exporter POSTs; the test decodes the protobuf export requests. The
outbound webhook goes to the same server, so the test also sees the
``traceparent`` it carried.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from cove import Engine
from cove._sources._webhook_server import WebhookServer
from tests.helpers.engine import running_engine, state_json, wait_until
from tests.helpers.http_server import LocalServer, local_http_server
from tests.helpers.modules import ASSETS, write_engine_config, write_manifest

TOKEN = "token-for-tracing-tests"
CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"


@dataclass(frozen=True)
class SpanSeen:
    name: str
    trace_id: str
    span_id: str
    parent_id: str
    attributes: dict[str, object]
    status: int
    links: tuple[str, ...]


def spans(server: LocalServer) -> Iterator[SpanSeen]:
    """Every span the engine exported to ``/v1/traces`` of ``server``."""
    for path, body in zip(server.hits, server.bodies, strict=True):
        if path != "/v1/traces":
            continue
        request = ExportTraceServiceRequest.FromString(body)
        for resource in request.resource_spans:
            service = {a.key: a.value.string_value for a in resource.resource.attributes}
            assert "cove-under-test" == service["service.name"]
            for scope in resource.scope_spans:
                for span in scope.spans:
                    attributes = {a.key: _value(a.value) for a in span.attributes}
                    yield SpanSeen(
                        span.name,
                        span.trace_id.hex(),
                        span.span_id.hex(),
                        span.parent_span_id.hex(),
                        attributes,
                        span.status.code,
                        tuple(link.span_id.hex() for link in span.links),
                    )


def _value(value: object) -> object:
    kind = value.WhichOneof("value")  # type: ignore[attr-defined]
    return getattr(value, kind) if kind else None


def _config(tmp_path: Path, collector: LocalServer) -> Path:
    module = write_manifest(
        tmp_path / "traced",
        "traced",
        kind="python",
        entry="traced:Traced",
        required=["store", "messaging"],
        subscriptions=[{"kind": "webhook", "path": "/in"}],
        tools=True,
    )
    shutil.copy(ASSETS / "traced" / "traced.py", module / "traced.py")
    (tmp_path / "token").write_text(TOKEN + "\n")
    extra = (
        f'[webhook]\nport = 0\ntoken_file = "{tmp_path / "token"}"\n'
        f'[[transports]]\nname = "out"\nkind = "webhook"\nurl = "{collector.url("/out")}"\n'
        f'[tracing]\nendpoint = "{collector.url("/v1/traces")}"\n'
        'service_name = "cove-under-test"\n'
    )
    return write_engine_config(tmp_path / "engine.toml", [module], extra)


async def _running(engine: Engine) -> None:
    await wait_until(lambda: engine.runners["traced"].state.value == "running", what="running")


ROUTES = {"/v1/traces": (200, {}, b""), "/out": (200, {}, b"")}


async def test_an_inbound_webhook_traces_through_handler_commit_and_outbound_delivery(
    tmp_path: Path,
) -> None:
    with local_http_server(ROUTES) as collector:
        async with running_engine(_config(tmp_path, collector)) as engine:
            server = next(s for s in engine.sources if isinstance(s, WebhookServer))
            async with httpx.AsyncClient(base_url=await server.wait_started()) as client:
                headers = {
                    "authorization": f"Bearer {TOKEN}",
                    "traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-01",
                }
                answer = await client.post("/webhooks/in", content=b"hello", headers=headers)
            assert 202 == answer.status_code
            await wait_until(lambda: "/out" in collector.hits, what="the outbound webhook")
            assert "hello" == state_json(engine, "traced", "last")
        # the engine stopped: its exporter has flushed every span
        seen = list(spans(collector))
        outbound = collector.headers[collector.hits.index("/out")]

    by_name = {s.name: s for s in seen}
    journal, event = by_name["cove.journal"], by_name["cove.event"]
    commit, deliver = by_name["cove.commit"], by_name["cove.deliver"]
    assert {CALLER_TRACE} == {s.trace_id for s in seen}, seen
    assert CALLER_SPAN == journal.parent_id
    assert journal.span_id == event.parent_id
    assert ("traced", "webhook", "ok") == (
        event.attributes["cove.module"],
        event.attributes["cove.event.kind"],
        event.attributes["cove.outcome"],
    )
    calls = [s for s in seen if s.parent_id == event.span_id and not s.name.startswith("cove.")]
    assert {"store.set", "messaging.send"} <= {s.name for s in calls}
    assert event.span_id == commit.parent_id
    assert event.span_id == deliver.parent_id
    assert "message" == deliver.attributes["cove.effect.kind"]
    assert f"00-{CALLER_TRACE}-{deliver.span_id}-01" == outbound["traceparent"]


async def test_a_tool_call_is_a_trace_of_its_own_with_its_host_calls(tmp_path: Path) -> None:
    with local_http_server(ROUTES) as collector:
        async with running_engine(_config(tmp_path, collector)) as engine:
            await _running(engine)
            assert '{"bumps": 1}' == await engine.tools.call("traced.bump", {})
        seen = list(spans(collector))
    [tool] = [s for s in seen if s.name == "cove.tool"]
    assert ("traced", "traced.bump", "ok") == (
        tool.attributes["cove.module"],
        tool.attributes["cove.tool"],
        tool.attributes["cove.outcome"],
    )
    children = [s for s in seen if s.parent_id == tool.span_id]
    assert {"store.set", "cove.commit"} <= {s.name for s in children}
    assert {tool.trace_id} == {s.trace_id for s in children}


async def test_tracing_is_off_by_default_and_the_sdk_is_not_imported(tmp_path: Path) -> None:
    """Without ``[tracing]``: no spans, and an engine process never imports the SDK."""
    with local_http_server(ROUTES) as collector:
        config = _config(tmp_path, collector)
        config.write_text(config.read_text().split("[tracing]")[0])
        async with running_engine(config) as engine:
            assert engine.tracing is None
            await _running(engine)
            assert '{"bumps": 1}' == await engine.tools.call("traced.bump", {})
        assert "/v1/traces" not in collector.hits
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", NO_SDK, str(config), stdout=asyncio.subprocess.PIPE
        )
        out, _ = await process.communicate()
    assert b"sdk imported: False" in out, out


NO_SDK = """
import asyncio, sys
from pathlib import Path
from cove import Engine, load_config

async def main():
    engine = Engine(load_config(Path(sys.argv[1])))
    await engine.start()
    while engine.runners["traced"].state.value != "running":
        await asyncio.sleep(0.01)
    await engine.tools.call("traced.bump", {})
    await engine.stop(drain_seconds=1)

asyncio.run(main())
print("sdk imported:", any(m.startswith("opentelemetry.sdk") for m in sys.modules))
"""
