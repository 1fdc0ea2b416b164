"""The operator's ``[overrides.<module>]``: config values that replace a manifest's ``[config]``.

An operator tunes a module (an endpoint, a threshold) without editing the
module's own manifest, whose pinned component stays the same. Only keys the
manifest declares may be overridden, each with the manifest's TOML type, so a
typo or a wrong type is refused at load instead of reaching the module.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from ._config_base import Duration, StrictModel
from ._manifest import Manifest, is_wit_config_value
from .errors import ConfigError


class ModuleOverrides(StrictModel):
    config: dict[str, Any] = Field(
        default_factory=dict,
        description="Values replacing keys of the module's `[config]`; each key must be "
        "declared there, with the same TOML type.",
    )
    hibernate_after: Duration | Literal["never"] | None = Field(
        default=None,
        description="This module's `[wasm] hibernate_after`: a duration, or `never` to keep "
        "it awake; unset: the engine's.",
    )
    secrets: list[str] = Field(
        default_factory=list,
        description="Names of `[secrets]` the module may reference as `{{secret:<name>}}` in "
        "an http request's header values or url; the host fills them in, the module never "
        "sees them.",
    )


def overridden(manifest: Manifest, overrides: ModuleOverrides | None, source: Path) -> Manifest:
    """``manifest`` with the operator's config values merged in; ``source`` names the file in errors."""
    if overrides is None or not overrides.config:
        return manifest
    merged = dict(manifest.config)
    for key, value in overrides.config.items():
        where = f"{source}: overrides.{manifest.name}.config.{key}"
        if key not in manifest.config:
            declared = ", ".join(sorted(manifest.config)) or "none"
            raise ConfigError(
                f"{where}: module {manifest.name!r} declares no config key {key!r} "
                f"(declared: {declared})"
            )
        merged[key] = _same_type(where, manifest.config[key], value)
        if manifest.module.kind == "wasm" and not is_wit_config_value(merged[key]):
            raise ConfigError(
                f"{where}: a wasm module's config values must be a string, integer, float, "
                "boolean or a list of those"
            )
    return manifest.model_copy(update={"config": merged})


def _same_type(where: str, declared: object, value: object) -> object:
    """``value`` if it has ``declared``'s TOML type (an integer may stand for a float)."""
    if isinstance(declared, float) and type(value) is int:
        return float(value)
    if isinstance(declared, list):
        kinds = {_toml_type(item) for item in declared}
        if isinstance(value, list) and all(not kinds or _toml_type(i) in kinds for i in value):
            return value
    elif _toml_type(declared) == _toml_type(value):
        return value
    raise ConfigError(
        f"{where}: expected {_describe(declared)} like the manifest's value, "
        f"got {_describe(value)} {value!r}"
    )


def _toml_type(value: object) -> str:
    names = {bool: "boolean", int: "integer", float: "float", str: "string", dict: "table"}
    return names.get(type(value), "array" if isinstance(value, list) else type(value).__name__)


def _describe(value: object) -> str:
    if isinstance(value, list):
        kinds = sorted({_toml_type(item) for item in value})
        return f"an array of {' or '.join(kinds)}" if kinds else "an array"
    kind = _toml_type(value)
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"
