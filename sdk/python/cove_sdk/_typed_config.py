"""Typed config: read the ``[config]`` table into a dataclass, checked at init.

Checking once in ``@on_init`` turns a typo or a wrong type in cove.toml into
a refused module with a message naming the key, instead of a failure on
some later event.
"""

import dataclasses
import types
import typing
from typing import Any, TypeVar

from ._errors import ConfigError
from ._host import config

T = TypeVar("T")
_SCALARS = (bool, int, float, str)


def load_config(cls: type[T]) -> T:
    """An instance of dataclass ``cls`` filled from ``[config]``; raises ``ConfigError``.

    Field types may be ``bool``, ``int``, ``float``, ``str``, ``list[X]`` of
    those, or ``X | None``. Keys in ``[config]`` that are not fields are an
    error too (most often a misspelling).
    """
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"load_config needs a dataclass, not {cls!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    problems: list[str] = []
    values: dict[str, Any] = {}
    for name, field in fields.items():
        has_default = (
            field.default is not dataclasses.MISSING
            or field.default_factory is not dataclasses.MISSING
        )
        value = config.get(name, dataclasses.MISSING)
        if value is dataclasses.MISSING:
            if not has_default:
                problems.append(f"config.{name}: missing; add `{name} = ...` under [config]")
            continue
        problem = _check(value, hints[name])
        if problem:
            problems.append(f"config.{name}: {problem}")
        else:
            values[name] = float(value) if hints[name] is float else value
    unknown = sorted(set(config.keys()) - set(fields))
    for name in unknown:
        problems.append(f"config.{name}: not a field of {cls.__name__} (misspelt?)")
    if problems:
        raise ConfigError(
            "cove.toml [config] does not fit " + cls.__name__ + ":\n  " + "\n  ".join(problems)
        )
    return cls(**values)


def _name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _check(value: Any, tp: Any) -> str:
    """An empty string when ``value`` fits type ``tp``, else what is wrong."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(tp)
        if value is None and type(None) in options:
            return ""
        if any(not _check(value, option) for option in options if option is not type(None)):
            return ""
        return f"expected {_name(tp)}, got {type(value).__name__} {value!r}"
    if origin is list:
        (item_type,) = typing.get_args(tp) or (Any,)
        if not isinstance(value, list):
            return f"expected a list, got {type(value).__name__} {value!r}"
        for index, item in enumerate(value):
            problem = _check(item, item_type)
            if problem:
                return f"[{index}]: {problem}"
        return ""
    if tp is Any:
        return ""
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return ""  # TOML writes 5 for 5.0
    if tp in _SCALARS:
        # bool is an int in Python, but `threshold = true` is a mistake.
        if isinstance(value, tp) and not (tp is int and isinstance(value, bool)):
            return ""
        return f"expected {tp.__name__}, got {type(value).__name__} {value!r}"
    raise TypeError(
        f"config field type {_name(tp)} is not supported; use bool, int, float, str or list of those"
    )
