"""cove_sdk.tool: registering tools in plain Python (the registry the component exports)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cove_sdk import _tools, tool


@pytest.fixture(autouse=True)
def _empty_registry() -> Iterator[None]:
    saved = dict(_tools.TOOLS)
    _tools.TOOLS.clear()
    yield
    _tools.TOOLS.clear()
    _tools.TOOLS.update(saved)


def test_a_tool_is_registered_with_its_schema_and_stays_callable() -> None:
    schema = {"type": "object", "properties": {"x": {"type": "number"}}}

    @tool("double", "Double x.", schema)
    def double(x: float) -> float:
        return 2 * x

    registered = _tools.TOOLS["double"]
    assert (registered.description, registered.schema) == ("Double x.", schema)
    assert double(2) == 4


def test_without_a_schema_the_tool_takes_an_empty_object() -> None:
    tool("noop", "Nothing.")(lambda: None)
    assert _tools.TOOLS["noop"].schema == {"type": "object", "properties": {}}


@pytest.mark.parametrize("name", ["", "has space", "dotted.name", "x" * 65])
def test_names_outside_the_wit_rule_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="1-64 of A-Z a-z 0-9 _ -"):
        tool(name, "bad")


def test_a_name_registered_twice_is_refused() -> None:
    tool("once", "first")(lambda: None)
    with pytest.raises(ValueError, match="twice"):
        tool("once", "second")


def test_a_schema_that_is_not_json_is_refused_at_import() -> None:
    with pytest.raises(TypeError):
        tool("bad", "bad", {"type": "object", "default": object()})
