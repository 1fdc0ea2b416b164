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


def describe_validation_error(path: Path, exc: pydantic.ValidationError) -> str:
    lines = [f"{path}: {exc.error_count()} problem(s)"]
    for err in exc.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if not _is_union_tag(p))
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = "unknown key (not part of the schema; check the spelling)"
        elif err["type"] == "missing":
            message = "required key is missing"
        elif "input" in err and err["type"] not in ("value_error", "assertion_error"):
            message = f"{message} (got {err['input']!r})"
        lines.append(f"  {format_location(loc)}: {message}")
    return "\n".join(lines)


def _is_union_tag(part: int | str) -> bool:
    # pydantic puts the matched tag of a discriminated union into the location
    # ("subscription[0].tick.every"); the tag is noise for someone fixing a file.
    return isinstance(part, str) and part.startswith("tagged-union[")


def validate_toml(
    path: Path, data: dict[str, Any], model: type[ModelT], error: type[ConfigError] = ConfigError
) -> ModelT:
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise error(describe_validation_error(path, exc)) from None
