"""One question to an A2A agent, followed to its answer by polling the task.

Polling rather than streaming: each poll is a short request through the
``http`` capability (which buffers a response whole), so the hub's timeout
holds between polls and a stream held open by the agent cannot outlast it.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from a2a.client import Client
from a2a.helpers.proto_helpers import get_artifact_text, get_message_text, new_text_message
from a2a.types import (
    CancelTaskRequest,
    GetTaskRequest,
    Message,
    Role,
    SendMessageRequest,
    StreamResponse,
    Task,
    TaskState,
)
from a2a.utils.errors import A2AError, TaskNotFoundError

_RUNNING = frozenset({TaskState.TASK_STATE_SUBMITTED, TaskState.TASK_STATE_WORKING})
_STATE_NAMES = {
    TaskState.TASK_STATE_COMPLETED: "completed",
    TaskState.TASK_STATE_FAILED: "failed",
    TaskState.TASK_STATE_CANCELED: "canceled",
    TaskState.TASK_STATE_REJECTED: "rejected",
    TaskState.TASK_STATE_INPUT_REQUIRED: "input-required",
    TaskState.TASK_STATE_AUTH_REQUIRED: "auth-required",
}


@dataclass(frozen=True, slots=True)
class Answer:
    """Where the exchange ended: ``state`` (``completed``, ``input-required``, ``failed``,
    ``canceled``, ``rejected``, ``auth-required`` or ``timeout``) and the agent's text."""

    state: str
    text: str
    context_id: str = ""
    task_id: str = ""
    question_id: str = ""


@dataclass(frozen=True, slots=True)
class Follow:
    """How long to follow a task, and how often to look at it."""

    timeout_s: float
    poll_s: float


@dataclass(frozen=True, slots=True)
class Conversation:
    """Where a sender's exchange with the agent stands: its A2A context, and the task
    waiting for this sender's input with the question it asked (empty when none)."""

    context_id: str = ""
    task_id: str = ""
    question_id: str = ""


async def ask(client: Client, text: str, follow: Follow, held: Conversation) -> Answer:
    """Send ``text`` (continuing the task that waits for input, if any) and follow it."""
    deadline = time.monotonic() + follow.timeout_s
    try:
        first = await _send(client, text, held)
    except TaskNotFoundError:
        if not held.task_id:
            raise
        # The agent no longer knows the task (it restarted): the answer becomes a new question.
        first = await _send(client, text, Conversation())
    if first.HasField("message"):
        return _from_message(first.message)
    task = first.task
    # An agent may answer the send with the task as it was, still asking the old question.
    while task.status.state in _RUNNING or _asks(task, held.question_id):
        left = deadline - time.monotonic()
        if left <= 0:
            await _cancel(client, task.id)
            return Answer("timeout", "", task.context_id, task.id)
        await asyncio.sleep(min(follow.poll_s, left))
        task = await client.get_task(GetTaskRequest(id=task.id))
    return _from_task(task)


async def _send(client: Client, text: str, held: Conversation) -> StreamResponse:
    message = new_text_message(text, context_id=held.context_id or None, role=Role.ROLE_USER)
    if held.task_id:
        message.task_id = held.task_id
    request = SendMessageRequest(message=message)
    request.configuration.return_immediately = True
    async for response in client.send_message(request):
        return response
    raise A2AError("the agent sent no response")


async def _cancel(client: Client, task_id: str) -> None:
    """Best effort: the agent may have finished, or may not cancel at all."""
    try:
        await client.cancel_task(CancelTaskRequest(id=task_id))
    except A2AError:
        return


def _asks(task: Task, question_id: str) -> bool:
    return bool(question_id) and task.status.message.message_id == question_id


def _from_message(message: Message) -> Answer:
    return Answer("completed", get_message_text(message), message.context_id, message.task_id)


def _from_task(task: Task) -> Answer:
    state = _STATE_NAMES.get(task.status.state, "failed")
    said = get_message_text(task.status.message) if task.status.HasField("message") else ""
    if state == "completed":
        produced = "\n".join(get_artifact_text(a, delimiter="") for a in task.artifacts)
        said = produced or said or _last_agent_text(task)
    asked = task.status.message.message_id if state.endswith("-required") else ""
    return Answer(state, said, task.context_id, task.id, asked)


def _last_agent_text(task: Task) -> str:
    for message in reversed(task.history):
        if message.role == Role.ROLE_AGENT:
            return get_message_text(message)
    return ""
