"""The module manifest (``cove.toml``): model, validation and loading."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from croniter import croniter
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StrictInt,
    field_validator,
    model_validator,
)

from ._config_base import repeated
from ._config_hooks import HookPoint
from ._supply._store import sha256_pin as sha256_pin
from ._toml import read_toml, validate_toml
from ._units import parse_duration_ms, parse_size_bytes
from .errors import HashMismatchError, ManifestError

MANIFEST_NAME = "cove.toml"

Capability = Literal[
    "store",
    "http",
    "messaging",
    "events",
    "logging",
    "config",
    "chain",
    "identity",
    "hooks",
    "alarms",
]
CAPABILITIES: tuple[Capability, ...] = get_args(Capability)
# Reading its own config and writing its own log are never dangerous, so every
# module has them without asking; the rest must be declared and granted.
ALWAYS_GRANTED: frozenset[Capability] = frozenset({"logging", "config"})

ConfigScalar = bool | int | float | str
ConfigValue = ConfigScalar | list[ConfigScalar] | list[dict[str, Any]] | dict[str, Any]

_NAME = r"^[a-z][a-z0-9_-]{0,62}$"
SOURCE_SCHEMES = ("https", "http", "oci", "ipfs")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModuleSection(_Strict):
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


class HttpGrant(_Strict):
    allow: list[str] = Field(
        default_factory=list,
        description="Hosts the module may fetch: `api.example.com`, `*.example.com`, "
        "`host:port`, `[::1]:8080` or `*`.",
    )


class MessagingGrant(_Strict):
    transports: list[str] | None = Field(
        default=None, description="Transports the module may send through; unset allows any."
    )


class ChainGrant(_Strict):
    chains: list[Annotated[int, Strict(), Field(gt=0)]] = Field(
        default_factory=list,
        description="Chain ids the module may call (each must be in the engine's `[[chains]]`).",
    )


IdentityMethod = Literal["address", "sign-message", "sign-typed-data", "send-transaction"]
# Signing proves nothing happened on a chain; sending spends the account's
# funds, so it is granted only when the manifest names it.
DEFAULT_IDENTITY_METHODS: tuple[IdentityMethod, ...] = (
    "address",
    "sign-message",
    "sign-typed-data",
)


class IdentityGrant(_Strict):
    methods: list[IdentityMethod] = Field(
        default_factory=lambda: list(DEFAULT_IDENTITY_METHODS),
        description="`identity` functions the module may call: `address`, `sign-message`, "
        "`sign-typed-data`, `send-transaction` (default: all but `send-transaction`, which "
        "also needs the `chain` grant for the transaction's chain).",
    )


class EventsGrant(_Strict):
    emit: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=list,
        description="Event names the module may emit, as glob patterns (`alerts.*`); unset, "
        "a module emits only under its own name (`<module>.*`), so it cannot pass its "
        "events off as another module's.",
    )


class Capabilities(_Strict):
    required: list[Capability] = Field(
        default_factory=list,
        description="Capabilities the module cannot run without; a denied one refuses the load.",
    )
    optional: list[Capability] = Field(
        default_factory=list,
        description="Capabilities the module can do without; if denied, calls get `unsupported`.",
    )
    http: HttpGrant | None = Field(
        default=None, description="Settings of the `http` capability: its allowlist."
    )
    messaging: MessagingGrant | None = Field(
        default=None, description="Settings of the `messaging` capability."
    )
    chain: ChainGrant | None = Field(
        default=None, description="Settings of the `chain` capability: which chains."
    )
    identity: IdentityGrant | None = Field(
        default=None, description="Settings of the `identity` capability: which functions."
    )
    events: EventsGrant | None = Field(
        default=None, description="Settings of the `events` capability: which names it emits."
    )

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
        if self.chain is not None and "chain" not in declared:
            raise ValueError("[capabilities.chain] is set but 'chain' is not in required/optional")
        if self.events is not None and "events" not in declared:
            raise ValueError(
                "[capabilities.events] is set but 'events' is not in required/optional"
            )
        if self.identity is not None and "identity" not in declared:
            raise ValueError(
                "[capabilities.identity] is set but 'identity' is not in required/optional"
            )
        return self

    @property
    def declared(self) -> frozenset[Capability]:
        return frozenset(self.required) | frozenset(self.optional)


class Resources(_Strict):
    """Per-event and per-module limits the module asks for (capped by the operator)."""

    fuel: Annotated[int, Strict(), Field(gt=0)] | None = Field(
        default=None, description="Fuel (wasm instructions, roughly) per init or handle call."
    )
    memory: StrictInt | str | None = Field(
        default=None, description='Linear memory of a wasm instance: bytes or a size like "128MiB".'
    )
    timeout: str | None = Field(
        default=None, description='Wall-clock deadline per wasm init or handle call, e.g. "500ms".'
    )
    state: StrictInt | str | None = Field(
        default=None, description='Quota of stored state (keys + values): bytes or e.g. "1MiB".'
    )
    host_calls: Annotated[int, Strict(), Field(gt=0)] | None = Field(
        default=None, description="Host calls per event; one more fails the event."
    )
    emits: Annotated[int, Strict(), Field(gt=0)] | None = Field(
        default=None,
        description="Events one event may emit; one more is refused with `limit-exceeded`.",
    )
    sends: Annotated[int, Strict(), Field(gt=0)] | None = Field(
        default=None,
        description="Messages one event may send; one more is refused with `limit-exceeded`.",
    )
    alarms: Annotated[int, Strict(), Field(gt=0)] | None = Field(
        default=None,
        description="Alarms the module may have pending at once (`alarms` capability); "
        "one more is refused with `limit-exceeded`.",
    )
    emit_rate: Annotated[int, Strict(), Field(gt=0)] | None = Field(
        default=None,
        description="Events per second the module may emit, on average (bursts up to `emits`); "
        "bounds how fast one module, or a loop of modules emitting to each other, grows the "
        "journal. Over it an emit is refused with `limit-exceeded`.",
    )

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


class ToolsSection(_Strict):
    enabled: bool = Field(
        default=False,
        description="The module serves tools to agents (MCP, `cove tool`): a wasm module "
        "exports `cove:host/tool-provider` (the `tool-module` world), a python plugin has "
        "`@tool` methods. Agents see them as `<module>.<tool>`.",
    )


class MigrateSection(_Strict):
    enabled: bool = Field(
        default=False,
        description="The module migrates its state when its version changes (see "
        "docs/lifecycle.md): a wasm module exports `cove:host/migrator` (the "
        "`migrate-module` world; `@on_migrate` in the Python SDK), a python plugin "
        "overrides `Plugin.migrate`.",
    )


class RestartPolicy(_Strict):
    max_failures: Annotated[int, Strict(), Field(ge=1)] = Field(
        default=5, description="Consecutive failures after which the module is dead."
    )
    backoff_initial: str = Field(
        default="1s", description="Delay before the first retry; doubles per failure, ±20% jitter."
    )
    backoff_max: str = Field(default="5m", description="Longest delay between retries.")

    @field_validator("backoff_initial", "backoff_max")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration_ms(value)
        return value


class BlockSubscription(_Strict):
    kind: Literal["block"] = Field(description="New blocks of one chain.")
    chain_id: Annotated[int, Strict(), Field(gt=0)] = Field(description="EIP-155 chain id.")
    confirmations: Annotated[int, Strict(), Field(ge=0)] = Field(
        default=0, description="Blocks on top before delivery (0: at once)."
    )


class LogSubscription(_Strict):
    kind: Literal["log"] = Field(description="Contract event logs of one chain.")
    chain_id: Annotated[int, Strict(), Field(gt=0)] = Field(description="EIP-155 chain id.")
    address: str | list[str] | None = Field(
        default=None, description="Contract address or addresses (any case); unset: any."
    )
    topics: list[str | list[str] | None] = Field(
        default_factory=list,
        description="Topic filters by position: a topic, a list of alternatives, or null for any.",
    )
    confirmations: Annotated[int, Strict(), Field(ge=0)] = Field(
        default=0, description="Blocks on top before delivery (0: at once)."
    )


class TickSubscription(_Strict):
    kind: Literal["tick"] = Field(description="Ticks from the engine's cron source.")
    schedule: str | None = Field(
        default=None, description="Cron expression (croniter syntax, UTC); or set `every`."
    )
    every: str | None = Field(
        default=None, description='Interval aligned to the Unix epoch, e.g. "30s"; or `schedule`.'
    )

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
    kind: Literal["message"] = Field(description="Inbound messages of transports.")
    transport: str | None = Field(
        default=None, description="Only messages on this transport; unset: every transport."
    )


class WebhookSubscription(_Strict):
    kind: Literal["webhook"] = Field(description="Inbound HTTP requests to `/webhooks/...`.")
    path: Annotated[str, Field(pattern=r"^/[\w./-]*$")] = Field(
        description='Exact path after `/webhooks`, e.g. "/github".'
    )


class CustomSubscription(_Strict):
    kind: Literal["custom"] = Field(description="Events emitted by modules (or published).")
    name: Annotated[str, Field(min_length=1)] = Field(
        description="Event name; shell-style wildcards such as `alert.*` match many."
    )


class LifecycleSubscription(_Strict):
    kind: Literal["lifecycle"] = Field(
        description="Lifecycle events (started, stopping, reloaded)."
    )


class HookDeclaration(_Strict):
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
