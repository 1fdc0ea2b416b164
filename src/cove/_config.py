"""The operator's engine config (TOML): where data lives, which modules run, policy.

Each section's model is in a ``_config_<section>`` module; this one holds the whole file's
model, the checks that span sections, and the loader."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, PrivateAttr, field_validator, model_validator

from ._cache_dir import compiled_cache_dir, content_store_dir
from ._config_base import StrictModel, repeated
from ._config_budgets import ModuleBudget
from ._config_chain import ChainSettings
from ._config_cluster import ClusterSettings
from ._config_fetch import FetchSettings
from ._config_hooks import HooksSettings
from ._config_identity import IdentitySettings
from ._config_limits import Limits, Policy
from ._config_mqtt import shared_session
from ._config_nostr import NostrTransportSettings
from ._config_operator import (
    ControlSettings,
    ListenerSettings,
    MetricsSettings,
    TrajectorySettings,
)
from ._config_overrides import ModuleOverrides, overridden
from ._config_registry import RegistrySettings
from ._config_retention import OutboxSettings, RetentionSettings
from ._config_runtime import CommitSettings, HttpSettings, WasmSettings, WatchSettings
from ._config_secrets import SECRET_NAME, SecretSource
from ._config_store import StoreSettings
from ._config_tracing import TracingSettings
from ._config_transports import AnyTransport, WebhookSettings
from ._manifest import Manifest
from ._toml import read_toml, validate_toml
from ._units import parse_duration_ms
from .errors import ConfigError


class EngineConfig(StrictModel):
    """A validated engine config; relative paths resolve against ``root``."""

    data_dir: Path = Field(
        default=Path(".cove"),
        description="Where the SQLite store (`cove.db`) and the cache live.",
    )
    modules: list[Path] = Field(
        default_factory=list, description="Module directories (or their cove.toml) to load."
    )
    module_dirs: list[Path] = Field(
        default_factory=list, description="Load every subdirectory of these that has a cove.toml."
    )
    log_format: Literal["json", "console"] = Field(
        default="console", description="Log lines as JSON or for a terminal."
    )
    limits: Limits = Field(default_factory=Limits, description="Module limits: defaults and caps.")
    policy: Policy = Field(default_factory=Policy, description="What modules are denied.")
    http: HttpSettings = Field(
        default_factory=HttpSettings, description="Outbound http for modules."
    )
    wasm: WasmSettings = Field(default_factory=WasmSettings, description="The wasm runtime.")
    fetch: FetchSettings = Field(
        default_factory=FetchSettings,
        description="Components given by sha256 and sources: the content store, limits, gateway.",
    )
    store: StoreSettings = Field(
        default_factory=StoreSettings,
        description="Which backend holds the journal, state, cursors and outbox.",
    )
    cluster: ClusterSettings | None = Field(
        default=None,
        description="Share the modules with other engines on the same PostgreSQL store "
        "(docs/scale-out.md); unset: this engine runs every module.",
    )
    commit: CommitSettings = Field(
        default_factory=CommitSettings, description="When commits become durable."
    )
    outbox: OutboxSettings = Field(
        default_factory=OutboxSettings, description="Retries of effects that failed to send."
    )
    retention: RetentionSettings = Field(
        default_factory=RetentionSettings,
        description="Pruning of the journal and of delivered effects; the publish-dedup window.",
    )
    webhook: WebhookSettings | None = Field(
        default=None, description="The inbound HTTP server; unset: none."
    )
    transports: list[AnyTransport] = Field(
        default_factory=list,
        description="Named transports modules can send through: `webhook`, `mqtt` or `nostr`.",
    )
    chains: list[ChainSettings] = Field(
        default_factory=list, description="Chains modules can read and subscribe to, by chain id."
    )
    identity: IdentitySettings = Field(
        default_factory=IdentitySettings,
        description="Which keystore each module with the `identity` capability signs with.",
    )
    trajectories: TrajectorySettings = Field(
        default_factory=TrajectorySettings, description="Per-event records and their retention."
    )
    metrics: MetricsSettings | None = Field(
        default=None, description="A Prometheus listener of its own; unset: none."
    )
    control: ControlSettings | None = Field(
        default=None, description="The control-plane HTTP API; unset: none."
    )
    listeners: ListenerSettings = Field(
        default_factory=ListenerSettings,
        description="Connection cap and timeouts of every HTTP listener (webhook, control, metrics).",
    )
    hooks: HooksSettings = Field(
        default_factory=HooksSettings,
        description="How module hooks run: timeout, per-point failure policy, observer queue.",
    )
    tracing: TracingSettings | None = Field(
        default=None,
        description="OpenTelemetry traces of events and tool calls over OTLP/HTTP; unset: off.",
    )
    watch: WatchSettings = Field(
        default_factory=WatchSettings,
        description="Reloading modules when their files change (see docs/lifecycle.md).",
    )
    registry: RegistrySettings | None = Field(
        default=None,
        description="The on-chain module registry to load and upgrade modules from "
        "(see docs/lifecycle.md); unset: none.",
    )
    overrides: dict[str, ModuleOverrides] = Field(
        default_factory=dict,
        description="Operator settings of one module, keyed by module name: `config` values "
        "that replace keys of its manifest's `[config]`, and the `secrets` it may use.",
    )
    budgets: dict[str, ModuleBudget] = Field(
        default_factory=dict,
        description="Per module name: what it may spend per UTC hour or day (fuel, http and "
        "chain requests, transactions, wei, messages), enforced by the host and kept in the "
        "store across restarts; see docs/agents.md.",
    )
    secrets: dict[Annotated[str, Field(pattern=SECRET_NAME)], SecretSource] = Field(
        default_factory=dict,
        description="Credentials by name, read from the environment or a file; granted to "
        "modules in `[overrides.<name>] secrets` and used only by the host.",
    )
    root: Path = Field(
        default=Path("."), description="Directory of the config file; set by the loader, not a key."
    )
    # The file this config was read from, named in errors about it; unset: built in code.
    _file: Path | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _granted_secrets_exist(self) -> EngineConfig:
        for module, overrides in self.overrides.items():
            if unknown := sorted(set(overrides.secrets) - set(self.secrets)):
                raise ValueError(
                    f"overrides.{module}.secrets: no [secrets.<name>] section for {unknown}"
                )
        for transport in self.transports:
            secret = getattr(transport, "password_secret", None)
            if secret is not None and secret not in self.secrets:
                raise ValueError(
                    f"transports.{transport.name}.password_secret: no [secrets.{secret}] section"
                )
            if isinstance(transport, NostrTransportSettings):
                if keyless := [m for m in transport.modules if m not in self.identity.modules]:
                    raise ValueError(
                        f"transports.{transport.name}.modules: no [identity.modules.<name>] "
                        f"key for {keyless}; a nostr identity is the module's keystore"
                    )
        secret = self.store.password_secret
        if secret is not None and secret not in self.secrets:
            raise ValueError(f"store.password_secret: no [secrets.{secret}] section")
        if self.cluster is not None and self.store.kind != "postgres":
            raise ValueError('cluster: needs [store] kind = "postgres" (the engines share it)')
        if self.cluster is not None and self.registry is not None:
            raise ValueError("cluster: the on-chain [registry] is not run in a cluster yet")
        return self

    @model_validator(mode="after")
    def _registry_chain_configured(self) -> EngineConfig:
        if self.registry is not None and self.registry.chain not in {
            c.chain_id for c in self.chains
        }:
            raise ValueError(f"registry.chain: {self.registry.chain} is not a [[chains]] chain_id")
        return self

    @field_validator("transports")
    @classmethod
    def _unique_transports(cls, value: list[AnyTransport]) -> list[AnyTransport]:
        if twice := repeated(t.name for t in value):
            raise ValueError(f"transport names must be unique; repeated: {twice}")
        if clash := shared_session(value):
            raise ValueError(clash)
        return value

    @field_validator("chains")
    @classmethod
    def _unique_chains(cls, value: list[ChainSettings]) -> list[ChainSettings]:
        if twice := repeated(c.chain_id for c in value):
            raise ValueError(f"chain ids must be unique; repeated: {twice}")
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
        return compiled_cache_dir()

    @property
    def store_path(self) -> Path:
        if self.fetch.store is not None:
            return self.resolve(self.fetch.store)
        return content_store_dir()

    @property
    def registry_path(self) -> Path:
        """Where the registry's fetched modules live ([registry] dir, else under data_dir)."""
        directory = None if self.registry is None else self.registry.dir
        return self.data_path / "registry" if directory is None else self.resolve(directory)

    def configured(self, manifest: Manifest) -> Manifest:
        """``manifest`` as the operator runs it: ``[overrides.<name>.config]`` merged in."""
        return overridden(manifest, self.overrides.get(manifest.name), self.source)

    def hibernate_after_ms(self, module: str) -> int | None:
        """How long ``module`` may idle before it hibernates; None: never."""
        override = self.overrides.get(module)
        after = self.wasm.hibernate_after
        if override is not None and override.hibernate_after is not None:
            after = override.hibernate_after
        return None if after in (None, "never") else parse_duration_ms(after)

    @property
    def source(self) -> Path:
        """The file this config was read from, as errors name it."""
        return self._file or self.root / "engine config"

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
    config = validate_toml(path, data, EngineConfig)
    config._file = path
    return config
