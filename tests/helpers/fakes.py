"""In-memory fakes and builders for unit tests (no files, no wasm, no clock)."""

from __future__ import annotations

import itertools
import json
import tempfile
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from cove._capabilities._effects import entry_size
from cove._config import EngineConfig
from cove._manifest import Manifest


class FakeStateReader:
    """A ``StateReader`` over plain dicts: ``{module: {key: value}}``."""

    def __init__(self, state: dict[str, dict[str, bytes]] | None = None) -> None:
        self.state = state or {}

    def get(self, module: str, key: str) -> bytes | None:
        return self.state.get(module, {}).get(key)

    def list_keys(self, module: str, prefix: str) -> list[str]:
        return sorted(k for k in self.state.get(module, {}) if k.startswith(prefix))

    def state_bytes(self, module: str) -> int:
        return sum(entry_size(k, v) for k, v in self.state.get(module, {}).items())


def manifest(
    name: str = "mod",
    *,
    kind: str = "python",
    required: list[str] | None = None,
    optional: list[str] | None = None,
    **sections: Any,
) -> Manifest:
    """A validated manifest built in memory; ``sections`` are top-level tables."""
    module: dict[str, Any] = {"name": name, "kind": kind}
    if kind == "python":
        module["entry"] = "plugin:Plugin"
    else:
        module["component"] = f"{name}.wasm"
    capabilities = {"required": required or [], "optional": optional or []}
    capabilities.update(sections.pop("capabilities", {}))
    data = {"module": module, "capabilities": capabilities, **sections}
    return Manifest.model_validate({**data, "root": Path("/modules") / name})


def engine_config(**sections: Any) -> EngineConfig:
    """A validated engine config built in memory."""
    return EngineConfig.model_validate({"root": Path("/engine"), **sections})


_FIXTURES = tempfile.TemporaryDirectory(prefix="cove-fixtures-")
_FIXTURE_NUMBERS = itertools.count()


def write_fixture(data: dict[str, Any], suffix: str) -> Path:
    """``data`` as a fixture file (.json or .toml) in one directory per test run, removed at
    exit: property tests write thousands, and one temporary directory each were left behind."""
    path = Path(_FIXTURES.name) / f"fixture-{next(_FIXTURE_NUMBERS)}{suffix}"
    path.write_text(json.dumps(data) if suffix == ".json" else dump_toml(data))
    return path


def dump_toml(data: dict[str, Any]) -> str:
    """TOML text for ``data``: one ``key = value`` line per top-level key, inline tables below."""
    return "".join(f"{_toml_key(k)} = {_toml_value(v)}\n" for k, v in data.items())


def _toml_key(key: str) -> str:
    return _toml_str(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:
            return "nan"
        if value in (float("inf"), float("-inf")):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _toml_str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        items = ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items())
        return "{" + items + "}"
    raise TypeError(f"not TOML-able: {value!r}")


def _toml_str(text: str) -> str:
    out = ['"']
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif (ord(ch) < 0x20 and ch != "\t") or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def schema_keys(model: type[BaseModel]) -> set[str]:
    """Every field name of ``model`` and of the models nested in it, at any depth."""
    found: set[str] = set()
    seen: set[type[BaseModel]] = set()

    def visit(annotation: Any) -> None:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if annotation not in seen:
                seen.add(annotation)
                for name, info in annotation.model_fields.items():
                    found.add(name)
                    visit(info.annotation)
        for arg in typing.get_args(annotation):
            visit(arg)

    visit(model)
    return found


def model_sections(model: type[BaseModel]) -> dict[str, bool]:
    """Top-level fields of ``model`` that are tables: name -> whether it is an array of tables."""
    return {
        name: typing.get_origin(info.annotation) is list
        for name, info in model.model_fields.items()
        if _has_model(info.annotation)
    }


def _has_model(annotation: Any) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    return any(_has_model(arg) for arg in typing.get_args(annotation))
