"""Tools: every running module's tools under one namespace, validated, run like events.

Design note. A tool call is an event that an agent asks for: it runs on the
module's own instance (its fuel, memory and deadline limits, its grants),
through the runner's ``exclusive`` so it never overlaps the module's event
handling, in its own overlay that commits (state writes, messages, emitted
events) only when the tool returned a result, and it leaves a trajectory.
The arguments are checked against the tool's JSON Schema before the module
is called. Agents see ``<module>.<tool>``: module names are unique in an
engine and contain no dot, so two modules can never shadow each other.

A failed tool call does not count as a module failure (no backoff): the
module did nothing wrong by refusing an agent. A trap or a blown limit
still discards the instance, which is rebuilt before the next call.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._capabilities._calls import HostCalls
from .._capabilities._effects import EventEffects
from .._hosts._base import ToolSpec
from ..errors import (
    CoveError,
    ErrorKind,
    HookBlockedError,
    LimitExceededError,
    ModuleFailedError,
    ToolError,
)
from ._lifecycle import ModuleState
from ._runner import ModuleRunner
from ._trajectory import Trajectory, now_ms

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

    from .._observe._tracing import Tracing

SEPARATOR = "."
TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
AfterResult = Callable[[str, str, str], str]
"""(module, tool, result JSON) -> the result JSON the caller gets (the after-tool-result hooks)."""
_LISTED = (
    ModuleState.RUNNING,
    ModuleState.HIBERNATING,
    ModuleState.INITIALIZING,
    ModuleState.BACKOFF,
)
"""A backing-off module keeps its tools listed (calls answer ``unavailable``);
a dead, stopped or unloaded one drops them."""


@dataclass(frozen=True, slots=True)
class Tool:
    """A tool as agents see it: ``name`` is ``<module>.<tool>``."""

    name: str
    module: str
    spec: ToolSpec
    validator: Draft202012Validator

    @property
    def description(self) -> str:
        return self.spec.description

    @property
    def input_schema(self) -> dict[str, Any]:
        return self.spec.input_schema


class ToolRegistry:
    """The engine's tools; ``watch`` is told whenever the list of names changes."""

    def __init__(
        self,
        runners: Mapping[str, ModuleRunner],
        on_trajectory: Callable[[Trajectory], None],
        warn: Callable[[str], None],
        after_result: AfterResult | None = None,
    ) -> None:
        self._runners = runners
        self._warn = warn
        self._after_result = after_result
        self._on_trajectory = on_trajectory
        self._cache: dict[str, tuple[tuple[ToolSpec, ...], list[Tool]]] = {}
        self._watchers: list[Callable[[], None]] = []
        self._listed: dict[str, tuple[str, ...]] = {}
        """Each module's tool names as last announced to the watchers."""
        self._turns: dict[str, asyncio.Lock] = {}
        self.tracing: Tracing | None = None
        """Set by the engine when ``[tracing]`` is on."""

    def all(self) -> list[Tool]:
        tools = [
            tool
            for runner in list(self._runners.values())
            if runner.state in _LISTED
            for tool in self._module_tools(runner)
        ]
        return sorted(tools, key=lambda t: t.name)

    def _module_tools(self, runner: ModuleRunner) -> list[Tool]:
        specs = runner.instance.host.tools
        cached = self._cache.get(runner.name)
        if cached is not None and cached[0] is specs:
            return cached[1]
        tools: list[Tool] = []
        for spec in specs:
            problem = _spec_problem(spec, {t.spec.name for t in tools})
            if problem:
                self._warn(f"module {runner.name!r}: tool {spec.name!r} is not served: {problem}")
                continue
            from jsonschema import Draft202012Validator  # ~0.4 s to import: only with tools

            name = f"{runner.name}{SEPARATOR}{spec.name}"
            tools.append(Tool(name, runner.name, spec, Draft202012Validator(spec.input_schema)))
        self._cache[runner.name] = (specs, tools)
        return tools

    def get(self, name: str) -> Tool:
        """The tool ``<module>.<tool>``: only its module's tools are looked at."""
        runner = self._runners.get(name.partition(SEPARATOR)[0])
        if runner is not None and runner.state in _LISTED:
            for tool in self._module_tools(runner):
                if tool.name == name:
                    return tool
        known = [t.name for t in self.all()]
        raise ToolError(name, "not-found", f"no such tool; the engine serves {known}")

    # changes ------------------------------------------------------------------
    def watch(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` (on the event loop) after the tool list changed; returns an unwatch."""
        self._watchers.append(callback)
        return lambda: self._watchers.remove(callback)

    def refresh(self, module: str | None = None) -> None:
        """The engine calls this on every module state change (``module``: only that
        one's tools can have changed, so 10,000 modules' start is not 10,000² looks)."""
        if module is None:
            by_module: dict[str, tuple[str, ...]] = {}
            for tool in self.all():
                by_module[tool.module] = (*by_module.get(tool.module, ()), tool.name)
            changed = by_module != self._listed
            self._listed = by_module
        else:
            runner = self._runners.get(module)
            names: tuple[str, ...] = ()
            if runner is not None and runner.state in _LISTED:
                names = tuple(t.name for t in self._module_tools(runner))
            changed = names != self._listed.get(module, ())
            if names:
                self._listed[module] = names
            else:
                self._listed.pop(module, None)
        if changed:
            for callback in list(self._watchers):
                callback()

    # calls --------------------------------------------------------------------
    def validate(self, tool: Tool, arguments: Any) -> None:
        """The arguments fit the tool's schema, or a ``ToolError`` naming the field."""
        error = next(iter(tool.validator.iter_errors(arguments)), None)
        if error is not None:
            raise ToolError(tool.name, "invalid-input", _describe(error))

    async def call(self, name: str, arguments: Any) -> str:
        """Validate, then run the tool on the module; its result as JSON text."""
        tool = self.get(name)
        self.validate(tool, arguments)
        runner = self._runners[tool.module]
        runner.wake("a tool call")
        # Calls queued behind a slow one wait here, on the event loop: an agent
        # that floods one module holds one worker thread, not all of them.
        async with self._turns.setdefault(tool.module, asyncio.Lock()):
            return await asyncio.to_thread(self._call, runner, tool, json.dumps(arguments))

    def _call(self, runner: ModuleRunner, tool: Tool, arguments_json: str) -> str:
        """On a worker thread: the call under the module's lock, then the result hooks
        (outside it), in one thread hop."""
        result = runner.exclusive(self._run, runner, tool, arguments_json)
        if self._after_result is None:
            return result
        try:
            return self._after_result(tool.module, tool.spec.name, result)
        except HookBlockedError as exc:
            raise ToolError(tool.name, "denied", f"result withheld: {exc}") from None

    def _run(self, runner: ModuleRunner, tool: Tool, arguments_json: str) -> str:
        """On a worker thread, with the module's instance to itself."""
        if runner.state not in (ModuleState.RUNNING, ModuleState.HIBERNATING):
            raise ToolError(
                tool.name, "unavailable", f"module {runner.name!r} is {runner.state.value}"
            )
        call_id = f"tool:{tool.name}:{uuid.uuid4().hex}"
        instance = runner.instance  # read once: a reload swaps it between two calls
        effects = EventEffects(runner.name, runner.store, instance.quota)
        calls = instance.host_calls(call_id, effects)
        trace = None if self.tracing is None else self.tracing.tool(runner.name, tool.name, call_id)
        calls.trace = trace
        outcome, error = "failed", ""
        start = time.perf_counter_ns()
        try:
            result = instance.host.call_tool(tool.spec.name, arguments_json, calls)
            if effects.writes or effects.outbox:  # a pure call has nothing to commit
                runner.commit_call(effects, call_id)
            outcome = "ok"
            return result
        except ToolError as exc:
            error = exc.message
            raise ToolError(tool.name, exc.kind, exc.message) from None
        except LimitExceededError as exc:
            error = exc.reason
            kind: ErrorKind = "timeout" if exc.limit == "deadline" else "limit-exceeded"
            raise ToolError(tool.name, kind, exc.reason) from None
        except ModuleFailedError as exc:
            error = exc.reason
            raise ToolError(tool.name, "internal", exc.reason) from None
        except CoveError as exc:  # the commit was refused (a hook, the store)
            error = str(exc)
            raise ToolError(tool.name, "unavailable", f"not committed: {exc}") from None
        finally:
            fuel = instance.host.stats.fuel
            self._record(runner, call_id, outcome, error, calls, start, fuel)
            if trace is not None:
                trace.finish(outcome, error, fuel)

    def _record(
        self,
        runner: ModuleRunner,
        call_id: str,
        outcome: str,
        error: str,
        calls: HostCalls,
        start: int,
        fuel: int,
    ) -> None:
        wall_ns = time.perf_counter_ns() - start
        runner.stats.fuel_total += fuel  # an agent's calls count in the module's fuel too
        if outcome == "ok":  # and in its counters, or a tool-only module looks idle
            runner.stats.handled += 1
            runner.stats.last_ok_ms = now_ms()
        else:
            runner.stats.failed += 1
        self._on_trajectory(
            Trajectory(runner.name, call_id, 0, outcome, error, tuple(calls.records), fuel, wall_ns)
        )


def _spec_problem(spec: ToolSpec, seen: set[str]) -> str:
    if not TOOL_NAME.match(spec.name):
        return "a tool name is 1-64 of A-Z a-z 0-9 _ -"
    if spec.name in seen:
        return "the module lists this name twice"
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    try:
        Draft202012Validator.check_schema(spec.input_schema)
    except SchemaError as exc:
        return f"input schema is not a valid JSON Schema: {exc.message}"
    return ""


def _describe(error: ValidationError) -> str:
    """``argument 'a': 'x' is not of type 'integer'`` (the root is ``arguments``; a missing
    property is named by the object that lacks it). MockHost words it the same way."""
    where = ".".join(str(p) for p in error.absolute_path)
    return f"argument {where!r}: {error.message}" if where else f"arguments: {error.message}"


__all__ = ["SEPARATOR", "Tool", "ToolRegistry"]
