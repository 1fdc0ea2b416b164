"""Fixture files: any valid fixture parses the same from TOML and JSON; broken ones name file and key."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cove._events import Block, Custom, Log, Message, Tick, Webhook
from cove._mock._fixture import DEFAULT_START_MS, fixture_events, load_fixture
from cove.errors import FixtureError
from tests.helpers.fakes import write_fixture

text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)
after = st.sampled_from(["1s", "250ms", "5m", "2h"])
depth = st.integers(0, 64)
hexdata = st.binary(max_size=8).map(lambda b: "0x" + b.hex())
scalars = st.one_of(st.booleans(), st.integers(-(2**53), 2**53), text)
payloads = st.one_of(
    scalars, st.lists(scalars, max_size=3), st.dictionaries(text, scalars, max_size=3)
)


def event(kind: str, **fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({"kind": st.just(kind)}, optional={"after": after, **fields})


events = st.one_of(
    st.fixed_dictionaries(
        {"kind": st.just("block"), "number": st.integers(0, 2**40)},
        optional={"confirmations": depth},
    ),
    event("log", data=hexdata, topics=st.lists(text, max_size=3), confirmations=depth).map(
        lambda e: {**e, "address": "0xabc"}
    ),
    event("tick", schedule=st.just("*/5 * * * *")),
    event("message", sender=text, transport=st.sampled_from(["console", "chat"])).map(
        lambda e: {**e, "body": "hi"}
    ),
    event("webhook", method=st.sampled_from(["GET", "POST"]), body=text).map(
        lambda e: {**e, "path": "/hook"}
    ),
    event("custom", payload=payloads, source=text).map(lambda e: {**e, "name": "x.y"}),
)
fixtures = st.fixed_dictionaries(
    {"events": st.lists(events, min_size=1, max_size=6)},
    optional={"start": st.integers(0, 2**42)},
)
KINDS = {"block": Block, "log": Log, "tick": Tick, "message": Message, "webhook": Webhook}
KINDS["custom"] = Custom


@given(fixtures)
def test_toml_and_json_give_the_same_events(data: dict[str, Any]) -> None:
    """One event per entry, in order, of the right kind, on a clock that only moves forward."""
    parsed = [
        fixture_events(load_fixture(write_fixture(data, s)), Path("f"), "mod", ["every 1m"])
        for s in (".toml", ".json")
    ]
    assert parsed[0] == parsed[1]
    got = parsed[0]
    assert [KINDS[e["kind"]] for e in data["events"]] == [type(e.payload) for e in got]
    stamps = [e.accepted_at_ms for e in got]
    assert stamps == sorted(stamps)
    assert stamps[0] >= data.get("start", DEFAULT_START_MS)
    for entry, made in zip(data["events"], got, strict=True):
        if entry["kind"] in ("block", "log"):
            assert made.payload.confirmations == entry.get("confirmations", 0)  # type: ignore[union-attr]
        if entry["kind"] == "custom":
            assert entry.get("payload") == json.loads(made.payload.payload)  # type: ignore[union-attr]


@given(fixtures, st.data(), st.sampled_from([".toml", ".json"]))
def test_an_unknown_key_is_reported_with_file_and_position(
    data: dict[str, Any], draw: st.DataObject, suffix: str
) -> None:
    index = draw.draw(st.integers(0, len(data["events"]) - 1))
    data["events"][index]["colour"] = "blue"
    path = write_fixture(data, suffix)
    with pytest.raises(FixtureError) as caught:
        load_fixture(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: 1 problem(s)")
    assert f"events[{index}].colour: unknown key" in message


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("events = []", "events: List should have at least 1 item"),
        ('[[events]]\nkind = "nope"', "events[0]: Input tag 'nope' found using 'kind'"),
        (
            '[[events]]\nkind = "block"\nnumber = "ten"',
            "events[0].number: Input should be a valid integer",
        ),
        (
            '[[events]]\nkind = "log"\naddress = "0x1"\ndata = "zz"',
            "events[0].data: Value error, data must be hex",
        ),
        ('[[events]]\nkind = "tick"\nafter = "soon"', "events[0].after:"),
        (
            '[[events]]\nkind = "tick"\n[[http]]\nurl = "ftp://x"',
            "http[0].url: String should match",
        ),
        ("events = [", "not valid TOML"),
    ],
)
def test_broken_fixtures_say_what_and_where(tmp_path: Path, body: str, expected: str) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(body)
    with pytest.raises(FixtureError) as caught:
        load_fixture(path)
    assert str(path) in str(caught.value)
    assert expected in str(caught.value)


def test_a_tick_needs_a_schedule_somewhere(tmp_path: Path) -> None:
    path = tmp_path / "f.toml"
    path.write_text('[[events]]\nkind = "tick"\n')
    with pytest.raises(FixtureError, match=r"f.toml: events\[0\]: a tick needs `schedule`"):
        fixture_events(load_fixture(path), path, "mod", [])


def test_json_must_be_an_object(tmp_path: Path) -> None:
    path = tmp_path / "f.json"
    path.write_text("[1, 2]")
    with pytest.raises(FixtureError, match="the top level must be an object"):
        load_fixture(path)
