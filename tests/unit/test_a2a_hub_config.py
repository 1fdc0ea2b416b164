"""The A2A hub's settings and the replies it gives for each way a task ends."""

from __future__ import annotations

import pytest

from cove._events import Message
from cove.plugins._a2a_follow import Answer
from cove.plugins.a2a_hub import read_config, reply_text


def test_a_missing_agent_url_and_a_bad_timeout_are_named() -> None:
    with pytest.raises(ValueError, match=r"config\.agent_url: Field required") as caught:
        read_config({"timeout": "soon"})
    assert "config.timeout" in str(caught.value)


def test_an_unknown_key_is_named() -> None:
    with pytest.raises(ValueError, match=r"config\.agent: Extra inputs"):
        read_config({"agent_url": "http://127.0.0.1:1", "agent": "x"})


def test_a_non_http_url_is_refused() -> None:
    with pytest.raises(ValueError, match=r"config\.agent_url: .*http\(s\) URL"):
        read_config({"agent_url": "ftp://agents"})


def test_transports_and_recipients_filter_what_it_serves() -> None:
    config = read_config({"agent_url": "http://a/", "transports": ["chat"], "recipients": ["hub"]})
    assert "http://a" == config.agent_url
    assert config.serves(Message("chat", "alice", "hub", "hi"))
    assert not config.serves(Message("bus", "alice", "hub", "hi"))
    assert not config.serves(Message("chat", "alice", "other", "hi"))


@pytest.mark.parametrize(
    ("state", "text", "reply"),
    [
        ("completed", "42", "42"),
        ("completed", "", "(the agent answered with no text)"),
        ("input-required", "", "The agent needs more input."),
        ("auth-required", "log in", "The agent needs authorization: log in"),
        ("rejected", "", "The agent declined"),
        ("canceled", "", "The agent canceled the task."),
        ("failed", "boom", "The agent could not answer: boom"),
        ("timeout", "", "The agent did not answer within 2s."),
    ],
)
def test_each_end_of_a_task_has_its_reply(state: str, text: str, reply: str) -> None:
    assert reply == reply_text(Answer(state, text), "2s")


def test_a_conversation_key_stays_within_the_state_key_bound() -> None:
    """A sender may be a long MQTT response topic: its key is then named by its hash."""
    from cove._capabilities._bounds import MAX_KEY_BYTES
    from cove.plugins.a2a_hub import conversation_key

    assert "conversations/chat/alice" == conversation_key(Message("chat", "alice", "hub", ""))
    long = conversation_key(Message("bus", "t/" * 2000, "hub", ""))
    assert long.startswith("conversations/bus/sha256:")
    assert len(long.encode()) <= MAX_KEY_BYTES
