"""What hooks are shown: commit writes as text when UTF-8, messages as the outbox stored them."""

from __future__ import annotations

from cove._capabilities._effects import EventEffects
from cove._engine._hook_payloads import commit_payload, message_payload
from tests.helpers.fakes import FakeStateReader


def test_commit_writes_are_text_when_utf8_and_deletes_are_marked() -> None:
    batch = EventEffects("m", FakeStateReader({"m": {"gone": b"x"}}), 1 << 20)
    batch.set("name", b'"ada"')
    batch.set("blob", b"\xff\xfe")
    batch.delete("gone")
    payload = commit_payload("m", 7, ["e1", "e2"], batch)
    assert payload == {
        "module": "m",
        "cursor": 7,
        "events": ["e1", "e2"],
        "writes": [
            {"key": "name", "deleted": False, "size": 5, "text": '"ada"'},
            {"key": "blob", "deleted": False, "size": 2, "text": None},
            {"key": "gone", "deleted": True, "size": 0, "text": None},
        ],
    }


def test_a_message_payload_names_its_sender() -> None:
    stored = {"transport": "chat", "recipient": "ops", "body": "hi", "metadata": [["k", "v"]]}
    assert message_payload("sender", stored) == {"module": "sender", **stored}
