"""The hot path's constructors build the same frozen payloads as the classes do."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from cove._event_codec import event_from_json, event_to_json
from cove._events import Block, Event, Log, new_block, new_event, new_log
from cove._fast_record import fast_constructor

LOG_ARGS = (31337, 7, "0xbh", "0xtx", 3, "0xaddr", ("0xt0", "0xt1"), b"\x01\x02", False, 2)


def test_fast_log_is_a_log_equal_to_the_class_built_one() -> None:
    fast, slow = new_log(*LOG_ARGS), Log(*LOG_ARGS)
    assert type(fast) is Log
    assert fast == slow
    assert hash(fast) == hash(slow)
    assert repr(fast) == repr(slow)
    assert dataclasses.astuple(fast) == dataclasses.astuple(slow)


def test_fast_log_stays_frozen() -> None:
    log = new_log(*LOG_ARGS)
    with pytest.raises(dataclasses.FrozenInstanceError):
        log.data = b""  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del log.topics


def test_fast_event_round_trips_the_journal_codec_and_pickle() -> None:
    event = new_event(new_log(*LOG_ARGS), "log:1", 1234)
    assert event == Event(Log(*LOG_ARGS), id="log:1", accepted_at_ms=1234)
    assert event.kind == "log"
    assert event_from_json(event_to_json(event)) == event
    assert pickle.loads(pickle.dumps(event)) == event
    assert dataclasses.replace(event, id="x").id == "x"


def test_fast_constructor_fills_defaults_like_the_class() -> None:
    block = new_block(1, 2, "0xh", "0xp", 3)
    assert block == Block(1, 2, "0xh", "0xp", 3) and block.confirmations == 0
    event = new_event(block)
    assert event.id and event.accepted_at_ms > 0


def test_fast_constructor_refuses_a_class_it_cannot_build() -> None:
    @dataclasses.dataclass(frozen=True)
    class NoSlots:
        a: int

    with pytest.raises(TypeError, match="NoSlots"):
        fast_constructor(NoSlots)
