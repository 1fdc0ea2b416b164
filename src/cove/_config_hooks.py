"""Hook points and the engine config section ``[hooks]``: per-point failure policy, timeout, observer queue.

Kept apart from ``_config.py`` (which only holds the section) so the hook
machinery's settings sit next to the list of points they name. The manifest
imports the point names from here too.
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import Field, Strict, field_validator, model_validator

from ._config_base import StrictModel
from ._units import parse_duration_ms

HookPoint = Literal[
    "engine-start",
    "engine-stop",
    "module-loaded",
    "module-unloaded",
    "module-dead",
    "before-message",
    "after-tool-result",
    "before-commit",
    "budget",
    "observer",
]
HOOK_POINTS: tuple[HookPoint, ...] = get_args(HookPoint)
# Points whose hooks may return a replacement payload or a veto.
MODIFYING_POINTS: frozenset[HookPoint] = frozenset({"before-message", "after-tool-result"})
# Points whose action has already happened when the hooks run: nothing is left to block.
UNBLOCKABLE_POINTS: frozenset[HookPoint] = frozenset(
    {"engine-stop", "module-unloaded", "module-dead", "budget", "observer"}
)

FailurePolicy = Literal["fail-open", "fail-closed"]


class HookPolicies(StrictModel):
    """``[hooks.policy]``: what a failing or timed-out hook does, per point.

    Keys are the point names with ``_`` for ``-`` (``before_message``).

    ``fail-open`` skips the hook (the chain goes on with the previous
    payload); ``fail-closed`` blocks the action. Outbound messages and tool
    results default to fail-closed, so a broken redaction hook never lets
    a secret out; observations default to fail-open.
    """

    engine_start: FailurePolicy = Field(
        default="fail-open",
        description="fail-closed: a failing engine-start hook stops the engine from starting.",
    )
    module_loaded: FailurePolicy = Field(
        default="fail-open",
        description="fail-closed: a failing module-loaded hook refuses the module's load.",
    )
    before_message: FailurePolicy = Field(
        default="fail-closed",
        description="fail-closed: the message is held and retried with the outbox backoff.",
    )
    after_tool_result: FailurePolicy = Field(
        default="fail-closed",
        description="fail-closed: the caller gets an error instead of the tool's result.",
    )
    before_commit: FailurePolicy = Field(
        default="fail-open",
        description="fail-closed: the batch is not committed; it fails and is retried.",
    )
    engine_stop: FailurePolicy = Field(
        default="fail-open",
        description="Always fail-open: the engine is stopping anyway.",
    )
    module_unloaded: FailurePolicy = Field(
        default="fail-open",
        description="Always fail-open: the module is already unloaded.",
    )
    module_dead: FailurePolicy = Field(
        default="fail-open",
        description="Always fail-open: the module is already dead.",
    )
    budget: FailurePolicy = Field(
        default="fail-open",
        description="Always fail-open: the call past the budget is already refused.",
    )

    @model_validator(mode="after")
    def _blockable(self) -> HookPolicies:
        for point in UNBLOCKABLE_POINTS - {"observer"}:
            if self.of(point) == "fail-closed":
                raise ValueError(
                    f'{point.replace("-", "_")} = "fail-closed": the action has already '
                    "happened when these hooks run, so only fail-open is possible"
                )
        return self

    def of(self, point: HookPoint) -> FailurePolicy:
        if point == "observer":
            return "fail-open"
        value: FailurePolicy = getattr(self, point.replace("-", "_"))
        return value


class HooksSettings(StrictModel):
    """``[hooks]``: how hooks declared by modules run."""

    timeout: str = Field(
        default="1s",
        description="Longest one hook call may take, and the default when its `[[hook]]` sets "
        "none; a slower call counts as failed (see `policy`).",
    )
    policy: HookPolicies = Field(
        default_factory=HookPolicies,
        description="Per point: `fail-open` skips a failing hook, `fail-closed` blocks the action.",
    )
    observer_queue: Annotated[int, Strict(), Field(ge=1)] = Field(
        default=10_000,
        description="Engine events waiting for observer hooks; when full, new ones are dropped "
        "and counted (`cove_hooks_observer_dropped`).",
    )

    @field_validator("timeout")
    @classmethod
    def _duration(cls, value: str) -> str:
        if parse_duration_ms(value) <= 0:
            raise ValueError("timeout must be above zero")
        return value

    @property
    def timeout_ms(self) -> int:
        return parse_duration_ms(self.timeout)
