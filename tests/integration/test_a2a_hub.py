"""The A2A hub plugin end to end: a signed message in through the webhook server, the
question to a real a2a-sdk agent on loopback, the answer out through the outbox to a
real receiver."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from cove import Engine
from cove._sources._webhook_auth import sign
from cove._sources._webhook_server import WebhookServer
from tests.helpers.a2a_agents import running_agent
from tests.helpers.engine import running_engine, wait_until
from tests.helpers.modules import toml_value, write_engine_config
from tests.integration import test_webhook_transport
from tests.integration.test_webhook_transport import Receiver

# The webhook transport's tests' real receiver, as a fixture here too.
receiver = test_webhook_transport.receiver

SECRET = "s3cret-for-a2a"


def _hub(tmp_path: Path, agent_url: str, **config: Any) -> Path:
    root = tmp_path / "hub"
    root.mkdir()
    settings = {"agent_url": agent_url, "timeout": "5s", "poll_interval": "50ms", **config}
    lines = [
        "[module]",
        'name = "hub"',
        'version = "0.1.0"',
        'kind = "python"',
        'entry = "cove.plugins.a2a_hub:A2AHub"',
        "[capabilities]",
        'required = ["messaging", "store", "http"]',
        "[capabilities.http]",
        f"allow = {toml_value([agent_url.removeprefix('http://')])}",
        "[config]",
        *(f"{key} = {toml_value(value)}" for key, value in settings.items()),
    ]
    (root / "cove.toml").write_text("\n".join(lines) + "\n")
    return root


@asynccontextmanager
async def _engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hub: Path, outbound: str
) -> AsyncIterator[tuple[Engine, httpx.AsyncClient]]:
    monkeypatch.setenv("COVE_TEST_WEBHOOK_SECRET", SECRET)
    extra = (
        '[webhook]\nport = 0\nsecret_env = "COVE_TEST_WEBHOOK_SECRET"\n'
        '[[transports]]\nname = "chat"\nkind = "webhook"\n'
        f'url = "{outbound}"\nsecret_env = "COVE_TEST_WEBHOOK_SECRET"\n'
    )
    config = write_engine_config(tmp_path / "engine.toml", [hub], extra)
    async with running_engine(config) as engine:
        server = next(s for s in engine.sources if isinstance(s, WebhookServer))
        async with httpx.AsyncClient(base_url=await server.wait_started()) as client:
            yield engine, client


async def _say(client: httpx.AsyncClient, text: str, sender: str = "alice") -> None:
    body = json.dumps({"sender": sender, "recipient": "hub", "body": text}).encode()
    headers = {"x-cove-signature": sign(SECRET.encode(), body)}
    response = await client.post("/messages/chat", content=body, headers=headers)
    assert 202 == response.status_code


def _replies(got: Receiver) -> list[dict[str, Any]]:
    return [r.body for r in got.delivered()]


async def test_a_message_is_answered_by_the_agent_through_its_transport(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    receiver: Receiver,
) -> None:
    with running_agent("message") as (url, heard):
        async with _engine(tmp_path, monkeypatch, _hub(tmp_path, url), receiver.url) as (_, c):
            await _say(c, "hello agent")
            await wait_until(lambda: len(receiver.delivered()) == 1, what="the answer")
    assert ["hello agent"] == heard.texts
    [reply] = _replies(receiver)
    assert "alice" == reply["recipient"]
    assert "HELLO AGENT" == reply["body"]
    assert [["a2a-state", "completed"]] == reply["metadata"]
