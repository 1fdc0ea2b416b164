"""Engine config [limits] and [policy]: what any module gets by default, at most, and is denied."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, Strict, ValidationInfo, field_validator

from ._config_base import Duration, StrictModel
from ._config_hooks import HookPoint
from ._manifest_grants import Capability
from ._manifest_limits import Resources

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
