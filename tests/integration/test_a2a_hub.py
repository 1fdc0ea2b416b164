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
from tests.helpers.a2a_agents import free_port, hub_module, running_agent
from tests.helpers.engine import running_engine, wait_until
from tests.helpers.modules import write_engine_config
from tests.integration import test_webhook_transport
from tests.integration.test_webhook_transport import Receiver

# The webhook transport's tests' real receiver, as a fixture here too.
receiver = test_webhook_transport.receiver

SECRET = "s3cret-for-a2a"


@asynccontextmanager
async def _engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hub: Path, outbound: str, more: str = ""
) -> AsyncIterator[tuple[Engine, httpx.AsyncClient]]:
    monkeypatch.setenv("COVE_TEST_WEBHOOK_SECRET", SECRET)
    extra = (
        '[webhook]\nport = 0\nsecret_env = "COVE_TEST_WEBHOOK_SECRET"\n'
        '[[transports]]\nname = "chat"\nkind = "webhook"\n'
        f'url = "{outbound}"\nsecret_env = "COVE_TEST_WEBHOOK_SECRET"\n'
        f"{more}"
    )
    config = write_engine_config(tmp_path / "engine.toml", [hub], extra)
    async with running_engine(config) as engine:
        server = next(s for s in engine.sources if isinstance(s, WebhookServer))
        async with httpx.AsyncClient(base_url=await server.wait_started()) as client:
            yield engine, client


async def _say(
    client: httpx.AsyncClient, text: str, sender: str = "alice", recipient: str = "hub"
) -> None:
    body = json.dumps({"sender": sender, "recipient": recipient, "body": text}).encode()
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
        async with _engine(tmp_path, monkeypatch, hub_module(tmp_path, url), receiver.url) as (
            _,
            c,
        ):
            await _say(c, "hello agent")
            await wait_until(lambda: len(receiver.delivered()) == 1, what="the answer")
    assert ["hello agent"] == heard.texts
    [reply] = _replies(receiver)
    assert "alice" == reply["recipient"]
    assert "HELLO AGENT" == reply["body"]
    assert [["a2a-state", "completed"]] == reply["metadata"]


async def test_a_task_answered_in_chunks_is_relayed_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, receiver: Receiver
) -> None:
    """The streaming agent: a task whose answer arrives as appended artifact chunks."""
    with running_agent("task") as (url, _):
        async with _engine(tmp_path, monkeypatch, hub_module(tmp_path, url), receiver.url) as (
            _,
            c,
        ):
            await _say(c, "hello big world")
            await wait_until(lambda: len(receiver.delivered()) == 1, what="the answer")
    [reply] = _replies(receiver)
    assert "HELLO BIG WORLD" == reply["body"]
    assert "completed" == dict(reply["metadata"])["a2a-state"]
    assert dict(reply["metadata"])["a2a-task"]


async def test_an_agent_past_the_timeout_is_canceled_and_the_next_message_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, receiver: Receiver
) -> None:
    with running_agent("task") as (url, heard):
        hub = hub_module(tmp_path, url, timeout="1s")
        async with _engine(tmp_path, monkeypatch, hub, receiver.url) as (_, c):
            await _say(c, "slow question")
            await _say(c, "quick one", sender="bob")
            await wait_until(lambda: len(receiver.delivered()) == 2, what="both answers")
    slow, quick = _replies(receiver)
    assert ("alice", "The agent did not answer within 1s.") == (slow["recipient"], slow["body"])
    assert "timeout" == dict(slow["metadata"])["a2a-state"]
    assert [dict(slow["metadata"])["a2a-task"]] == heard.canceled
    assert ("bob", "QUICK ONE") == (quick["recipient"], quick["body"])


async def test_input_required_is_asked_back_and_the_answer_continues_the_task(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, receiver: Receiver
) -> None:
    with running_agent("task") as (url, heard):
        async with _engine(tmp_path, monkeypatch, hub_module(tmp_path, url), receiver.url) as (
            _,
            c,
        ):
            await _say(c, "ask me the weather")
            await wait_until(lambda: len(receiver.delivered()) == 1, what="the question")
            await _say(c, "paris")
            await wait_until(lambda: len(receiver.delivered()) == 2, what="the answer")
    asked, answered = _replies(receiver)
    assert ("Which city?", "input-required") == (
        asked["body"],
        dict(asked["metadata"])["a2a-state"],
    )
    assert "PARIS" == answered["body"]
    assert dict(asked["metadata"])["a2a-task"] == dict(answered["metadata"])["a2a-task"]
    assert ["ask me the weather", "paris"] == heard.texts


async def test_a_failed_task_is_answered_with_the_agents_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, receiver: Receiver
) -> None:
    with running_agent("task") as (url, _):
        async with _engine(tmp_path, monkeypatch, hub_module(tmp_path, url), receiver.url) as (
            _,
            c,
        ):
            await _say(c, "fail my order")
            await wait_until(lambda: len(receiver.delivered()) == 1, what="the answer")
    [reply] = _replies(receiver)
    assert "The agent could not answer: no such order" == reply["body"]
    assert "failed" == dict(reply["metadata"])["a2a-state"]


async def test_messages_outside_its_recipients_are_not_forwarded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, receiver: Receiver
) -> None:
    with running_agent("message") as (url, heard):
        hub = hub_module(tmp_path, url, recipients=["hub"])
        async with _engine(tmp_path, monkeypatch, hub, receiver.url) as (_, c):
            await _say(c, "not for you", recipient="someone-else")
            await _say(c, "for you")
            await wait_until(lambda: len(receiver.delivered()) == 1, what="the answer")
    assert ["for you"] == heard.texts


async def test_a_dead_agent_fails_the_event_which_is_answered_once_it_is_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, receiver: Receiver
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    restart = '[restart]\nmax_failures = 50\nbackoff_initial = "100ms"\nbackoff_max = "200ms"'
    hub = hub_module(tmp_path, url, restart=restart)
    async with _engine(tmp_path, monkeypatch, hub, receiver.url) as (engine, c):
        await _say(c, "are you there")

        def failing() -> str:
            return next(s.last_error for s in engine.status() if s.name == "hub")

        await wait_until(lambda: "unavailable" in failing(), what="the event failing")
        assert f"agent {url} unavailable" in failing()
        assert [] == receiver.delivered()
        with running_agent("message", port=port):
            await wait_until(lambda: len(receiver.delivered()) == 1, what="the late answer")
    assert "ARE YOU THERE" == _replies(receiver)[0]["body"]


async def test_an_agent_outside_the_http_allowlist_is_never_called(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, receiver: Receiver
) -> None:
    """The SDK's requests go through the module's http capability and its allowlist."""
    with running_agent("message") as (url, heard):
        hub = hub_module(tmp_path, url, allow=["agents.example.com"])
        async with _engine(tmp_path, monkeypatch, hub, receiver.url) as (engine, c):
            await _say(c, "hello")

            def failing() -> str:
                return next(s.last_error for s in engine.status() if s.name == "hub")

            await wait_until(lambda: "unavailable" in failing(), what="the event failing")
            assert "denied" in failing()
    assert [] == heard.texts
    assert [] == receiver.delivered()


async def test_bad_settings_stop_the_hub_with_each_key_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, receiver: Receiver
) -> None:
    hub = hub_module(tmp_path, "http://127.0.0.1:9", timeout="soon", agent="x")
    async with _engine(tmp_path, monkeypatch, hub, receiver.url) as (engine, _):

        def error() -> str:
            return next(s.last_error for s in engine.status() if s.name == "hub")

        await wait_until(lambda: "config." in error(), what="the hub refused")
        assert "config.timeout" in error()
        assert "config.agent: Extra inputs are not permitted" in error()


async def test_an_agent_that_forgot_the_waiting_task_gets_the_answer_as_a_new_question(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, receiver: Receiver
) -> None:
    """The agent restarted between its question and the answer (its tasks were in memory):
    the hub does not fail the message forever, it asks afresh."""
    port = free_port()
    hub = hub_module(tmp_path, f"http://127.0.0.1:{port}")
    async with _engine(tmp_path, monkeypatch, hub, receiver.url) as (_, c):
        with running_agent("task", port=port):
            await _say(c, "ask me the weather")
            await wait_until(lambda: len(receiver.delivered()) == 1, what="the question")
        with running_agent("task", port=port) as (_, heard):
            await _say(c, "paris")
            await wait_until(lambda: len(receiver.delivered()) == 2, what="the answer")
    assert ["paris"] == heard.texts
    assert "PARIS" == _replies(receiver)[1]["body"]


async def test_an_agent_holding_the_request_open_is_cut_by_the_http_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, receiver: Receiver
) -> None:
    """An agent that ignores "return at once": the engine's [http] timeout bounds the wait."""
    with running_agent("stalling") as (url, _):
        hub = hub_module(tmp_path, url, timeout="30s")
        http = '[http]\ntimeout = "500ms"\n'
        async with _engine(tmp_path, monkeypatch, hub, receiver.url, http) as (engine, c):
            await _say(c, "hello")

            def failing() -> str:
                return next(s.last_error for s in engine.status() if s.name == "hub")

            await wait_until(lambda: "unavailable" in failing(), what="the event failing")
            assert "timed out" in failing()
    assert [] == receiver.delivered()


async def test_a_bearer_token_from_an_operator_secret_reaches_the_agent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, receiver: Receiver
) -> None:
    """``headers`` may name secrets: the host fills them in, the plugin never holds them."""
    monkeypatch.setenv("COVE_TEST_AGENT_TOKEN", "t0k3n")
    secrets = (
        '[secrets.agent-token]\nenv = "COVE_TEST_AGENT_TOKEN"\n'
        '[overrides.hub]\nsecrets = ["agent-token"]\n'
    )
    headers = {"Authorization": "Bearer {{secret:agent-token}}"}
    with running_agent("message", token="t0k3n") as (url, heard):
        hub = hub_module(tmp_path, url, headers=headers)
        async with _engine(tmp_path, monkeypatch, hub, receiver.url, secrets) as (_, c):
            await _say(c, "let me in")
            await wait_until(lambda: len(receiver.delivered()) == 1, what="the answer")
    assert ["let me in"] == heard.texts
    assert "LET ME IN" == _replies(receiver)[0]["body"]
