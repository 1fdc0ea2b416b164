"""cove._hosts._wasm_contract: which cove:host versions a component may be built against."""

from __future__ import annotations

import pytest
import wasmtime
from hypothesis import given
from hypothesis import strategies as st
from wasmtime.component import Component

from cove._hosts import _wasm_contract as contract
from cove._hosts._wasm_contract import (
    HOST_VERSION,
    HOST_VERSION_TEXT,
    _compatible_text,
    contract_problems,
    parse_version,
    served_version,
    version_compatible,
)
from tests.helpers.wat import wat_component


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.1.0", (0, 1, 0)),
        ("12.34.56", (12, 34, 56)),
        ("0.1.0-rc.1", (0, 1, 0)),
        ("0.1.0+build.5", (0, 1, 0)),
        ("0.1.0-alpha+sha.1", (0, 1, 0)),
    ],
)
def test_parse_version_reads_major_minor_patch(text: str, expected: tuple[int, int, int]) -> None:
    """Pre-release and build suffixes are ignored."""
    assert expected == parse_version(text)


@pytest.mark.parametrize(
    "text", ["", "0.1", "0.1.0.0", "v0.1.0", "0.x.0", "0..1", "0.1.²", "-0.1.0"]
)
def test_parse_version_refuses_anything_else(text: str) -> None:
    """Anything but three dot-separated numbers is a ValueError."""
    with pytest.raises(ValueError):
        parse_version(text)


@given(st.text(max_size=12))
def test_parse_version_only_raises_value_error(text: str) -> None:
    """Garbage gives ValueError, never another exception."""
    try:
        major, minor, patch = parse_version(text)
    except ValueError:
        return
    assert min(major, minor, patch) >= 0


def test_host_version_text_matches_the_tuple() -> None:
    """The advertised text and the tuple agree."""
    assert HOST_VERSION == parse_version(HOST_VERSION_TEXT)


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [
        ((0, 3, 0), True),
        ((0, 3, 1), False),
        ((0, 4, 0), False),
        ((0, 2, 0), True),
        ((0, 2, 1), False),
        ((0, 1, 0), True),
        ((0, 1, 1), False),
        ((0, 0, 9), False),
        ((1, 1, 0), False),
    ],
)
def test_zero_major_needs_the_same_minor_and_no_newer_patch(
    wanted: tuple[int, int, int], expected: bool
) -> None:
    """While the host is 0.x, a minor bump is a breaking change in either direction;
    0.2.0 and 0.1.0, the legacy contracts the host adapts, are the older minors accepted."""
    assert expected == version_compatible(wanted)


@pytest.mark.parametrize(
    ("wanted", "served"),
    [
        ((0, 3, 0), (0, 3, 0)),
        ((0, 2, 0), (0, 2, 0)),
        ((0, 1, 0), (0, 1, 0)),
        ((0, 1, 1), None),
        ((0, 4, 0), None),
    ],
)
def test_a_component_is_served_the_version_it_was_built_against(
    wanted: tuple[int, int, int], served: tuple[int, int, int] | None
) -> None:
    """The linker names and handle's shape follow the served version."""
    assert served == served_version(wanted)


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [
        ((1, 4, 2), True),
        ((1, 0, 0), True),
        ((1, 3, 9), True),
        ((1, 4, 3), False),
        ((1, 5, 0), False),
        ((2, 0, 0), False),
        ((0, 4, 2), False),
    ],
)
def test_stable_major_accepts_older_minors_but_not_newer(
    monkeypatch: pytest.MonkeyPatch, wanted: tuple[int, int, int], expected: bool
) -> None:
    """From 1.0 on, a component built against an older minor still runs; a newer one does not."""
    monkeypatch.setattr(contract, "HOST_VERSION", (1, 4, 2))
    assert expected == version_compatible(wanted)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (HOST_VERSION_TEXT, True),
        (f"{HOST_VERSION_TEXT}-rc.1", True),
        (f"{HOST_VERSION[0]}.{HOST_VERSION[1]}.{HOST_VERSION[2] + 1}-rc.1", False),
        (f"{HOST_VERSION[0]}.{HOST_VERSION[1] + 1}.0", False),
        ("not-a-version", False),
        ("", False),
    ],
)
def test_version_text_from_an_import_name(text: str, expected: bool) -> None:
    """Import versions are parsed then checked; unparsable ones are simply incompatible."""
    assert expected == _compatible_text(text)


def test_chain_import_needs_the_chain_capability() -> None:
    """The chain interface is in the contract and gated by the ``chain`` capability."""
    engine = wasmtime.Engine()
    component = Component.from_file(engine, str(wat_component("chain_only")))
    report, problems = contract_problems(engine, component, frozenset({"chain"}))
    assert report.interfaces == frozenset({"chain"})
    assert not [p for p in problems if "chain" in p]
    _, problems = contract_problems(engine, component, frozenset())
    assert (
        "imports cove:host/chain but its manifest does not declare 'chain' in [capabilities] "
        "required/optional"
    ) in problems
