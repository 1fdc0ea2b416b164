"""The operator's engine config (TOML): where data lives, which modules run, policy."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    Discriminator,
    Field,
    PrivateAttr,
    Strict,
    StrictInt,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ._cache_dir import compiled_cache_dir, content_store_dir
from ._config_base import Duration, StrictModel, is_loopback, repeated
from ._config_budgets import ModuleBudget
from ._config_chain import ChainSettings
from ._config_cluster import ClusterSettings
from ._config_fetch import FetchSettings
from ._config_hooks import HookPoint, HooksSettings
from ._config_identity import IdentitySettings
from ._config_mqtt import MqttTransportSettings, shared_session
from ._config_nostr import NostrTransportSettings
from ._config_operator import (
    ControlSettings,
    ListenerSettings,
    MetricsSettings,
    TrajectorySettings,
)
from ._config_overrides import ModuleOverrides, overridden
from ._config_registry import RegistrySettings
from ._config_retention import DeliveryLimits, RetentionSettings
from ._config_secrets import SECRET_NAME, SecretSource
from ._config_store import StoreSettings
from ._config_tracing import TracingSettings
from ._manifest import Capability, Manifest, Resources
from ._toml import read_toml, validate_toml
from ._units import parse_duration_ms, parse_size_bytes
from .errors import ConfigError

# The operator's limits have the same keys and units as a manifest's [resources].
LimitValues = Resources

DEFAULT_LIMITS = LimitValues(
    fuel=2_000_000_000,
    memory=256 * 1024 * 1024,
    timeout="2s",
    state=16 * 1024 * 1024,
    host_calls=1_000,
    emits=100,
    sends=100,
    emit_rate=100,
    alarms=100,
)
MAX_LIMITS = LimitValues(
    fuel=50_000_000_000,
    memory=1024 * 1024 * 1024,
    timeout="60s",
    state=1024 * 1024 * 1024,
    host_calls=100_000,
    emits=10_000,
    sends=10_000,
    emit_rate=10_000,
    alarms=10_000,
)


class RestartCaps(StrictModel):
    """What a module's own [restart] may ask for: it can never make itself undying."""

    max_failures: Annotated[int, Strict(), Field(ge=1)] = Field(
        default=20,
        description="Most consecutive failures any module gets before it is dead "
        "(a larger [restart] max_failures is cut to this).",
    )
    backoff_initial: Duration = Field(
        default="10ms",
        description="Shortest first retry delay (a shorter [restart] backoff_initial is raised "
        "to this).",
    )
    backoff_max: Duration = Field(
        default="1s",
        description="Shortest longest-delay (a shorter [restart] backoff_max is raised to this): "
        "a failing module restarts at most about once a second once its backoff has grown, "
        "so its rebuilds cannot take a neighbour's CPU.",
    )


class Limits(StrictModel):
    restart: RestartCaps = Field(
        default_factory=RestartCaps,
        description="Operator caps on every module's [restart] policy.",
    )
    default: LimitValues = Field(
        default=DEFAULT_LIMITS,
        description="Limits of a module that does not ask; unset keys keep the built-in values.",
    )
    max: LimitValues = Field(
        default=MAX_LIMITS,
        description="Ceiling on what any module gets; unset keys keep the built-in caps.",
    )

    @field_validator("default", "max")
    @classmethod
    def _fill(cls, value: LimitValues, info: ValidationInfo) -> LimitValues:
        # A section that sets one field keeps the built-in value of the others:
        # a missing default would have no value, a missing max no ceiling.
        builtin = DEFAULT_LIMITS if info.field_name == "default" else MAX_LIMITS
        return builtin.model_copy(update=value.model_dump(exclude_none=True))


class ModulePolicy(StrictModel):
    deny: list[Capability] = Field(
        default_factory=list,
        description="Capabilities denied to this module, besides `policy.deny`.",
    )
    http_allow: list[str] | None = Field(
        default=None,
        description="If set, only the module's http patterns that appear here verbatim are granted.",
    )
    max: LimitValues = Field(
        default_factory=LimitValues, description="This module's own ceiling, below `limits.max`."
    )
    chain_methods: list[str] = Field(
        default_factory=list,
        description="Chain methods (patterns) this module may call despite `deny_methods`.",
    )
    hook_points: list[HookPoint] | None = Field(
        default=None,
        description="If set, the only hook points this module may hook; a `[[hook]]` on "
        "another point refuses the load.",
    )


class Policy(StrictModel):
    deny: list[Capability] = Field(
        default_factory=list,
        description="Capabilities denied to every module: required refuses, optional is unsupported.",
    )
    modules: dict[str, ModulePolicy] = Field(
        default_factory=dict, description="Policy for one module, keyed by module name."
    )

    def for_module(self, name: str) -> ModulePolicy:
        return self.modules.get(name, ModulePolicy())


class HttpSettings(StrictModel):
    timeout: Duration = Field(default="10s", description="Timeout of one module http request.")
    max_response_bytes: StrictInt | str = Field(
        default=4 * 1024 * 1024,
        description="Largest response body a module receives; more is `limit-exceeded`.",
    )
    max_redirects: Annotated[int, Strict(), Field(ge=0)] = Field(
        default=5, description="Redirects followed per fetch; each target is checked again."
    )

    @field_validator("max_response_bytes")
    @classmethod
    def _size(cls, value: int | str) -> int:
        return parse_size_bytes(value)


class WasmSettings(StrictModel):
    cache_dir: Path | None = Field(
        default=None,
        description="Compiled-component cache; unset: the per-user cache shared by every "
        "engine and command (`$COVE_CACHE_DIR/compiled`, else e.g. `~/.cache/cove/compiled`).",
    )
    epoch_tick: Duration = Field(
        default="10ms", description="Epoch ticker period: the resolution of wasm deadlines."
    )
    hibernate_after: Duration | None = Field(
        default=None,
        description="A wasm module idle this long (no event, tool call or hook call) has its "
        "instance and Store dropped (`hibernating`) until its next call; unset: never. "
        "`[overrides.<name>] hibernate_after` sets one module's (see docs/lifecycle.md).",
    )
    compiler: Literal["tiered", "cranelift", "winch"] | None = Field(
        default=None,
        description="What compiles a component missing from the cache. `tiered`: Winch "
        "(wasmtime's baseline compiler, ~4x faster to compile) so the module runs at once, "
        "then Cranelift (optimized code) in the background, which the module moves to "
        "between two events and the cache keeps; `cranelift`: Cranelift only (the module "
        "waits for it); `winch`: Winch only (slower events). Unset: `$COVE_WASM_COMPILER`, "
        "else `tiered`.",
    )
    call_path: Literal["fast", "ctypes"] = Field(
        default="fast",
        description="Calls into wasm go through wasmtime's C API; `fast`: with cove's C "
        "extension where it was built (else ctypes), `ctypes`: always through ctypes.",
    )


class CommitSettings(StrictModel):
    """Group commit (``batched``) or one fsync per event (``per-event``)."""

    mode: Literal["batched", "per-event"] = Field(
        default="batched",
        description="`batched`: one fsync per group of events; `per-event`: one per event.",
    )
    max_delay: Duration = Field(
        default="10ms", description="batched: longest a committed event waits to be durable."
    )
    max_batch: Annotated[int, Strict(), Field(gt=0)] = Field(
        default=2_000, description="batched: flush as soon as this many events wait."
    )


class WatchSettings(StrictModel):
    """``[watch]``: reload a loaded module when its files change (``modules`` is the list of
    module paths, so the switch has a table of its own)."""

    enabled: bool = Field(
        default=False,
        description="Reload a loaded module when its cove.toml or component changes (a "
        "python plugin: any .py file in its directory), as `cove module reload` does.",
    )
    debounce: Duration = Field(
        default="300ms",
        description="Changes this close together make one reload (a build writes the "
        "component, then the pin).",
    )


class WebhookSettings(StrictModel):
    """The inbound HTTP server (``[webhook]``) for webhook transports and ``/webhooks/``.

    Secrets never sit in this file: ``*_env`` names an environment variable
    and ``*_file`` a file that holds the value.
    """

    host: str = Field(
        default="127.0.0.1",
        description="Listen address; non-loopback needs a secret or a token.",
    )
    port: Annotated[int, Strict(), Field(ge=0, le=65_535)] = Field(
        default=8787, description="Listen port (0 picks a free one)."
    )
    max_body: StrictInt | str = Field(
        default=1024 * 1024, description="Largest request body; larger gets 413."
    )
    secret_env: str | None = Field(
        default=None, description="Environment variable holding the HMAC-SHA256 key."
    )
    secret_file: Path | None = Field(default=None, description="File holding the HMAC-SHA256 key.")
    token_env: str | None = Field(
        default=None, description="Environment variable holding the bearer token."
    )
    token_file: Path | None = Field(default=None, description="File holding the bearer token.")
    signing: Literal["cove", "standard"] = Field(
        default="cove",
        description=(
            "How the secret signs: `standard` (Standard Webhooks: webhook-id, webhook-timestamp, "
            "webhook-signature; recommended) or `cove` (X-Cove-Signature over the body alone)."
        ),
    )
    tolerance: Duration = Field(
        default="5m",
        description="`standard` signing: how far webhook-timestamp may be from this clock.",
    )
    max_body_in_flight: StrictInt | str = Field(
        default=16 * 1024 * 1024,
        description="Request body bytes read at once across all connections; more gets 503.",
    )
    body_timeout: Duration = Field(
        default="10s", description="A request's whole body must arrive within this (else 408)."
    )

    @field_validator("max_body_in_flight")
    @classmethod
    def _in_flight(cls, value: int | str) -> int:
        return parse_size_bytes(value)

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
        if not self.authenticated and not is_loopback(self.host):
            raise ValueError(
                f"host {self.host!r} is reachable from other machines; configure "
                "secret_env/secret_file or token_env/token_file, or listen on 127.0.0.1"
            )
        assert isinstance(self.max_body, int) and isinstance(self.max_body_in_flight, int)
        if self.max_body_in_flight < self.max_body:
            raise ValueError("max_body_in_flight must be at least max_body")
        return self

    @property
    def authenticated(self) -> bool:
        refs = (self.secret_env, self.secret_file, self.token_env, self.token_file)
        return any(ref is not None for ref in refs)


class TransportSettings(StrictModel):
    """One ``[[transports]]`` entry: a named transport modules can send through."""

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,62}$")] = Field(
        description="The name modules send through and `/messages/<name>` receives on."
    )
    kind: Literal["webhook"] = Field(description="`webhook`: sends are JSON POSTs to `url`.")
    url: Annotated[str, Field(pattern=r"^https?://\S+$")] = Field(
        description="Where sends are POSTed."
    )
    timeout: Duration = Field(default="10s", description="Timeout of one send.")
    secret_env: str | None = Field(
        default=None, description="Environment variable holding the key that signs sends."
    )
    secret_file: Path | None = Field(default=None, description="File holding the signing key.")
    signing: Literal["cove", "standard"] = Field(
        default="cove",
        description=(
            "How sends are signed: `standard` (Standard Webhooks headers; the key as "
            "whsec_<base64>) or `cove` (X-Cove-Signature); match the receiver's `[webhook] signing`."
        ),
    )

    @model_validator(mode="after")
    def _one_secret(self) -> TransportSettings:
        if self.secret_env is not None and self.secret_file is not None:
            raise ValueError("set one of secret_env or secret_file, not both")
        return self


def _transport_kind(value: object) -> object:
    """The ``kind`` of a ``[[transports]]`` entry; without one it is checked as a webhook
    entry, so the error names the missing ``kind`` (and any unknown key) as before mqtt."""
    if isinstance(value, dict):
        return value.get("kind", "webhook")
    return getattr(value, "kind", None)


AnyTransport = Annotated[
    Annotated[TransportSettings, Tag("webhook")]
    | Annotated[MqttTransportSettings, Tag("mqtt")]
    | Annotated[NostrTransportSettings, Tag("nostr")],
    Discriminator(
        _transport_kind,
        custom_error_type="transport_kind",
        custom_error_message='kind must be "webhook", "mqtt" or "nostr"',
    ),
]
"""A ``[[transports]]`` entry, told apart by its ``kind``."""


class OutboxSettings(StrictModel):
    """Retry schedule for effects whose send failed (exponential, ±20% jitter)."""

    retry_initial: Duration = Field(
        default="500ms", description="Delay before the first retry of a failed send; doubles."
    )
    retry_max: Duration = Field(
        default="5m", description="Longest delay between retries of a send."
    )
    max_attempts: Annotated[int, Field(ge=1)] = Field(
        default=20, description="Attempts before a send moves to the dead letters."
    )
    max_age: Duration = Field(
        default="24h",
        description="How long after its event a send is retried before it moves to the dead letters.",
    )
    transports: dict[str, DeliveryLimits] = Field(
        default_factory=dict,
        description="Per transport name: max_attempts and max_age for that transport's sends.",
    )


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
