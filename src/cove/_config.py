"""The operator's engine config (TOML): where data lives, which modules run, policy."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from ._config_operator import ControlSettings, MetricsSettings, TrajectorySettings
from ._manifest import Capability, Resources
from ._toml import read_toml, validate_toml
from ._units import parse_duration_ms, parse_size_bytes
from .errors import ConfigError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# The operator's limits have the same keys and units as a manifest's [resources].
LimitValues = Resources

DEFAULT_LIMITS = LimitValues(
    fuel=2_000_000_000,
    memory=256 * 1024 * 1024,
    timeout="2s",
    state=16 * 1024 * 1024,
    host_calls=1_000,
)
MAX_LIMITS = LimitValues(
    fuel=50_000_000_000,
    memory=1024 * 1024 * 1024,
    timeout="60s",
    state=1024 * 1024 * 1024,
    host_calls=100_000,
)


class Limits(_Strict):
    default: LimitValues = DEFAULT_LIMITS
    max: LimitValues = MAX_LIMITS

    @field_validator("default", "max")
    @classmethod
    def _fill(cls, value: LimitValues, info: ValidationInfo) -> LimitValues:
        # A section that sets one field keeps the built-in value of the others:
        # a missing default would have no value, a missing max no ceiling.
        builtin = DEFAULT_LIMITS if info.field_name == "default" else MAX_LIMITS
        return builtin.model_copy(update=value.model_dump(exclude_none=True))


class ModulePolicy(_Strict):
    deny: list[Capability] = Field(default_factory=list)
    http_allow: list[str] | None = None
    max: LimitValues = Field(default_factory=LimitValues)


class Policy(_Strict):
    deny: list[Capability] = Field(default_factory=list)
    modules: dict[str, ModulePolicy] = Field(default_factory=dict)

    def for_module(self, name: str) -> ModulePolicy:
        return self.modules.get(name, ModulePolicy())


class HttpSettings(_Strict):
    timeout: str = "10s"
    max_response_bytes: int | str = 4 * 1024 * 1024
    max_redirects: Annotated[int, Field(ge=0)] = 5

    @field_validator("timeout")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration_ms(value)
        return value

    @field_validator("max_response_bytes")
    @classmethod
    def _size(cls, value: int | str) -> int:
        return parse_size_bytes(value)


class WasmSettings(_Strict):
    cache_dir: Path | None = None
    epoch_tick: str = "10ms"

    @field_validator("epoch_tick")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration_ms(value)
        return value


class CommitSettings(_Strict):
    """Group commit (``batched``) or one fsync per event (``per-event``)."""

    mode: Literal["batched", "per-event"] = "batched"
    max_delay: str = "10ms"
    max_batch: Annotated[int, Field(gt=0)] = 2_000

    @field_validator("max_delay")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration_ms(value)
        return value


class WebhookSettings(_Strict):
    """The inbound HTTP server (``[webhook]``) for webhook transports and ``/webhooks/``.

    Secrets never sit in this file: ``*_env`` names an environment variable
    and ``*_file`` a file that holds the value.
    """

    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65_535)] = 8787
    max_body: int | str = 1024 * 1024
    secret_env: str | None = None
    secret_file: Path | None = None
    token_env: str | None = None
    token_file: Path | None = None

    @field_validator("max_body")
    @classmethod
    def _size(cls, value: int | str) -> int:
        size = parse_size_bytes(value)
        if size < 1:
            raise ValueError("max_body must be at least 1 byte")
        return size

    @model_validator(mode="after")
    def _auth(self) -> WebhookSettings:
        if self.secret_env is not None and self.secret_file is not None:
            raise ValueError("set one of secret_env or secret_file, not both")
        if self.token_env is not None and self.token_file is not None:
            raise ValueError("set one of token_env or token_file, not both")
        if not self.authenticated and not _is_loopback(self.host):
            raise ValueError(
                f"host {self.host!r} is reachable from other machines; configure "
                "secret_env/secret_file or token_env/token_file, or listen on 127.0.0.1"
            )
        return self

    @property
    def authenticated(self) -> bool:
        refs = (self.secret_env, self.secret_file, self.token_env, self.token_file)
        return any(ref is not None for ref in refs)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class TransportSettings(_Strict):
    """One ``[[transports]]`` entry: a named transport modules can send through."""

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,62}$")]
    kind: Literal["webhook"]
    url: Annotated[str, Field(pattern=r"^https?://\S+$")]
    timeout: str = "10s"
    secret_env: str | None = None
    secret_file: Path | None = None

    @field_validator("timeout")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration_ms(value)
        return value

    @model_validator(mode="after")
    def _one_secret(self) -> TransportSettings:
        if self.secret_env is not None and self.secret_file is not None:
            raise ValueError("set one of secret_env or secret_file, not both")
        return self


class OutboxSettings(_Strict):
    """Retry schedule for effects whose send failed (exponential, ±20% jitter)."""

    retry_initial: str = "500ms"
    retry_max: str = "5m"

    @field_validator("retry_initial", "retry_max")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration_ms(value)
        return value


class EngineConfig(_Strict):
    """A validated engine config; relative paths resolve against ``root``."""

    data_dir: Path = Path(".cove")
    modules: list[Path] = Field(default_factory=list)
    module_dirs: list[Path] = Field(default_factory=list)
    log_format: Literal["json", "console"] = "console"
    limits: Limits = Field(default_factory=Limits)
    policy: Policy = Field(default_factory=Policy)
    http: HttpSettings = Field(default_factory=HttpSettings)
    wasm: WasmSettings = Field(default_factory=WasmSettings)
    commit: CommitSettings = Field(default_factory=CommitSettings)
    outbox: OutboxSettings = Field(default_factory=OutboxSettings)
    webhook: WebhookSettings | None = None
    transports: list[TransportSettings] = Field(default_factory=list)
    trajectories: TrajectorySettings = Field(default_factory=TrajectorySettings)
    metrics: MetricsSettings | None = None
    control: ControlSettings | None = None
    root: Path = Path(".")

    @field_validator("transports")
    @classmethod
    def _unique_transports(cls, value: list[TransportSettings]) -> list[TransportSettings]:
        names = [t.name for t in value]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"transport names must be unique; repeated: {repeated}")
        return value

    def resolve(self, path: Path) -> Path:
        return path if path.is_absolute() else (self.root / path).resolve()

    @property
    def data_path(self) -> Path:
        return self.resolve(self.data_dir)

    @property
    def cache_path(self) -> Path:
        if self.wasm.cache_dir is not None:
            return self.resolve(self.wasm.cache_dir)
        return self.data_path / "cache"

    def module_paths(self) -> list[Path]:
        """Every module directory named directly or found one level under a module dir."""
        found = [self.resolve(p) for p in self.modules]
        for directory in self.module_dirs:
            base = self.resolve(directory)
            if not base.is_dir():
                raise ConfigError(f"module_dirs: {base} is not a directory")
            found.extend(sorted(p for p in base.iterdir() if (p / "cove.toml").is_file()))
        return found


def load_config(path: Path) -> EngineConfig:
    data = read_toml(path)
    if "root" in data:
        raise ConfigError(f"{path}: root: unknown key (not part of the schema)")
    data["root"] = path.parent.resolve()
    return validate_toml(path, data, EngineConfig)
