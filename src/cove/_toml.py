"""Reading TOML files into pydantic models with errors that name file and key."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, TypeVar

import pydantic

from .errors import ConfigError

ModelT = TypeVar("ModelT", bound=pydantic.BaseModel)


def read_toml(path: Path, error: type[ConfigError] = ConfigError) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{path}: file not found") from None
    except OSError as exc:
        raise error(f"{path}: cannot read: {exc.strerror}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML: {exc}") from None


def format_location(loc: tuple[int | str, ...]) -> str:
    """``('capabilities', 'required', 0)`` → ``capabilities.required[0]``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif out:
            out += f".{part}"
        else:
            out = str(part)
    return out or "(top level)"


def describe_validation_error(path: Path, data: Any, exc: pydantic.ValidationError) -> str:
    lines = [f"{path}: {exc.error_count()} problem(s)"]
    for err in exc.errors(include_url=False):
        loc = _key_path(data, err["loc"], missing=err["type"] == "missing")
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = "unknown key (not part of the schema; check the spelling)"
        elif err["type"] == "missing":
            message = "required key is missing"
        elif "input" in err and err["type"] not in ("value_error", "assertion_error"):
            message = f"{message} (got {err['input']!r})"
        lines.append(f"  {format_location(loc)}: {message}")
    return "\n".join(lines)


def _key_path(data: Any, loc: tuple[int | str, ...], missing: bool) -> tuple[int | str, ...]:
    # pydantic puts union members into the location: the tag of a discriminated
    # union ("subscription[0].tick.every") and the member type of a plain one
    # ("address.list[str]"). They are noise for someone fixing a file, so keep
    # only the parts that are keys or indexes of the input, plus a missing key.
    out: list[int | str] = []
    node = data
    for position, part in enumerate(loc):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        elif not (missing and position == len(loc) - 1):
            continue
        out.append(part)
    return tuple(out)


def validate_toml(
    path: Path, data: dict[str, Any], model: type[ModelT], error: type[ConfigError] = ConfigError
) -> ModelT:
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise error(describe_validation_error(path, data, exc)) from None
