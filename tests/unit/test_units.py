"""cove._units: durations and byte sizes as people write them in config files."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cove._units import parse_duration_ms, parse_size_bytes

DURATION_MS = {"ms": 1, "s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
SIZE_BYTES = {
    "": 1,
    "B": 1,
    "KB": 1_000,
    "KiB": 1_024,
    "MB": 1_000_000,
    "MiB": 1_048_576,
    "GB": 1_000_000_000,
    "GiB": 1_073_741_824,
}
spaces = st.sampled_from(["", " ", "  ", "\t"])


@given(
    st.integers(min_value=1, max_value=10**9), st.sampled_from(sorted(DURATION_MS)), spaces, spaces
)
def test_duration_round_trips_whole_numbers(value: int, unit: str, pad: str, gap: str) -> None:
    """``<n><unit>`` (with optional blanks around and between) is n times the unit."""
    assert value * DURATION_MS[unit] == parse_duration_ms(f"{pad}{value}{gap}{unit}{pad}")


@given(
    st.decimals(min_value=1, max_value=10**6, places=3, allow_nan=False, allow_infinity=False),
    st.sampled_from(sorted(DURATION_MS)),
)
def test_duration_accepts_fractions_and_truncates_to_ms(value: Decimal, unit: str) -> None:
    """``1.5s`` is 1500ms; anything below a whole millisecond is dropped."""
    text = f"{value:f}{unit}"
    assert int(float(f"{value:f}") * DURATION_MS[unit]) == parse_duration_ms(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("250ms", 250),
        ("30s", 30_000),
        ("5m", 300_000),
        ("1h", 3_600_000),
        ("1d", 86_400_000),
        ("1.5s", 1_500),
    ],
)
def test_duration_examples(text: str, expected: int) -> None:
    """The examples from the docs parse to what they say."""
    assert expected == parse_duration_ms(text)


@pytest.mark.parametrize("text", ["0ms", "0s", "0.5ms", "0.0001s"])
def test_duration_shorter_than_one_ms_is_refused(text: str) -> None:
    """Zero and sub-millisecond durations are errors that quote the input."""
    with pytest.raises(ValueError, match="shorter than 1ms") as info:
        parse_duration_ms(text)
    assert repr(text) in str(info.value)


@given(st.text(max_size=20))
def test_duration_garbage_is_refused_with_the_input_quoted(text: str) -> None:
    """Anything that is not ``<number><unit>`` raises ValueError quoting the text."""
    if re.fullmatch(r"\s*\d+(\.\d+)?\s*(ms|s|m|h|d)\s*", text):
        return
    with pytest.raises(ValueError) as info:
        parse_duration_ms(text)
    assert repr(text) in str(info.value)


@pytest.mark.parametrize(
    "text", ["", "5", "ms", "-5s", "5 sec", "5S", "1e3ms", "5s5", "five s", ".5s", "5.s"]
)
def test_duration_common_mistakes_are_refused(text: str) -> None:
    """Missing units, signs, capitals, exponents and words are all refused."""
    with pytest.raises(ValueError) as info:
        parse_duration_ms(text)
    assert repr(text) in str(info.value)


@given(st.integers(min_value=320, max_value=2_000), st.sampled_from(sorted(DURATION_MS)))
def test_duration_too_large_for_a_float_is_a_value_error(digits: int, unit: str) -> None:
    """A number with hundreds of digits is refused with ValueError, not OverflowError."""
    text = "9" * digits + unit
    with pytest.raises(ValueError, match="too large") as info:
        parse_duration_ms(text)
    assert repr(text) in str(info.value)


@given(
    st.integers(min_value=0, max_value=10**12), st.sampled_from(sorted(SIZE_BYTES)), spaces, spaces
)
def test_size_round_trips_from_numbers_and_units(value: int, unit: str, pad: str, gap: str) -> None:
    """``<n><unit>`` is n times the unit; no unit means bytes."""
    assert value * SIZE_BYTES[unit] == parse_size_bytes(f"{pad}{value}{gap}{unit}{pad}")


@given(st.integers(min_value=0))
def test_size_plain_integer_is_a_byte_count(value: int) -> None:
    """A non-negative int is taken as it is."""
    assert value == parse_size_bytes(value)


@given(st.integers(max_value=-1))
def test_size_negative_integer_is_refused(value: int) -> None:
    """Negative sizes are errors that quote the number."""
    with pytest.raises(ValueError, match="negative") as info:
        parse_size_bytes(value)
    assert str(value) in str(info.value)


@pytest.mark.parametrize("value", [True, False])
def test_size_boolean_is_refused(value: bool) -> None:
    """``true`` is not a size, even though bool is an int subclass."""
    with pytest.raises(ValueError, match="boolean"):
        parse_size_bytes(value)


@given(st.text(max_size=20))
def test_size_garbage_is_refused_with_the_input_quoted(text: str) -> None:
    """Anything that is not ``<integer>[unit]`` raises ValueError quoting the text."""
    if re.fullmatch(r"\s*\d+\s*(B|KB|KiB|MB|MiB|GB|GiB)?\s*", text):
        return
    with pytest.raises(ValueError) as info:
        parse_size_bytes(text)
    assert repr(text) in str(info.value)


@pytest.mark.parametrize("text", ["1.5MiB", "64mib", "64 MiBs", "-1KB", "1TB", "KiB", "1 000"])
def test_size_common_mistakes_are_refused(text: str) -> None:
    """Fractions, lowercase units, unknown units and signs are refused."""
    with pytest.raises(ValueError) as info:
        parse_size_bytes(text)
    assert repr(text) in str(info.value)
