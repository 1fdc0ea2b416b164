"""The A2A hub: a built-in plugin that hands chat messages to an A2A agent.

Each inbound ``message`` event is sent to the agent (the A2A protocol's
Python SDK, over the module's ``http`` capability), the task is followed to
its answer, and the answer goes back through the transport the message came
on, to its sender. Load it with ``entry = "cove.plugins.a2a_hub:A2AHub"``
(docs/agents.md, "Hub plugin over A2A").
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterable
from dataclasses import asdict
from typing import Any, ClassVar

import httpx
from a2a.client import A2ACardResolver, ClientConfig, ClientFactory
from a2a.types import AgentCard
from a2a.utils.errors import A2AError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .._events import Event, Message
from .._units import parse_duration_ms
from ..errors import AgentUnavailableError
from ..plugin import Action, Log, Plugin, PluginContext, SendMessage, SetState
from ._a2a_follow import Answer, Conversation, Follow, ask
from ._host_http import HostTransport


class HubConfig(BaseModel):
    """The manifest's ``[config]`` for the hub."""

    model_config = ConfigDict(extra="forbid")

    agent_url: str = Field(description="The agent's base URL; its card is read from there.")
    timeout: str = Field("30s", description="How long one message may wait for its answer.")
    poll_interval: str = Field("250ms", description="How often a running task is looked at.")
    transports: list[str] = Field(
        default_factory=list, description="Transports served; empty serves every one."
    )
    recipients: list[str] = Field(
        default_factory=list, description="Recipients served; empty serves every one."
    )
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="Headers on every request to the agent; values may name operator "
        "secrets as {{secret:<name>}}.",
    )

    @field_validator("agent_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"expected an http(s) URL, got {value!r}")
        return value.rstrip("/")

    @field_validator("timeout", "poll_interval")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration_ms(value)
        return value

    def follow(self) -> Follow:
        return Follow(
            parse_duration_ms(self.timeout) / 1000, parse_duration_ms(self.poll_interval) / 1000
        )

    def serves(self, message: Message) -> bool:
        return (not self.transports or message.transport in self.transports) and (
            not self.recipients or message.recipient in self.recipients
        )


def read_config(config: dict[str, Any]) -> HubConfig:
    """The hub's settings, or a ``ValueError`` naming each bad ``config.<key>``."""
    try:
        return HubConfig.model_validate(config)
    except ValidationError as exc:
        problems = "; ".join(
            f"config.{'.'.join(map(str, e['loc']))}: {e['msg']}"
            for e in exc.errors(include_url=False)
        )
        raise ValueError(problems) from None


def reply_text(answer: Answer, timeout: str) -> str:
    """What the sender reads for each way a task can end."""
    said = answer.text.strip()
    match answer.state:
        case "completed":
            return said or "(the agent answered with no text)"
        case "input-required":
            return said or "The agent needs more input."
        case "auth-required":
            return f"The agent needs authorization: {said}".rstrip(": ")
        case "rejected":
            return f"The agent declined: {said}".rstrip(": ")
        case "canceled":
            return "The agent canceled the task."
        case "timeout":
            return f"The agent did not answer within {timeout}."
    return f"The agent could not answer: {said}".rstrip(": ")


_KEY_LIMIT = 256  # bytes: far below the state key bound, whatever the transport's name


def conversation_key(message: Message) -> str:
    """The state key of a sender's conversation; a long sender is named by its hash."""
    key = f"conversations/{message.transport}/{message.sender}"
    if len(key.encode()) <= _KEY_LIMIT:
        return key
    digest = hashlib.sha256(message.sender.encode()).hexdigest()
    return f"conversations/{message.transport}/sha256:{digest}"


class A2AHub(Plugin):
    """Forwards messages to an A2A agent and relays its answers."""

    subscriptions: ClassVar[list[dict[str, Any]]] = [{"kind": "message"}]

    def __init__(self) -> None:
        self._config: HubConfig | None = None
        self._card: AgentCard | None = None

    def init(self, ctx: PluginContext) -> None:
        self._config = read_config(dict(ctx.config))

    def handle_event(self, event: Event, ctx: PluginContext) -> Iterable[Action]:
        message = event.payload
        config = self._config
        assert config is not None
        if not isinstance(message, Message) or not config.serves(message):
            return []
        if not message.sender:  # e.g. an MQTT publish with no response topic
            return [Log("message not forwarded: it has no sender to answer", "warning")]
        key = conversation_key(message)
        held = Conversation(**(ctx.state.get(key) or {}))
        try:
            answer = asyncio.run(self._ask(ctx, config, message.body, held))
        except (A2AError, httpx.HTTPError) as exc:
            raise AgentUnavailableError(
                ctx.module, f"agent {config.agent_url} unavailable: {type(exc).__name__}: {exc}"
            ) from None
        waiting = bool(answer.question_id)
        metadata = [("a2a-state", answer.state)]
        if answer.task_id:
            metadata.append(("a2a-task", answer.task_id))
        after = Conversation(
            answer.context_id,
            answer.task_id if waiting else "",
            answer.question_id,
        )
        return [
            SendMessage(
                message.transport,
                message.sender,
                reply_text(answer, config.timeout),
                tuple(metadata),
            ),
            SetState(key, asdict(after)),
        ]

    async def _ask(
        self, ctx: PluginContext, config: HubConfig, text: str, held: Conversation
    ) -> Answer:
        async with httpx.AsyncClient(transport=HostTransport(ctx, config.headers)) as http:
            if self._card is None:
                self._card = await A2ACardResolver(http, config.agent_url).get_agent_card()
            settings = ClientConfig(streaming=False, polling=True, httpx_client=http)
            client = ClientFactory(settings).create(self._card)
            return await ask(client, text, config.follow(), held)
