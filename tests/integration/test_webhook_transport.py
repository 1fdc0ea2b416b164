"""The webhook transport on a real engine: real HTTP in (uvicorn) and out (to a local receiver)."""

from __future__ import annotations

import http.server
import json
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from cove import Engine, load_config
from cove._app import App
from cove._sources._webhook_auth import sign
from cove._sources._webhook_server import WebhookServer
from cove.errors import ConfigError, SourceError
from tests.helpers.engine import running_engine, state_json, wait_until
from tests.helpers.modules import recorder_module, write_engine_config

SECRET = "s3cret-for-tests"
TOKEN = "token-for-tests"


# a real receiver for outbound sends ----------------------------------------------
@dataclass
class Received:
    headers: dict[str, str]
    body: Any


@dataclass
class Receiver:
    """Answers each POST with the next status in ``statuses`` (then 200); records them all."""

    url: str = ""
    statuses: list[int] = field(default_factory=list)
    requests: list[tuple[int, Received]] = field(default_factory=list)
    hold: threading.Event | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, received: Received) -> int:
        with self.lock:
            status = self.statuses.pop(0) if self.statuses else 200
        if status == 200 and self.hold is not None:
            self.hold.wait(timeout=30)
        with self.lock:
            self.requests.append((status, received))
        return status

    def delivered(self) -> list[Received]:
        with self.lock:
            return [r for status, r in self.requests if status == 200]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            status = state.answer(
                Received({k.lower(): v for k, v in self.headers.items()}, json.loads(body))
            )
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/inbox"
    try:
        yield state
    finally:
        if state.hold is not None:
            state.hold.set()
        server.shutdown()
        server.server_close()
        thread.join()


# an engine with [webhook] and one [[transports]] entry ------------------------
def _recorder(tmp_path: Path, echo: bool = False) -> Path:
    subscriptions = [{"kind": "message"}, {"kind": "webhook", "path": "/ping"}]
    return recorder_module(
        tmp_path, subscriptions, required=["store", "messaging"], config={"echo": echo}
    )


@asynccontextmanager
async def _engine(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    outbound: str = "http://127.0.0.1:9/unused",
    echo: bool = False,
    max_body: int = 4096,
) -> AsyncIterator[tuple[Engine, httpx.AsyncClient]]:
    monkeypatch.setenv("COVE_TEST_WEBHOOK_SECRET", SECRET)
    (tmp_path / "token").write_text(TOKEN + "\n")
    extra = (
        "[webhook]\nport = 0\n"
        f"max_body = {max_body}\n"
        'secret_env = "COVE_TEST_WEBHOOK_SECRET"\n'
        f'token_file = "{tmp_path / "token"}"\n'
        "[[transports]]\n"
        'name = "hook"\nkind = "webhook"\n'
        f'url = "{outbound}"\n'
        'secret_env = "COVE_TEST_WEBHOOK_SECRET"\n'
    )
    config = write_engine_config(tmp_path / "engine.toml", [_recorder(tmp_path, echo)], extra)
    async with running_engine(config) as engine:
        server = next(s for s in engine.sources if isinstance(s, WebhookServer))
        async with httpx.AsyncClient(base_url=await server.wait_started()) as client:
            yield engine, client


def _message(sender: str = "alice", body: str = "hello") -> bytes:
    return json.dumps({"sender": sender, "recipient": "bot", "body": body}).encode()


def _signed(body: bytes, **headers: str) -> dict[str, str]:
    return {"x-cove-signature": sign(SECRET.encode(), body), **headers}


def _messages(engine: Engine) -> list[dict[str, Any]]:
    return state_json(engine, "recorder", "messages") or []


# inbound -------------------------------------------------------------------
async def test_signed_message_is_journaled_and_handled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with _engine(tmp_path, monkeypatch) as (engine, client):
        body = _message()
        headers = _signed(body, **{"x-cove-meta-thread": "t-1"})
        response = await client.post("/messages/hook", content=body, headers=headers)
        assert 202 == response.status_code
        await wait_until(lambda: len(_messages(engine)) == 1, what="message handled")
        assert [
            {
                "sender": "alice",
                "recipient": "bot",
                "body": "hello",
                "metadata": [["thread", "t-1"]],
            }
        ] == _messages(engine)


async def test_a_messages_trace_context_becomes_its_metadata(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another engine's webhook transport sends ``traceparent``: the message keeps it."""
    parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    async with _engine(tmp_path, monkeypatch) as (engine, client):
        body = _message()
        headers = _signed(body, traceparent=parent, **{"x-cove-meta-thread": "t-1"})
        response = await client.post("/messages/hook", content=body, headers=headers)
        assert 202 == response.status_code
        await wait_until(lambda: len(_messages(engine)) == 1, what="message handled")
        assert [["thread", "t-1"], ["traceparent", parent]] == _messages(engine)[0]["metadata"]


async def test_bearer_token_is_accepted_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with _engine(tmp_path, monkeypatch) as (engine, client):
        headers = {"authorization": f"Bearer {TOKEN}"}
        response = await client.post("/messages/hook", content=_message(), headers=headers)
        assert 202 == response.status_code
        await wait_until(lambda: len(_messages(engine)) == 1, what="message handled")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"x-cove-signature": sign(b"not the secret", _message())},
        {"x-cove-signature": "sha256=zz"},
        {"x-cove-signature": sign(SECRET.encode(), b"another body")},
        {"authorization": "Bearer wrong-token"},
        {"authorization": f"Basic {TOKEN}"},
    ],
    ids=["missing", "wrong-secret", "malformed", "other-body", "wrong-token", "not-bearer"],
)
async def test_unauthenticated_requests_get_401_and_journal_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, headers: dict[str, str]
) -> None:
    async with _engine(tmp_path, monkeypatch) as (engine, client):
        head = engine.store.head()
        for target in ("/messages/hook", "/webhooks/ping"):
            response = await client.post(target, content=_message(), headers=headers)
            assert 401 == response.status_code
            assert "error" in response.json()
        assert head == engine.store.head()


async def test_oversize_body_gets_413_and_journals_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with _engine(tmp_path, monkeypatch, max_body=256) as (engine, client):
        head = engine.store.head()
        body = _message(body="x" * 300)
        response = await client.post("/messages/hook", content=body, headers=_signed(body))
        assert 413 == response.status_code
        assert head == engine.store.head()


async def test_redelivery_with_the_same_delivery_id_is_journaled_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with _engine(tmp_path, monkeypatch) as (engine, client):
        head = engine.store.head()
        body = _message()
        headers = _signed(body, **{"x-cove-delivery": "d-42"})
        first = await client.post("/messages/hook", content=body, headers=headers)
        again = await client.post("/messages/hook", content=body, headers=headers)
        assert (202, 202) == (first.status_code, again.status_code)
        assert first.json() == again.json() == {"id": "message:hook:d-42"}
        assert head + 1 == engine.store.head()
        await wait_until(lambda: len(_messages(engine)) == 1, what="message handled")


async def test_webhook_path_becomes_a_webhook_event(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with _engine(tmp_path, monkeypatch) as (engine, client):
        body = b'{"anything": true}'
        headers = {"authorization": f"Bearer {TOKEN}", "x-github-event": "push"}
        response = await client.post("/webhooks/ping", content=body, headers=headers)
        assert 202 == response.status_code
        await wait_until(lambda: state_json(engine, "recorder", "webhooks") is not None)
        [hook] = state_json(engine, "recorder", "webhooks")
        assert ("/ping", body.decode()) == (hook["path"], hook["body"])
        assert "push" == hook["headers"]["x-github-event"]
        assert "authorization" not in hook["headers"]


async def test_unknown_transport_is_404(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with _engine(tmp_path, monkeypatch) as (_, client):
        body = _message()
        response = await client.post("/messages/nope", content=body, headers=_signed(body))
        assert 404 == response.status_code


# outbound ------------------------------------------------------------------
async def test_reply_reaches_the_receiver_with_an_idempotency_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, receiver: Receiver
) -> None:
    async with _engine(tmp_path, monkeypatch, outbound=receiver.url, echo=True) as (_, client):
        body = _message()
        await client.post("/messages/hook", content=body, headers=_signed(body))
        await wait_until(lambda: len(receiver.delivered()) == 1, what="reply delivered")
    [reply] = receiver.delivered()
    assert {"recipient": "alice", "body": "echo: hello", "metadata": []} == reply.body
    assert reply.headers["idempotency-key"].startswith("recorder:")
    assert reply.headers["idempotency-key"] == reply.headers["x-cove-delivery"]
    raw = json.dumps(reply.body).encode()
    assert sign(SECRET.encode(), raw) == reply.headers["x-cove-signature"]


async def test_failing_receiver_is_retried_and_never_blocks_the_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, receiver: Receiver
) -> None:
    """500, 500, then 200: delivered once; meanwhile the module keeps handling events."""
    receiver.statuses = [500, 500]
    receiver.hold = threading.Event()  # the successful attempt waits for the test
    async with _engine(tmp_path, monkeypatch, outbound=receiver.url, echo=True) as (engine, client):
        body = _message()
        await client.post("/messages/hook", content=body, headers=_signed(body))
        await wait_until(lambda: len(receiver.requests) == 2, what="two failed attempts")

        ping = b"{}"
        headers = {"authorization": f"Bearer {TOKEN}"}
        await client.post("/webhooks/ping", content=ping, headers=headers)
        await wait_until(lambda: state_json(engine, "recorder", "webhooks") is not None)
        assert [] == receiver.delivered()  # the module moved on while the reply was pending

        receiver.hold.set()
        await wait_until(lambda: len(receiver.delivered()) == 1, what="delivered after retries")
    assert [500, 500, 200] == [status for status, _ in receiver.requests]
    keys = {r.headers["idempotency-key"] for _, r in receiver.requests}
    assert 1 == len(keys)


# config ----------------------------------------------------------------------
def test_a_non_loopback_host_without_a_secret_or_token_is_refused(tmp_path: Path) -> None:
    config = write_engine_config(tmp_path / "engine.toml", [], '[webhook]\nhost = "0.0.0.0"\n')
    with pytest.raises(ConfigError, match="secret_env/secret_file or token_env/token_file"):
        load_config(config)


def test_a_secret_named_by_an_unset_variable_is_refused_at_construction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COVE_TEST_UNSET", raising=False)
    extra = '[webhook]\nhost = "0.0.0.0"\nsecret_env = "COVE_TEST_UNSET"\n'
    config = load_config(write_engine_config(tmp_path / "engine.toml", [], extra))
    with pytest.raises(ConfigError, match="COVE_TEST_UNSET is not set"):
        App(config)


async def test_a_taken_port_is_reported_with_what_to_change(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        extra = f"[webhook]\nport = {port}\n"
        config = write_engine_config(tmp_path / "engine.toml", [], extra)
        async with running_engine(config) as engine:
            server = next(s for s in engine.sources if isinstance(s, WebhookServer))
            with pytest.raises(
                SourceError, match=r"cannot listen on 127.0.0.1:\d+.*\[webhook\] port"
            ):
                await server.wait_started()
