"""cove_sdk.ui: documents the builders make follow docs/a2ui.schema.json; submissions parse."""

from __future__ import annotations

import json
from types import SimpleNamespace

import jsonschema
import pytest
from cove_sdk import ui
from hypothesis import given
from hypothesis import strategies as st

from tests.helpers.modules import REPO

SCHEMA = json.loads((REPO / "docs" / "a2ui.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
IDS = st.from_regex(r"[A-Za-z0-9_.:-]{1,30}", fullmatch=True)
SCALARS = st.one_of(st.text(max_size=20), st.integers(), st.booleans(), st.none())


@st.composite
def components(draw: st.DrawFn) -> dict[str, object]:
    kind = draw(st.sampled_from(["text", "markdown", "kv", "list", "table", "chart", "form"]))
    text = draw(st.text(max_size=40))
    if kind == "text":
        return ui.text(text)
    if kind == "markdown":
        return ui.markdown(text)
    if kind == "kv":
        return ui.kv(draw(st.dictionaries(st.text(max_size=10), SCALARS, max_size=4)))
    if kind == "list":
        return ui.items(draw(st.lists(SCALARS, max_size=4)))
    if kind == "table":
        columns = draw(st.lists(st.text(max_size=8), min_size=1, max_size=4))
        rows = draw(st.lists(st.lists(SCALARS, min_size=len(columns), max_size=len(columns))))
        return ui.table(columns, rows)
    if kind == "chart":
        xs = draw(st.lists(st.integers(), max_size=6))
        series = draw(st.dictionaries(st.text(max_size=8), st.just([1.0] * len(xs)), max_size=5))
        return ui.chart(list(xs), series)
    fields = [
        ui.field(draw(IDS), input=draw(st.sampled_from(ui.INPUTS)))
        for _ in range(draw(st.integers(0, 3)))
    ]
    buttons = [ui.button(draw(IDS)) for _ in range(draw(st.integers(1, 3)))]
    return ui.form(draw(IDS), fields, buttons, title=draw(st.none() | st.text(max_size=10)))


@given(st.lists(components(), max_size=6), st.none() | st.text(max_size=20))
def test_every_document_the_builders_make_follows_the_schema(
    parts: list[dict[str, object]], title: str | None
) -> None:
    document = ui.document(*parts, title=title)
    assert [] == [e.message for e in VALIDATOR.iter_errors(json.loads(json.dumps(document)))]


def test_the_schema_refuses_what_the_console_would_not_draw() -> None:
    bad = {"a2ui": 1, "components": [{"type": "html", "text": "<script>"}]}
    assert not VALIDATOR.is_valid(bad)
    assert not VALIDATOR.is_valid({"a2ui": 1, "components": [ui.form("x y", [])]})


def test_a_field_with_an_unknown_input_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="field 'due': input must be one of"):
        ui.field("due", input="date")


def test_a_submission_is_read_from_its_event_and_other_events_are_not() -> None:
    body = {"form": "request-7", "button": "approve", "values": {"note": "ok"}}
    event = SimpleNamespace(name="ui-submit.approvals", payload=json.dumps(body))
    assert ui.Submission("request-7", "approve", {"note": "ok"}) == ui.submission(event)
    assert None is ui.submission(SimpleNamespace(name="sensor.reading", payload="{}"))
