"""Real A2A agents for the hub plugin's tests, built with the a2a-sdk server on loopback.

Each agent reads the user's text and answers by what it starts with, so one
server covers every path the hub follows: ``slow`` outlasts the hub's
timeout, ``ask`` wants more input, ``fail`` fails; anything else is answered
in upper case, as one message (``message`` mode) or as a task whose answer
arrives in several artifact chunks (``task`` mode, the streaming agent).
A ``stalling`` agent serves its card but holds every call open.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from a2a.helpers.proto_helpers import (
    get_message_text,
    new_task_from_user_message,
    new_text_message,
    new_text_part,
)
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes
from a2a.server.tasks import InMemoryTaskStore, TaskUpdater
from a2a.types import AgentCapabilities, AgentCard, AgentInterface, AgentSkill, Role
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from tests.helpers.modules import toml_value


@dataclass
class Heard:
    """What the agent was sent, for the tests to look at."""

    texts: list[str] = field(default_factory=list)
    canceled: list[str] = field(default_factory=list)


class _Executor(AgentExecutor):
    def __init__(self, mode: str, heard: Heard) -> None:
        self._mode = mode
        self._heard = heard

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        assert context.message is not None
        text = get_message_text(context.message)
        self._heard.texts.append(text)
        if self._mode == "message" and not text.startswith(("slow", "ask", "fail")):
            await event_queue.enqueue_event(new_text_message(text.upper(), role=Role.ROLE_AGENT))
            return
        # As the SDK's own samples do: the task again, as it stands, before any work.
        task = context.current_task or new_task_from_user_message(context.message)
        await event_queue.enqueue_event(task)
        updater = TaskUpdater(event_queue, task.id, task.context_id)
        await updater.start_work()
        if text.startswith("slow"):
            await asyncio.sleep(30)
        if text.startswith("ask"):
            await updater.requires_input(updater.new_agent_message([new_text_part("Which city?")]))
            return
        if text.startswith("fail"):
            await updater.failed(updater.new_agent_message([new_text_part("no such order")]))
            return
        words = text.upper().split(" ")
        for index, word in enumerate(words):
            last = index == len(words) - 1
            chunk = word if last else word + " "
            await updater.add_artifact(
                [new_text_part(chunk)], artifact_id="answer", append=index > 0, last_chunk=last
            )
            await asyncio.sleep(0.05)
        await updater.complete()

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        assert context.task_id is not None and context.context_id is not None
        self._heard.canceled.append(context.task_id)
        await TaskUpdater(event_queue, context.task_id, context.context_id).cancel()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _BearerOnly:
    """Answers 401 to any request without ``Authorization: Bearer <token>``."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self._app = app
        self._expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers", []))
        if scope["type"] == "http" and headers.get(b"authorization") != self._expected:
            await Response(status_code=401)(scope, receive, send)
            return
        await self._app(scope, receive, send)


async def _stall(request: Request) -> Response:
    """An endpoint that ignores "return at once" and holds every request open."""
    await asyncio.sleep(3)
    return Response(status_code=500)


@contextmanager
def running_agent(
    mode: str = "message", port: int = 0, token: str = ""
) -> Iterator[tuple[str, Heard]]:
    """An agent served by uvicorn on a loopback port (``port``, or a free one):
    (its base URL, what it heard). With ``token``, every request must carry it as a bearer."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    card = AgentCard(
        name=f"upper-{mode}",
        description="answers in upper case",
        version="1.0.0",
        supported_interfaces=[
            AgentInterface(protocol_binding="JSONRPC", protocol_version="1.0", url=f"{url}/a2a")
        ],
        skills=[AgentSkill(id="upper", name="upper", description="upper case", tags=["text"])],
        capabilities=AgentCapabilities(streaming=mode == "task"),
        default_input_modes=["text/plain"],
        default_output_modes=["text/plain"],
    )
    heard = Heard()
    handler = DefaultRequestHandler(_Executor(mode, heard), InMemoryTaskStore(), card)
    rpc = (
        [Route("/a2a", _stall, methods=["POST"])]
        if mode == "stalling"
        else create_jsonrpc_routes(handler, "/a2a")
    )
    app = Starlette(routes=create_agent_card_routes(card) + rpc)
    if token:
        app.add_middleware(_BearerOnly, token=token)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        threading.Event().wait(0.02)
    try:
        yield url, heard
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def hub_module(
    tmp_path: Path,
    agent_url: str,
    restart: str = "",
    allow: list[str] | None = None,
    **config: Any,
) -> Path:
    """A module directory that is the built-in hub, pointed at ``agent_url``."""
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
        f"allow = {toml_value(allow if allow is not None else [agent_url.removeprefix('http://')])}",
        "[config]",
        *(f"{key} = {toml_value(value)}" for key, value in settings.items()),
        restart,
    ]
    (root / "cove.toml").write_text("\n".join(lines) + "\n")
    return root
