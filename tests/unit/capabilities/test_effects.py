"""cove._capabilities._effects.EventEffects: one event's write overlay and quota."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cove._capabilities._effects import EmittedEvent, EventEffects, entry_size
from cove.errors import HostCallError
from tests.helpers.fakes import FakeStateReader


def effects(state: dict[str, bytes] | None = None, quota: int = 1_000) -> EventEffects:
    reader = FakeStateReader({"mod": dict(state or {}), "other": {"a": b"other"}})
    return EventEffects(module="mod", reader=reader, quota=quota)


def test_reads_fall_through_to_committed_state() -> None:
    """Keys the event has not touched read from the store, of this module only."""
    fx = effects({"a": b"1"})
    assert b"1" == fx.get("a")
    assert fx.get("missing") is None


def test_reads_see_the_events_own_writes() -> None:
    """A write shadows committed state for the rest of the event."""
    fx = effects({"a": b"1"})
    fx.set("a", b"2")
    fx.set("b", b"3")
    assert (b"2", b"3") == (fx.get("a"), fx.get("b"))
    assert {"a": b"2", "b": b"3"} == fx.writes


def test_delete_hides_committed_and_written_keys() -> None:
    """A deleted key reads as missing and is recorded as a None write."""
    fx = effects({"a": b"1"})
    fx.set("b", b"2")
    fx.delete("a")
    fx.delete("b")
    assert (None, None) == (fx.get("a"), fx.get("b"))
    assert {"a": None, "b": None} == fx.writes


def test_list_keys_merges_committed_keys_with_writes_and_deletes() -> None:
    """Listing sees new keys, hides deleted ones, keeps the prefix, and is sorted."""
    fx = effects({"user:1": b"a", "user:2": b"b", "item:1": b"c"})
    fx.set("user:0", b"x")
    fx.set("item:2", b"y")
    fx.delete("user:2")
    assert ["user:0", "user:1"] == fx.list_keys("user:")
    assert ["item:1", "item:2", "user:0", "user:1"] == fx.list_keys("")


def test_list_keys_after_delete_then_set_shows_the_key() -> None:
    """The last write wins: delete then set is a present key."""
    fx = effects({"a": b"1"})
    fx.delete("a")
    fx.set("a", b"2")
    assert ["a"] == fx.list_keys("")


def test_state_bytes_counts_keys_and_values() -> None:
    """Size is key bytes plus value bytes, starting from the committed size."""
    fx = effects({"ab": b"123"})
    assert 5 == fx.state_bytes()
    fx.set("é", b"12")
    assert 5 + 2 + 2 == fx.state_bytes()
    fx.set("ab", b"1")
    assert 3 + 4 == fx.state_bytes()
    fx.delete("ab")
    assert 4 == fx.state_bytes()
    fx.delete("ab")
    assert 4 == fx.state_bytes()


def test_write_over_quota_is_refused_and_changes_nothing() -> None:
    """A write that would exceed the quota is limit-exceeded; state stays as it was."""
    fx = effects({"a": b"12345"}, quota=10)
    with pytest.raises(HostCallError) as info:
        fx.set("b", b"123456789")
    assert "limit-exceeded" == info.value.kind
    assert "'b'" in info.value.message
    assert "quota of 10 bytes" in info.value.message
    assert fx.get("b") is None
    assert {} == fx.writes
    assert 6 == fx.state_bytes()


def test_write_up_to_the_quota_exactly_is_allowed() -> None:
    """The quota is inclusive."""
    fx = effects(quota=10)
    fx.set("k", b"123456789")
    assert 10 == fx.state_bytes()


def test_shrinking_write_is_allowed_over_quota() -> None:
    """A module already over its quota (e.g. the quota was lowered) may still shrink."""
    fx = effects({"a": b"x" * 50}, quota=10)
    fx.set("a", b"x" * 20)
    fx.set("a", b"x" * 20)
    fx.delete("a")
    assert 0 == fx.state_bytes()


def test_growing_write_over_quota_after_shrinking_is_refused() -> None:
    """Shrinking does not buy room above the quota."""
    fx = effects({"a": b"x" * 50}, quota=10)
    fx.set("a", b"x" * 20)
    with pytest.raises(HostCallError):
        fx.set("a", b"x" * 21)
    assert b"x" * 20 == fx.get("a")


keys = st.sampled_from(["a", "b", "c", "ab", "é"])
operations = st.lists(
    st.one_of(
        st.tuples(st.just("set"), keys, st.binary(max_size=12)),
        st.tuples(st.just("delete"), keys, st.just(b"")),
    ),
    max_size=20,
)


@given(st.dictionaries(keys, st.binary(max_size=12)), operations, st.integers(0, 60))
def test_size_accounting_matches_the_visible_state(
    state: dict[str, bytes], ops: list[tuple[str, str, bytes]], quota: int
) -> None:
    """After any mix of writes and deletes, ``state_bytes`` equals the size of what reads see.

    A refused write leaves both reads and size unchanged, and growth never passes the quota.
    """
    fx = effects(state, quota=quota)
    for op, key, value in ops:
        before = fx.state_bytes()
        if op == "delete":
            fx.delete(key)
        else:
            try:
                fx.set(key, value)
            except HostCallError as exc:
                assert "limit-exceeded" == exc.kind
                assert before == fx.state_bytes()
                continue
            assert fx.state_bytes() <= max(before, quota)
        visible = {k: fx.get(k) for k in fx.list_keys("")}
        assert (
            sum(entry_size(k, v) for k, v in visible.items() if v is not None) == fx.state_bytes()
        )


def apply(fx: EventEffects, ops: list[tuple[str, str, bytes]]) -> None:
    for op, key, value in ops:
        if op == "delete":
            fx.delete(key)
        else:
            try:
                fx.set(key, value)
            except HostCallError:
                pass


@given(
    st.dictionaries(keys, st.binary(max_size=12)),
    st.lists(operations, max_size=5),
    st.integers(0, 60),
)
def test_batch_of_absorbed_events_equals_one_overlay(
    state: dict[str, bytes], events: list[list[tuple[str, str, bytes]]], quota: int
) -> None:
    """Events layered on a batch (``as_reader`` + ``absorb``) end as if run in one overlay.

    Reads, listing, size, quota refusals and the net writes all agree.
    """
    single = effects(state, quota=quota)
    batch = effects(state, quota=quota)
    for ops in events:
        apply(single, ops)
        event = EventEffects("mod", batch.as_reader(), quota)
        apply(event, ops)
        batch.absorb(event)
    assert single.writes == batch.writes
    assert single.list_keys("") == batch.list_keys("")
    assert single.state_bytes() == batch.state_bytes()


def test_absorb_keeps_the_later_events_outbox_out_of_the_batch() -> None:
    """Only writes move into the batch; each event's outbox stays with its event."""
    batch = effects({"a": b"1"})
    event = EventEffects("mod", batch.as_reader(), 1_000)
    event.set("a", b"2")
    event.outbox.append(EmittedEvent("x", ""))
    batch.absorb(event)
    assert (b"2", []) == (batch.get("a"), batch.outbox)
