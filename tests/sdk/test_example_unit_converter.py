"""examples/unit_converter's tools under MockHost (no wasm): conversions, errors, counts."""

from __future__ import annotations

import pytest
from cove_sdk import HostError
from cove_sdk.testing import MockHost
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers.modules import EXAMPLES


@pytest.fixture(scope="module")
def host() -> MockHost:
    return MockHost(EXAMPLES / "unit_converter")


@pytest.mark.parametrize(
    ("value", "source", "target", "expected"),
    [
        (10, "km", "mi", 6.2137119224),
        (1, "ft", "in", 12.0),
        (2, "lb", "oz", 32.0),
        (90, "min", "h", 1.5),
        (100, "C", "F", 212.0),
        (0, "K", "C", -273.15),
        (-40, "F", "C", -40.0),
    ],
)
def test_conversions(
    host: MockHost, value: float, source: str, target: str, expected: float
) -> None:
    result = host.call_tool("convert", value=value, **{"from": source, "to": target})
    assert result == {"value": pytest.approx(expected), "unit": target}


def test_a_conversion_across_dimensions_is_refused_and_counts_nothing() -> None:
    host = MockHost(EXAMPLES / "unit_converter")
    with pytest.raises(HostError) as refused:
        host.call_tool("convert", value=1, **{"from": "kg", "to": "m"})
    assert refused.value.kind == "invalid-input"
    assert "cannot convert kg (mass) to m" in refused.value.message
    assert host.state == {}


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        ({"value": "ten", "from": "m", "to": "cm"}, "argument 'value': 'ten' is not of type"),
        ({"value": 1, "from": "m"}, "arguments: 'to' is a required property"),
        ({"value": 1, "from": "m", "to": "parsec"}, "argument 'to': 'parsec' is not one of"),
    ],
)
def test_arguments_that_do_not_fit_the_schema_are_refused_before_the_tool_runs(
    arguments: dict[str, object], says: str
) -> None:
    """The engine's check and wording: the tool and the field are named, nothing is counted."""
    host = MockHost(EXAMPLES / "unit_converter")
    with pytest.raises(HostError) as refused:
        host.call_tool("convert", **arguments)
    assert refused.value.kind == "invalid-input"
    assert refused.value.message.startswith("tool 'unit_converter.convert': ")
    assert says in refused.value.message
    assert host.state == {}


def test_stats_counts_conversions_by_dimension() -> None:
    host = MockHost(EXAMPLES / "unit_converter")
    host.call_tool("convert", value=1, **{"from": "m", "to": "cm"})
    host.call_tool("convert", value=1, **{"from": "C", "to": "K"})
    host.call_tool("convert", value=1, **{"from": "km", "to": "m"})
    stats = host.call_tool("stats")
    assert stats == {"length": 2, "mass": 0, "time": 0, "temperature": 1}


@settings(max_examples=50, deadline=None)
@given(
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
    st.sampled_from(["mm", "cm", "m", "km", "in", "ft", "mi", "C", "F", "K"]),
)
def test_converting_there_and_back_gives_the_value(host: MockHost, value: float, unit: str) -> None:
    base = "m" if unit not in ("C", "F", "K") else "K"
    there = host.call_tool("convert", value=value, **{"from": unit, "to": base})
    back = host.call_tool("convert", value=there["value"], **{"from": base, "to": unit})
    assert back["value"] == pytest.approx(value, rel=1e-6, abs=1e-6)
