"""Typing of operator config overrides: same TOML type as the manifest's value, or refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cove._config_overrides import ModuleOverrides, overridden
from cove._manifest import Manifest
from cove.errors import ConfigError

SOURCE = Path("/etc/cove/engine.toml")
SCALARS = {
    "boolean": st.booleans(),
    "integer": st.integers(),
    "float": st.floats(allow_nan=False),
    "string": st.text(),
}


def _manifest(config: dict[str, object]) -> Manifest:
    return Manifest.model_validate(
        {"module": {"name": "m", "version": "0.1.0", "kind": "python", "entry": "m:M"},
         "config": config}
    )  # fmt: skip


@given(st.sampled_from(sorted(SCALARS)).flatmap(lambda k: st.tuples(SCALARS[k], SCALARS[k])))
def test_an_override_of_the_same_type_replaces_the_value(pair: tuple[object, object]) -> None:
    declared, value = pair
    merged = overridden(
        _manifest({"k": declared, "other": 1}), ModuleOverrides(config={"k": value}), SOURCE
    )
    assert merged.config == {"k": value, "other": 1}


@given(st.sampled_from(sorted(SCALARS)), st.sampled_from(sorted(SCALARS)), st.data())
def test_an_override_of_another_type_is_refused_naming_file_module_and_key(
    declared_kind: str, value_kind: str, data: st.DataObject
) -> None:
    if declared_kind == value_kind or (declared_kind, value_kind) == ("float", "integer"):
        return
    declared, value = data.draw(SCALARS[declared_kind]), data.draw(SCALARS[value_kind])
    with pytest.raises(
        ConfigError, match=r"^/etc/cove/engine.toml: overrides\.m\.config\.k: expected"
    ):
        overridden(_manifest({"k": declared}), ModuleOverrides(config={"k": value}), SOURCE)


def test_an_integer_overrides_a_float_as_a_float() -> None:
    merged = overridden(_manifest({"ratio": 0.5}), ModuleOverrides(config={"ratio": 2}), SOURCE)
    assert merged.config["ratio"] == 2.0 and isinstance(merged.config["ratio"], float)


def test_an_array_override_must_keep_the_item_types() -> None:
    manifest = _manifest({"tags": ["a"]})
    assert overridden(manifest, ModuleOverrides(config={"tags": []}), SOURCE).config == {"tags": []}
    with pytest.raises(
        ConfigError, match=r"expected an array of string .* got an array of integer"
    ):
        overridden(manifest, ModuleOverrides(config={"tags": [1]}), SOURCE)


def test_a_module_without_overrides_is_returned_unchanged() -> None:
    manifest = _manifest({"k": 1})
    assert overridden(manifest, None, SOURCE) is manifest


def test_a_wasm_modules_empty_array_takes_only_scalars() -> None:
    manifest = Manifest.model_validate(
        {"module": {"name": "w", "version": "0.1.0", "kind": "wasm", "component": "w.wasm"},
         "config": {"tags": []}}
    )  # fmt: skip
    assert ["a", 1] == overridden(
        manifest, ModuleOverrides(config={"tags": ["a", 1]}), SOURCE
    ).config["tags"]
    with pytest.raises(ConfigError, match=r"overrides\.w\.config\.tags: a wasm module's config"):
        overridden(manifest, ModuleOverrides(config={"tags": [{"a": 1}]}), SOURCE)
