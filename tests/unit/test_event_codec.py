"""cove._event_codec: events to JSON text and back, for the journal and fixtures."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cove._event_codec import (
    event_from_json,
    event_to_json,
    journal_rows,
    payload_from_dict,
    payload_to_dict,
)
from cove._events import (
    EVENT_KINDS,
    Block,
    Custom,
    Event,
    Lifecycle,
    Log,
    Message,
    Payload,
    Tick,
    Webhook,
)

u64 = st.integers(min_value=0, max_value=2**64 - 1)
pairs = st.lists(st.tuples(st.text(max_size=8), st.text(max_size=8)), max_size=3).map(tuple)

payloads: dict[str, st.SearchStrategy[Payload]] = {
    "block": st.builds(Block, u64, u64, st.text(), st.text(), u64),
    "log": st.builds(
        Log,
        u64,
        u64,
        st.text(),
        st.text(),
        u64,
        st.text(),
        st.lists(st.text(max_size=10), max_size=4).map(tuple),
        st.binary(),
        st.booleans(),
    ),
    "tick": st.builds(Tick, st.text(), u64),
    "message": st.builds(Message, st.text(), st.text(), st.text(), st.text(), pairs),
    "webhook": st.builds(Webhook, st.text(), st.text(), pairs, st.binary()),
    "custom": st.builds(Custom, st.text(), st.text(), st.text()),
    "lifecycle": st.builds(
        Lifecycle, st.sampled_from(["started", "stopping", "reloaded"]), st.text()
    ),
}
events = st.builds(Event, st.one_of(*payloads.values()), id=st.text(min_size=1), accepted_at_ms=u64)


def test_every_event_kind_has_a_strategy() -> None:
    """The round-trip property below covers every kind the engine knows."""
    assert set(EVENT_KINDS) == set(payloads)


@given(events)
def test_round_trip_keeps_every_event(event: Event) -> None:
    """Decoding an encoded event gives back an equal event."""
    assert event == event_from_json(event_to_json(event))


@given(events)
def test_encoding_is_compact_json_naming_the_kind(event: Event) -> None:
    """The JSON carries id, kind, accepted time and payload fields by name."""
    data = json.loads(event_to_json(event))
    assert {"id", "kind", "accepted_at_ms", "payload"} == set(data)
    assert event.kind == data["kind"]
    assert (event.id, event.accepted_at_ms) == (data["id"], data["accepted_at_ms"])


def test_bytes_are_base64_and_pairs_are_lists() -> None:
    """Binary bodies travel as base64 text; header pairs as two-item lists."""
    event = Event(Webhook("/h", "POST", (("a", "b"),), b"\x00\xff"), id="e", accepted_at_ms=1)
    assert {"path": "/h", "method": "POST", "headers": [["a", "b"]], "body": "AP8="} == json.loads(
        event_to_json(event)
    )["payload"]


def test_unknown_kind_is_a_value_error_listing_the_kinds() -> None:
    """An unknown kind names itself and the kinds that exist."""
    with pytest.raises(
        ValueError, match=r"unknown event kind 'meteor'; expected one of \["
    ) as info:
        payload_from_dict("meteor", {})
    assert "'block'" in str(info.value)


def test_unknown_fields_are_a_value_error_naming_them() -> None:
    """Fields a kind does not have are listed, sorted."""
    with pytest.raises(ValueError) as info:
        payload_from_dict("custom", {"name": "a", "source": "", "payload": "", "z": 1, "y": 2})
    assert "custom event: unknown field(s) ['y', 'z']" == str(info.value)


def test_missing_fields_are_a_value_error_naming_the_kind() -> None:
    """A payload without a required field is a ValueError, not a TypeError."""
    with pytest.raises(ValueError, match=r"^tick event: .*scheduled_at_ms"):
        payload_from_dict("tick", {"schedule": "x"})


def test_decoding_unknown_kind_from_json_is_a_value_error() -> None:
    """``event_from_json`` surfaces the same error for a bad kind."""
    text = json.dumps({"id": "e", "kind": "meteor", "accepted_at_ms": 0, "payload": {}})
    with pytest.raises(ValueError, match="unknown event kind 'meteor'"):
        event_from_json(text)


def _stdlib_text(event: Event) -> str:
    """The journal's text as the stdlib encoder wrote it before orjson took over."""
    return json.dumps(
        {
            "id": event.id,
            "kind": event.kind,
            "accepted_at_ms": event.accepted_at_ms,
            "payload": payload_to_dict(event.payload),
        },
        separators=(",", ":"),
    )


@given(events)
def test_the_journal_text_is_the_same_json_as_the_stdlib_encoders(event: Event) -> None:
    """Journals written before and after the fast encoder hold the same JSON values."""
    assert json.loads(_stdlib_text(event)) == json.loads(event_to_json(event))
    assert event == event_from_json(_stdlib_text(event))


def test_what_orjson_refuses_is_still_journaled() -> None:
    """A lone surrogate and an integer past 64 bits fall back to the stdlib encoder."""
    for event in (
        Event(Custom("a\ud800", "", ""), id="s", accepted_at_ms=1),
        Event(Block(1, 2**70, "h", "p", 1), id="b", accepted_at_ms=1),
    ):
        assert event == event_from_json(event_to_json(event))


@given(st.lists(events, max_size=5))
def test_journal_rows_are_each_events_id_text_and_time(batch: list[Event]) -> None:
    """The append's rows: what ``event_to_json`` gives each event, in order."""
    assert journal_rows(batch) == [(e.id, event_to_json(e), e.accepted_at_ms) for e in batch]


def test_journal_rows_fall_back_where_orjson_refuses() -> None:
    """One event orjson refuses in a batch: the whole batch is still journaled."""
    batch = [
        Event(Custom("ok", "", ""), id="o", accepted_at_ms=1),
        Event(Custom("a\ud800", "", ""), id="s", accepted_at_ms=2),
    ]
    rows = journal_rows(batch)
    assert [event_from_json(text) for _, text, _ in rows] == batch
