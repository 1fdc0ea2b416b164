"""Resolve what a module may do: its declaration capped by operator policy."""

from __future__ import annotations

from dataclasses import dataclass

from .._config import EngineConfig
from .._config_hooks import HookPoint
from .._manifest import Manifest
from .._manifest_grants import ALWAYS_GRANTED, DEFAULT_IDENTITY_METHODS, Capability
from .._units import parse_duration_ms
from ..errors import CapabilityError
from ._http_allow import pattern_covers


@dataclass(frozen=True, slots=True)
class Limits:
    fuel: int
    memory_bytes: int
    timeout_ms: int
    state_bytes: int
    host_calls: int
    emits: int = 100
    """Events one event may emit."""
    sends: int = 100
    """Messages one event may send."""
    emit_rate: int = 100
    """Events per second the module may emit (bursts up to ``emits``)."""
    alarms: int = 100
    """Alarms the module may have pending at once."""
    max_failures: int = 5
    """Consecutive failures before the module is dead ([restart], capped by the operator)."""
    backoff_initial_ms: int = 1_000
    backoff_max_ms: int = 300_000


@dataclass(frozen=True, slots=True)
class Grants:
    """What one module was granted; the capability layer checks every call against it."""

    module: str
    declared: frozenset[Capability]
    granted: frozenset[Capability]
    http_allow: tuple[str, ...]
    transports: tuple[str, ...] | None
    limits: Limits
    chains: tuple[int, ...] = ()
    """Chain ids the module may call: declared and configured by the operator."""
    chain_methods: tuple[str, ...] = ()
    """Method patterns the operator re-allows for this module despite a chain's deny list."""
    identity_methods: tuple[str, ...] = ()
    """``identity`` functions the module may call (its manifest's subset)."""
    emit_names: tuple[str, ...] = ()
    """Glob patterns of the event names the module may emit (its own prefix by default)."""

    def allows(self, capability: Capability) -> bool:
        return capability in self.granted


def resolve_grants(manifest: Manifest, config: EngineConfig) -> Grants:
    """Refuse the module if a required capability is denied; drop denied optional ones."""
    policy = config.policy.for_module(manifest.name)
    denied = set(config.policy.deny) | set(policy.deny)
    caps = manifest.capabilities
    refused = sorted(set(caps.required) & denied)
    if refused:
        raise CapabilityError(
            manifest.name,
            f"requires {', '.join(map(repr, refused))} but the operator policy denies "
            f"{'it' if len(refused) == 1 else 'them'} (engine config [policy])",
        )
    granted = (caps.declared | ALWAYS_GRANTED) - denied
    http_allow: tuple[str, ...] = ()
    if "http" in granted:
        asked = tuple(caps.http.allow) if caps.http else ()
        if policy.http_allow is not None:
            asked = tuple(p for p in asked if any(pattern_covers(q, p) for q in policy.http_allow))
        http_allow = asked
    transports = None
    if caps.messaging is not None and caps.messaging.transports is not None:
        transports = tuple(caps.messaging.transports)
    chains: tuple[int, ...] = ()
    if "chain" in granted and caps.chain is not None:
        configured = {c.chain_id for c in config.chains}
        missing = sorted(set(caps.chain.chains) - configured)
        if missing and "chain" in caps.required:
            raise CapabilityError(
                manifest.name,
                f"requires chain ids {missing}, which the engine config has no "
                "[[chains]] entry for (add one with that chain_id and an http endpoint)",
            )
        chains = tuple(c for c in caps.chain.chains if c in configured)
    identity_methods: tuple[str, ...] = ()
    if "identity" in granted:
        methods = caps.identity.methods if caps.identity else DEFAULT_IDENTITY_METHODS
        identity_methods = tuple(methods)
    emit_names: tuple[str, ...] = (f"{manifest.name}.*",)
    if caps.events is not None and caps.events.emit:
        emit_names = tuple(caps.events.emit)
    _check_hooks(manifest, granted, policy.hook_points)
    return Grants(
        module=manifest.name,
        declared=caps.declared | ALWAYS_GRANTED,
        granted=frozenset(granted),
        http_allow=http_allow,
        transports=transports,
        limits=resolve_limits(manifest, config),
        chains=chains,
        chain_methods=tuple(policy.chain_methods),
        identity_methods=identity_methods,
        emit_names=emit_names,
    )


def _check_hooks(
    manifest: Manifest, granted: frozenset[Capability], points: list[HookPoint] | None
) -> None:
    """A module hooks only what it was granted: the capability, and the point if listed."""
    for hook in manifest.hook:
        if "hooks" not in granted:
            why = "the operator policy denies the 'hooks' capability (engine config [policy])"
        elif points is not None and hook.point not in points:
            why = f"[policy.modules.{manifest.name}] hook_points does not include {hook.point!r}"
        else:
            continue
        raise CapabilityError(manifest.name, f"cannot hook {hook.point!r}: {why}")


def resolve_limits(manifest: Manifest, config: EngineConfig) -> Limits:
    """The module's ask, or the engine default, never above any operator cap."""
    asked = manifest.resources
    default = config.limits.default
    caps = [config.limits.max, config.policy.for_module(manifest.name).max]

    def pick(field: str) -> int:
        value = getattr(asked, field)
        if value is None:
            value = getattr(default, field)
        value = _as_number(field, value)
        for cap in caps:
            limit = getattr(cap, field)
            if limit is not None:
                value = min(value, _as_number(field, limit))
        return value

    return Limits(
        fuel=pick("fuel"),
        memory_bytes=pick("memory"),
        timeout_ms=pick("timeout"),
        state_bytes=pick("state"),
        host_calls=pick("host_calls"),
        emits=pick("emits"),
        sends=pick("sends"),
        emit_rate=pick("emit_rate"),
        alarms=pick("alarms"),
        **_restart(manifest, config),
    )


def _restart(manifest: Manifest, config: EngineConfig) -> dict[str, int]:
    """The module's [restart], within the operator's [limits.restart]: never more
    failures than the cap, never a quicker retry than the floors."""
    asked, caps = manifest.restart, config.limits.restart
    initial = max(parse_duration_ms(asked.backoff_initial), parse_duration_ms(caps.backoff_initial))
    longest = max(parse_duration_ms(asked.backoff_max), parse_duration_ms(caps.backoff_max))
    return {
        "max_failures": min(asked.max_failures, caps.max_failures),
        "backoff_initial_ms": initial,
        "backoff_max_ms": max(longest, initial),
    }


def _as_number(field: str, value: int | str) -> int:
    if field == "timeout":
        assert isinstance(value, str)
        return parse_duration_ms(value)
    assert isinstance(value, int)
    return value


__all__ = ["Grants", "Limits", "resolve_grants", "resolve_limits"]
