"""The module manifest (``cove.toml``): model, validation and loading."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated, Any, Literal

from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ._toml import read_toml, validate_toml
from ._units import parse_duration_ms, parse_size_bytes
from .errors import HashMismatchError, ManifestError

MANIFEST_NAME = "cove.toml"

Capability = Literal["store", "http", "messaging", "events", "logging", "config"]
CAPABILITIES: tuple[Capability, ...] = ("store", "http", "messaging", "events", "logging", "config")
# Reading its own config and writing its own log are never dangerous, so every
# module has them without asking; the rest must be declared and granted.
ALWAYS_GRANTED: frozenset[Capability] = frozenset({"logging", "config"})

ConfigScalar = bool | int | float | str
ConfigValue = ConfigScalar | list[ConfigScalar] | list[dict[str, Any]] | dict[str, Any]

_NAME = r"^[a-z][a-z0-9_-]{0,62}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModuleSection(_Strict):
    name: Annotated[str, Field(pattern=_NAME)]
    version: str = "0.0.0"
    kind: Literal["wasm", "python"]
    description: str = ""
    component: str | None = None
    sha256: Annotated[str, Field(pattern=r"^sha256:[0-9a-f]{64}$")] | None = None
    entry: Annotated[str, Field(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")] | None = None

    @model_validator(mode="after")
    def _kind_fields(self) -> ModuleSection:
        if self.kind == "wasm":
            if self.component is None:
                raise ValueError("a wasm module needs `component` (path to the .wasm file)")
            if self.entry is not None:
                raise ValueError("`entry` is for kind = 'python'; a wasm module uses `component`")
        else:
            if self.entry is None:
                raise ValueError("a python module needs `entry` ('module:ClassName')")
            if self.component is not None or self.sha256 is not None:
                raise ValueError("`component`/`sha256` are for kind = 'wasm'")
        return self


class HttpGrant(_Strict):
    allow: list[str] = Field(default_factory=list)


class MessagingGrant(_Strict):
    transports: list[str] | None = None


class Capabilities(_Strict):
    required: list[Capability] = Field(default_factory=list)
    optional: list[Capability] = Field(default_factory=list)
    http: HttpGrant | None = None
    messaging: MessagingGrant | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Capabilities:
        both = set(self.required) & set(self.optional)
        if both:
            raise ValueError(f"listed as both required and optional: {sorted(both)}")
        declared = set(self.required) | set(self.optional)
        if self.http is not None and "http" not in declared:
            raise ValueError("[capabilities.http] is set but 'http' is not in required/optional")
        if self.messaging is not None and "messaging" not in declared:
            raise ValueError(
                "[capabilities.messaging] is set but 'messaging' is not in required/optional"
            )
        return self

    @property
    def declared(self) -> frozenset[Capability]:
        return frozenset(self.required) | frozenset(self.optional)


class Resources(_Strict):
    """Per-event and per-module limits the module asks for (capped by the operator)."""

    fuel: Annotated[int, Field(gt=0)] | None = None
    memory: int | str | None = None
    timeout: str | None = None
    state: int | str | None = None
    host_calls: Annotated[int, Field(gt=0)] | None = None

    @field_validator("memory", "state")
    @classmethod
    def _size(cls, value: int | str | None) -> int | None:
        return None if value is None else parse_size_bytes(value)

    @field_validator("timeout")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration_ms(value)
        return value


class RestartPolicy(_Strict):
    max_failures: Annotated[int, Field(ge=1)] = 5
    backoff_initial: str = "1s"
    backoff_max: str = "5m"

    @field_validator("backoff_initial", "backoff_max")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration_ms(value)
        return value


class BlockSubscription(_Strict):
    kind: Literal["block"]
    chain_id: Annotated[int, Field(gt=0)]
    confirmations: Annotated[int, Field(ge=0)] = 0


class LogSubscription(_Strict):
    kind: Literal["log"]
    chain_id: Annotated[int, Field(gt=0)]
    address: str | list[str] | None = None
    topics: list[str | list[str] | None] = Field(default_factory=list)
    confirmations: Annotated[int, Field(ge=0)] = 0


class TickSubscription(_Strict):
    kind: Literal["tick"]
    schedule: str | None = None
    every: str | None = None

    @model_validator(mode="after")
    def _one_of(self) -> TickSubscription:
        if (self.schedule is None) == (self.every is None):
            raise ValueError("a tick subscription needs exactly one of `schedule` or `every`")
        if self.schedule is not None and not croniter.is_valid(self.schedule):
            raise ValueError(f"`schedule` is not a valid cron expression: {self.schedule!r}")
        if self.every is not None:
            parse_duration_ms(self.every)
        return self

    @property
    def label(self) -> str:
        return self.schedule if self.schedule is not None else f"every {self.every}"


class MessageSubscription(_Strict):
    kind: Literal["message"]
    transport: str | None = None


class WebhookSubscription(_Strict):
    kind: Literal["webhook"]
    path: Annotated[str, Field(pattern=r"^/[\w./-]*$")]


class CustomSubscription(_Strict):
    kind: Literal["custom"]
    name: Annotated[str, Field(min_length=1)]


class LifecycleSubscription(_Strict):
    kind: Literal["lifecycle"]


Subscription = Annotated[
    BlockSubscription
    | LogSubscription
    | TickSubscription
    | MessageSubscription
    | WebhookSubscription
    | CustomSubscription
    | LifecycleSubscription,
    Field(discriminator="kind"),
]


class Manifest(_Strict):
    """A validated ``cove.toml``. ``root`` is the directory it was read from."""

    module: ModuleSection
    capabilities: Capabilities = Field(default_factory=Capabilities)
    resources: Resources = Field(default_factory=Resources)
    restart: RestartPolicy = Field(default_factory=RestartPolicy)
    config: dict[str, Any] = Field(default_factory=dict)
    subscription: list[Subscription] = Field(default_factory=list)
    root: Path = Path(".")

    @model_validator(mode="after")
    def _config_fits_kind(self) -> Manifest:
        if self.module.kind == "wasm":
            for key, value in self.config.items():
                if not _is_wit_config_value(value):
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


def _is_wit_config_value(value: object) -> bool:
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


def sha256_pin(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


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
