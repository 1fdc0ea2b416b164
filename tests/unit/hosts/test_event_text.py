"""cove:host@0.3's event string: the host's encoder against the SDK's lazy decoder."""

from __future__ import annotations

import pytest
from cove_sdk._event import PAYLOADS, EventMeta, kind_of
from hypothesis import given
from hypothesis import strategies as st

from cove._events import Block, Custom, Event, Lifecycle, Log, Message, Tick, Webhook, wit_fields
from cove._hosts._event_bytes import encode_event
from cove._hosts._event_text import encode_event_text

u64 = st.integers(min_value=0, max_value=2**64 - 1)
u32 = st.integers(min_value=0, max_value=2**32 - 1)
pairs = st.lists(st.tuples(st.text(max_size=8), st.text(max_size=8)), max_size=3).map(tuple)
payloads = st.one_of(
    st.builds(Block, u64, u64, st.text(), st.text(), u64),
    st.builds(
        Log, u64, u64, st.text(), st.text(), u32, st.text(),
        st.lists(st.text(max_size=10), max_size=4).map(tuple), st.binary(), st.booleans(),
    ),
    st.builds(Tick, st.text(), u64),
    st.builds(Message, st.text(), st.text(), st.text(), st.text(), pairs),
    st.builds(Webhook, st.text(), st.text(), pairs, st.binary()),
    st.builds(Custom, st.text(), st.text(), st.text()),
    st.builds(Lifecycle, st.sampled_from(["started", "stopping", "reloaded"]), st.text()),
)  # fmt: skip
events = st.builds(Event, payloads, id=st.text(min_size=1), accepted_at_ms=u64)


@given(events, u32)
def test_every_field_decodes_to_what_the_host_encoded(event: Event, attempt: int) -> None:
    """Each kind's fields and the meta come back equal, in the SDK's attribute names."""
    raw = encode_event_text(event, attempt)
    assert event.kind == kind_of(raw)
    meta = EventMeta(raw)
    assert (event.id, event.accepted_at_ms, attempt) == (meta.id, meta.accepted_at_ms, meta.attempt)
    payload = PAYLOADS[event.kind](raw)
    expected = {name: getattr(event.payload, name) for name in wit_fields(type(event.payload))}
    # lists and header pairs come back as lists of tuples, as in the generated bindings
    read = {name: getattr(payload, name) for name in expected}
    if "phase" in read:  # the bindings' LifecyclePhase where they are loaded, else its name
        read["phase"] = getattr(read["phase"], "name", read["phase"]).lower()
    assert expected == {k: tuple(v) if isinstance(v, list) else v for k, v in read.items()}


def test_fields_are_decoded_on_first_read_only() -> None:
    """Nothing is decoded until a field is read; then every field is a plain attribute."""
    raw = encode_event_text(Event(Custom("orders.new", "shop", '{"n": 1}'), id="e-1"), 2)
    payload = PAYLOADS["custom"](raw)
    assert "name" not in vars(payload)
    assert "orders.new" == payload.name
    assert {"name": "orders.new", "source": "shop", "payload": '{"n": 1}'}.items() <= vars(
        payload
    ).items()


def test_an_unknown_attribute_is_an_attribute_error() -> None:
    """A typo in a handler reads as Python's usual error, naming the attribute."""
    payload = PAYLOADS["tick"](encode_event_text(Event(Tick("every 1s", 5)), 1))
    with pytest.raises(AttributeError, match="'nmae'"):
        payload.nmae  # noqa: B018


def test_the_sdk_knows_every_field_of_every_kind() -> None:
    """A field added to an event dataclass must be added to the SDK's decoder too."""
    from cove_sdk._event import _FIELDS

    from cove._hosts._event_bytes import KIND_CODES

    for cls in KIND_CODES:
        kind = Event(cls.__new__(cls)).kind
        assert list(wit_fields(cls)) == [name for name, _ in _FIELDS[kind]]


def test_the_layout_is_the_one_host_wit_shows() -> None:
    """The example in ``module.handle``'s comment, character for character."""
    event = Event(Custom("n.ame", "", "{}"), id="e-1", accepted_at_ms=123)
    assert encode_event_text(event, 1) == "51:13:1233:e-15:n.ame0:2:{}"


def test_bytes_cross_as_latin_1_characters() -> None:
    """Every byte value is one character U+0000-U+00FF, so a body comes back byte for byte."""
    body = bytes(range(256))
    raw = encode_event_text(Event(Webhook("/h", "POST", (), body)), 1)
    assert raw.endswith(f"256:{body.decode('latin-1')}")
    assert PAYLOADS["webhook"](raw).body == body


def test_the_0_2_bytes_layout_is_unchanged() -> None:
    """Components built against 0.2 still get the compact bytes they were built to read."""
    event = Event(Custom("n", "", "{}"), id="e", accepted_at_ms=7)
    assert encode_event(event, 2) == (
        bytes([5]) + (2).to_bytes(4, "little") + (7).to_bytes(8, "little")
        + (1).to_bytes(4, "little") + b"e"
        + (1).to_bytes(4, "little") + b"n" + (0).to_bytes(4, "little")
        + (2).to_bytes(4, "little") + b"{}"
    )  # fmt: skip
