"""Webhook ingress against hostile clients: auth before the body, Standard Webhooks, replay, CSRF.

A real engine (journal, dedup, a recorder module) behind the real uvicorn
server; the raw-socket tests show what is answered before a body is sent.
"""

from __future__ import annotations

import asyncio
import base64
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook as ReferenceSigner

from cove import Engine
from cove._sources._webhook import WebhookTransport
from cove._sources._webhook_server import WebhookServer
from tests.helpers.engine import running_engine, state_json, wait_until
from tests.helpers.modules import recorder_module, write_engine_config

OLD_KEY = base64.b64encode(b"old-key-for-tests-0123456789abcd").decode()
NEW_KEY = base64.b64encode(b"new-key-for-tests-0123456789abcd").decode()
TOKEN = "token-for-tests"


def _recorder(tmp_path: Path) -> Path:
    hooks = [{"kind": "webhook", "path": "/ping"}, {"kind": "webhook", "path": "/other"}]
    return recorder_module(tmp_path, hooks)


@asynccontextmanager
async def _engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, webhook: str
) -> AsyncIterator[tuple[Engine, httpx.AsyncClient]]:
    monkeypatch.setenv("COVE_TEST_WH_KEYS", f"whsec_{NEW_KEY} whsec_{OLD_KEY}")
    (tmp_path / "token").write_text(TOKEN + "\n")
    extra = "[webhook]\nport = 0\n" + webhook
    config = write_engine_config(tmp_path / "engine.toml", [_recorder(tmp_path)], extra)
    async with running_engine(config) as engine:
        server = next(s for s in engine.sources if isinstance(s, WebhookServer))
        async with httpx.AsyncClient(base_url=await server.wait_started()) as client:
            yield engine, client


STANDARD = 'secret_env = "COVE_TEST_WH_KEYS"\nsigning = "standard"\n'
COVE = 'secret_env = "COVE_TEST_WH_KEYS"\n'
TOKEN_ONLY = 'token_file = "token"\n'


def _signed(
    body: bytes, msg_id: str, key: str = OLD_KEY, at: float | None = None
) -> dict[str, str]:
    """Headers from the ``standardwebhooks`` package, the scheme's reference signer."""
    moment = datetime.fromtimestamp(int(at if at is not None else time.time()), UTC)
    signature = ReferenceSigner(f"whsec_{key}").sign(msg_id, moment, body.decode())
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": signature,
    }


def _hooks(engine: Engine) -> list[dict[str, Any]]:
    return state_json(engine, "recorder", "webhooks") or []


def _port(client: httpx.AsyncClient) -> int:
    port = client.base_url.port
    assert port is not None
    return port


def _answer_without_sending_the_body(port: int, headers: dict[str, str]) -> bytes:
    """Send only the headers of a 1 MB POST; return what the server says before any body byte."""
    lines = [
        "POST /webhooks/ping HTTP/1.1",
        "host: 127.0.0.1",
        "content-length: 1000000",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        try:
            return sock.recv(4096)
        except TimeoutError:
            return b"(no answer: the server is waiting for the body)"


# authenticate before reading the body ------------------------------------
@pytest.mark.parametrize(
    ("webhook", "headers"),
    [
        (STANDARD, {}),
        (TOKEN_ONLY, {}),
        (TOKEN_ONLY, {"authorization": "Bearer wrong"}),
        (STANDARD, {"webhook-id": "m-1", "webhook-timestamp": "1", "webhook-signature": "v1,x"}),
        (STANDARD, {"webhook-id": "m-1", "webhook-timestamp": "NOW", "webhook-signature": "v2,x"}),
        (COVE, {"x-cove-signature": "sha256=not-hex"}),
    ],
    ids=["no-signature", "no-token", "wrong-token", "stale-timestamp", "no-v1", "malformed"],
)
async def test_a_request_the_headers_refuse_gets_401_before_its_body_is_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, webhook: str, headers: dict[str, str]
) -> None:
    now = str(int(time.time()))
    headers = {k: now if v == "NOW" else v for k, v in headers.items()}
    async with _engine(tmp_path, monkeypatch, webhook) as (engine, client):
        head = engine.store.head()
        answer = await asyncio.to_thread(_answer_without_sending_the_body, _port(client), headers)
        assert answer.startswith(b"HTTP/1.1 401 "), answer
        assert b"connection: close" in answer.lower()
        assert head == engine.store.head()


# Standard Webhooks --------------------------------------------------------
async def test_a_request_signed_by_the_reference_library_is_journaled_and_handled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with _engine(tmp_path, monkeypatch, STANDARD) as (engine, client):
        body = b'{"n": 1}'
        response = await client.post("/webhooks/ping", content=body, headers=_signed(body, "m-1"))
        assert (202, {"id": "webhook:/ping:webhook-id:m-1"}) == (
            response.status_code,
            response.json(),
        )
        await wait_until(lambda: len(_hooks(engine)) == 1, what="webhook handled")


async def test_either_key_verifies_while_one_is_rotated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with _engine(tmp_path, monkeypatch, STANDARD) as (_, client):
        for n, key in enumerate((OLD_KEY, NEW_KEY)):
            body = b"{}"
            headers = _signed(body, f"m-{n}", key)
            assert (
                202
                == (await client.post("/webhooks/ping", content=body, headers=headers)).status_code
            )
        headers = _signed(b"{}", "m-9", base64.b64encode(b"x" * 32).decode())
        assert (
            401 == (await client.post("/webhooks/ping", content=b"{}", headers=headers)).status_code
        )


async def test_a_captured_request_cannot_be_replayed_with_a_new_id_late_or_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with _engine(tmp_path, monkeypatch, STANDARD) as (engine, client):
        body = b'{"pay": 100}'
        captured = _signed(body, "m-1")
        assert (
            202 == (await client.post("/webhooks/ping", content=body, headers=captured)).status_code
        )
        head = engine.store.head()

        new_id = {**captured, "webhook-id": "m-2"}
        late = _signed(body, "m-3", at=time.time() - 3600)
        replies = [
            await client.post("/webhooks/ping", content=body, headers=new_id),
            await client.post("/webhooks/ping", content=body, headers=late),
            await client.post("/webhooks/other", content=body, headers=captured),
        ]
        assert [401, 401, 409] == [r.status_code for r in replies]
        # the same request again to the same path: a redelivery, answered and journaled once
        again = await client.post("/webhooks/ping", content=body, headers=captured)
        assert 202 == again.status_code
        assert head == engine.store.head()
        await wait_until(lambda: len(_hooks(engine)) == 1, what="webhook handled")
        assert ["/ping"] == [h["path"] for h in _hooks(engine)]


async def test_two_senders_whose_ids_collide_on_different_paths_both_get_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ids are unique per sender, not across them: the event id is scoped by the path."""
    async with _engine(tmp_path, monkeypatch, STANDARD) as (engine, client):
        first, second = b'{"from": "a"}', b'{"from": "b"}'
        replies = [
            await client.post("/webhooks/ping", content=first, headers=_signed(first, "1")),
            await client.post(
                "/webhooks/other",
                content=second,
                headers=_signed(second, "1", key=NEW_KEY, at=time.time() + 2),
            ),
        ]
        assert [202, 202] == [r.status_code for r in replies]
        assert ["webhook:/ping:webhook-id:1", "webhook:/other:webhook-id:1"] == [
            r.json()["id"] for r in replies
        ]
        await wait_until(lambda: len(_hooks(engine)) == 2, what="both webhooks handled")


async def test_a_request_signed_before_a_restart_cannot_be_replayed_to_another_path_after_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The memory of delivered ids is gone after a restart; the timestamp is not."""
    body = b'{"pay": 100}'
    async with _engine(tmp_path, monkeypatch, STANDARD) as (engine, client):
        captured = _signed(body, "m-1")
        assert (
            202 == (await client.post("/webhooks/ping", content=body, headers=captured)).status_code
        )
        await wait_until(lambda: len(_hooks(engine)) == 1, what="webhook handled")
    await asyncio.sleep(1.1)  # the restart is a whole second later, as whole-second stamps see it
    async with _engine(tmp_path, monkeypatch, STANDARD) as (engine, client):
        head = engine.store.head()
        replay = await client.post("/webhooks/other", content=body, headers=captured)
        assert 401 == replay.status_code
        assert "before this engine started" in replay.json()["error"]
        assert head == engine.store.head()
        fresh = await client.post("/webhooks/other", content=body, headers=_signed(body, "m-2"))
        assert 202 == fresh.status_code


@pytest.mark.parametrize("webhook", [STANDARD, COVE], ids=["standard", "cove"])
async def test_a_send_with_a_long_idempotency_key_reaches_a_cove_webhook_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, webhook: str
) -> None:
    """Keys like ``<module>:<event id>:<index>`` pass the 200-character id bound; the id sent must not."""
    keys = f"whsec_{NEW_KEY} whsec_{OLD_KEY}"
    async with _engine(tmp_path, monkeypatch, webhook) as (engine, client):
        transport = WebhookTransport(
            "out",
            f"{client.base_url}/webhooks/ping",
            secret=keys.encode() if webhook == COVE else None,
            standard_key=base64.b64decode(NEW_KEY) if webhook == STANDARD else None,
        )
        key = "recorder:" + "e" * 300 + ":0"
        try:
            await transport.send("bob", "hi", [], key)
            await transport.send("bob", "hi", [], key)  # a retry: the same id again
        finally:
            await transport.aclose()
        await wait_until(lambda: len(_hooks(engine)) == 1, what="webhook handled")


async def test_a_binary_body_is_verified_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reference library cannot verify a non-UTF-8 body; cove signs and checks bytes."""
    from cove._sources._webhook_standard import sign

    async with _engine(tmp_path, monkeypatch, STANDARD) as (_, client):
        body = b"\xff\x00\xfe"
        now = int(time.time())
        headers = {
            "webhook-id": "bin-1",
            "webhook-timestamp": str(now),
            "webhook-signature": sign(base64.b64decode(OLD_KEY), "bin-1", now, body),
        }
        assert (
            202 == (await client.post("/webhooks/ping", content=body, headers=headers)).status_code
        )


# body budget and deadline -------------------------------------------------
async def test_bodies_past_the_in_flight_budget_get_503_and_a_stalled_body_408(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    webhook = 'max_body = 1000\nmax_body_in_flight = 1500\nbody_timeout = "1s"\n'
    async with _engine(tmp_path, monkeypatch, webhook) as (engine, client):
        head = engine.store.head()
        with socket.create_connection(("127.0.0.1", _port(client)), timeout=10) as held:
            held.sendall(
                b"POST /webhooks/ping HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\n{"
            )
            await asyncio.sleep(0.3)  # the server has taken 1000 of the 1500 bytes
            busy = await client.post("/webhooks/ping", content=b"x" * 900)
            assert (503, "1") == (busy.status_code, busy.headers["retry-after"])
            answer = await asyncio.to_thread(held.recv, 4096)
            assert answer.startswith(b"HTTP/1.1 408 ")
        assert 202 == (await client.post("/webhooks/ping", content=b"x" * 900)).status_code
        assert head + 1 == engine.store.head()


async def test_one_peer_holds_at_most_a_quarter_of_the_body_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Slow bodies from one address (well-formed headers, no key needed) leave the rest to others."""
    webhook = COVE + 'max_body = 1000\nmax_body_in_flight = 4000\nbody_timeout = "5s"\n'
    async with _engine(tmp_path, monkeypatch, webhook) as (_, client):
        wrong = {"x-cove-signature": "sha256=" + "0" * 64}
        header = f"x-cove-signature: {wrong['x-cove-signature']}\r\n".encode()
        with socket.create_connection(("127.0.0.1", _port(client)), timeout=10) as held:
            held.sendall(b"POST /webhooks/ping HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n")
            held.sendall(header + b"\r\n{")
            await asyncio.sleep(0.3)  # the server has taken this peer's 1000 bytes
            same_peer = await client.post("/webhooks/ping", content=b"x" * 900, headers=wrong)
            transport = httpx.AsyncHTTPTransport(local_address="127.0.0.2")
            async with httpx.AsyncClient(base_url=client.base_url, transport=transport) as other:
                other_peer = await other.post("/webhooks/ping", content=b"x" * 900, headers=wrong)
        assert 503 == same_peer.status_code
        assert 401 == other_peer.status_code  # its body was read and its signature checked


# unauthenticated loopback: no cross-site browser requests -------------------
@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "https://evil.example", "content-type": "text/plain"},
        {"sec-fetch-site": "cross-site", "content-type": "text/plain"},
    ],
    ids=["origin", "sec-fetch-site"],
)
async def test_an_unauthenticated_server_refuses_a_browsers_cross_site_post(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, headers: dict[str, str]
) -> None:
    async with _engine(tmp_path, monkeypatch, "") as (engine, client):
        head = engine.store.head()
        response = await client.post("/webhooks/ping", content=b"{}", headers=headers)
        assert 403 == response.status_code
        assert "Origin" in response.json()["error"]
        assert head == engine.store.head()
        plain = await client.post("/webhooks/ping", content=b"{}")
        assert 202 == plain.status_code
