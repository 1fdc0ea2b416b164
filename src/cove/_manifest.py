"""The module manifest (``cove.toml``): model, validation and loading.

The sections with a seam of their own are in ``_manifest_grants`` ([capabilities]),
``_manifest_limits`` ([resources], [restart]) and ``_manifest_subscriptions``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, StrictInt, field_validator, model_validator

from ._config_base import StrictModel, repeated
from ._config_hooks import HookPoint
from ._manifest_grants import Capabilities
from ._manifest_limits import Resources, RestartPolicy
from ._manifest_subscriptions import Subscription
from ._supply._store import sha256_pin as sha256_pin
from ._toml import read_toml, validate_toml
from ._units import parse_duration_ms
from .errors import HashMismatchError, ManifestError

MANIFEST_NAME = "cove.toml"


_NAME = r"^[a-z][a-z0-9_-]{0,62}$"
SOURCE_SCHEMES = ("https", "http", "oci", "ipfs")


class ModuleSection(StrictModel):
    name: Annotated[str, Field(pattern=_NAME)] = Field(
        description="Module name, unique in an engine: a-z first, then up to 62 of a-z 0-9 _ -."
    )
    version: str = Field(default="0.0.0", description="Module version, shown in status.")
    kind: Literal["wasm", "python"] = Field(
        description="`wasm`: a sandboxed component; `python`: a trusted in-process plugin."
    )
    description: str = Field(default="", description="One line saying what the module does.")
    component: str | None = Field(
        default=None, description="wasm: path of the .wasm file, relative to the manifest."
    )
    sha256: Annotated[str, Field(pattern=r"^sha256:[0-9a-f]{64}$")] | None = Field(
        default=None,
        description="wasm: the component's pin, `sha256:<64 hex>`; a mismatch refuses the load.",
    )
    sources: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=list,
        description="wasm: where else the pinned component may be fetched, tried in order "
        "after the content store (and `component`, if set): a path relative to the manifest, "
        "`https://…`, `oci://registry/repo:tag` or `oci://registry/repo@sha256:…`, or "
        "`ipfs://<cid>` through the engine's `[fetch] ipfs_gateway` (see docs/supply.md).",
    )
    entry: Annotated[str, Field(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")] | None = Field(
        default=None,
        description="python: the plugin class as `module:ClassName`, next to the manifest, "
        "or a plugin shipped with cove as `cove.plugins.<name>:<Class>`.",
    )

    @model_validator(mode="after")
    def _kind_fields(self) -> ModuleSection:
        if self.kind == "wasm":
            if self.component is None and not self.sources:
                raise ValueError(
                    "a wasm module needs `component` (path to the .wasm file) or `sources`"
                )
            if self.sources and self.sha256 is None:
                raise ValueError("`sources` need `sha256`: the pin is what is fetched")
            for source in self.sources:
                scheme, sep, _ = source.partition("://")
                if sep and scheme not in SOURCE_SCHEMES:
                    raise ValueError(
                        f"sources: {source!r}: scheme {scheme!r} is none of "
                        f"{', '.join(SOURCE_SCHEMES)} (or a path)"
                    )
            if self.entry is not None:
                raise ValueError("`entry` is for kind = 'python'; a wasm module uses `component`")
        else:
            if self.entry is None:
                raise ValueError("a python module needs `entry` ('module:ClassName')")
            if self.component is not None or self.sha256 is not None or self.sources:
                raise ValueError("`component`/`sha256`/`sources` are for kind = 'wasm'")
        return self


class ToolsSection(StrictModel):
    enabled: bool = Field(
        default=False,
        description="The module serves tools to agents (MCP, `cove tool`): a wasm module "
        "exports `cove:host/tool-provider` (the `tool-module` world), a python plugin has "
        "`@tool` methods. Agents see them as `<module>.<tool>`.",
    )


class MigrateSection(StrictModel):
    enabled: bool = Field(
        default=False,
        description="The module migrates its state when its version changes (see "
        "docs/lifecycle.md): a wasm module exports `cove:host/migrator` (the "
        "`migrate-module` world; `@on_migrate` in the Python SDK), a python plugin "
        "overrides `Plugin.migrate`.",
    )


class HookDeclaration(StrictModel):
    """One ``[[hook]]``: a point the module hooks; needs the ``hooks`` capability."""

    point: HookPoint = Field(
        description="Where the engine calls the module (see docs/hooks.md); `observer` "
        "receives every trajectory and lifecycle change, read-only."
    )
    priority: StrictInt = Field(
        default=0, description="Lower runs first; ties run in module-name order."
    )
    timeout: str | None = Field(
        default=None,
        description="Longest one call of this hook may take; capped by the engine's "
        "`[hooks] timeout` (its default when unset).",
    )

    @field_validator("timeout")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration_ms(value)
        return value


class Manifest(StrictModel):
    """A validated ``cove.toml``. ``root`` is the directory it was read from."""

    module: ModuleSection = Field(description="Who the module is and what to run.")
    capabilities: Capabilities = Field(
        default_factory=Capabilities, description="What the module asks to be granted."
    )
    resources: Resources = Field(
        default_factory=Resources,
        description="Limits the module asks for; unset keys take the engine's defaults.",
    )
    restart: RestartPolicy = Field(
        default_factory=RestartPolicy, description="What happens after a failed event or init."
    )
    config: dict[str, Any] = Field(
        default_factory=dict,
        description="The module's own settings (wasm: scalars or lists of scalars).",
    )
    subscription: list[Subscription] = Field(
        default_factory=list, description="Events the module receives; none: it receives nothing."
    )
    tools: ToolsSection = Field(
        default_factory=ToolsSection, description="Tools the module serves to agents."
    )
    migrate: MigrateSection = Field(
        default_factory=MigrateSection,
        description="State migration between versions of the module.",
    )
    hook: list[HookDeclaration] = Field(
        default_factory=list,
        description="Hook points the module is called at; each needs the `hooks` capability.",
    )
    root: Path = Field(
        default=Path("."), description="Directory of the manifest; set by the loader, not a key."
    )

    @model_validator(mode="after")
    def _hooks_declared(self) -> Manifest:
        points = [h.point for h in self.hook]
        if points and "hooks" not in self.capabilities.declared:
            raise ValueError(
                f"[[hook]] on {', '.join(map(repr, points))} needs 'hooks' in "
                "[capabilities] required or optional"
            )
        if twice := repeated(points):
            raise ValueError(f"[[hook]]: each point at most once; repeated: {twice}")
        return self

    @model_validator(mode="after")
    def _config_fits_kind(self) -> Manifest:
        if self.module.kind == "wasm":
            for key, value in self.config.items():
                if not is_wit_config_value(value):
                    raise ValueError(
                        f"config.{key}: a wasm module's config values must be a string, "
                        "integer, float, boolean or a list of those"
                    )
        return self

    @property
    def name(self) -> str:
        return self.module.name

    @property
    def component_path(self) -> Path:
        assert self.module.component is not None
        return (self.root / self.module.component).resolve()

    @property
    def component_sources(self) -> list[str]:
        """Where the component may be had, in order: ``component``, then ``sources``,
        each path made absolute against the manifest's directory."""
        local = [] if self.module.component is None else [str(self.component_path)]
        return local + [
            s if "://" in s else str((self.root / s).resolve()) for s in self.module.sources
        ]


def is_wit_config_value(value: object) -> bool:
    scalar = (bool, int, float, str)
    if isinstance(value, scalar):
        return True
    return isinstance(value, list) and all(isinstance(item, scalar) for item in value)


def manifest_path(path: Path) -> Path:
    """Accept a module directory or its ``cove.toml``."""
    return path / MANIFEST_NAME if path.is_dir() else path


def load_manifest(path: Path) -> Manifest:
    """Read and validate a manifest; errors name the file and the key."""
    file = manifest_path(path)
    data = read_toml(file, ManifestError)
    if "root" in data:
        raise ManifestError(f"{file}: root: unknown key (not part of the schema)")
    data["root"] = file.parent.resolve()
    return validate_toml(file, data, Manifest, ManifestError)


def read_pinned_component(manifest: Manifest) -> bytes:
    """The component's bytes, refused unless they match the manifest's pin."""
    path = manifest.component_path
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise HashMismatchError(
            manifest.name, f"cannot read component {path}: {exc.strerror}"
        ) from None
    actual = sha256_pin(data)
    if manifest.module.sha256 is None:
        raise HashMismatchError(
            manifest.name,
            f"{manifest.root / MANIFEST_NAME}: module.sha256 is missing; "
            f"pin the component with sha256 = {actual!r}",
        )
    if actual != manifest.module.sha256:
        raise HashMismatchError(
            manifest.name,
            f"{path.name} has {actual} but module.sha256 in "
            f"{manifest.root / MANIFEST_NAME} pins {manifest.module.sha256}; "
            "rebuild or update the pin",
        )
    return data
