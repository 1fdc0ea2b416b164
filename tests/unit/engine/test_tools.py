"""cove._engine._tools.ToolRegistry: naming, listing, schema errors, change notices (fake runners)."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cove._engine._lifecycle import ModuleState
from cove._engine._runner import ModuleRunner
from cove._engine._tools import ToolRegistry
from cove._hosts._base import ToolSpec
from cove.errors import ToolError

OBJECT = {"type": "object", "properties": {}}


@dataclass
class FakeHost:
    tools: tuple[ToolSpec, ...] = ()


@dataclass
class FakeRunner:
    name: str
    host: FakeHost = field(default_factory=FakeHost)
    state: ModuleState = ModuleState.RUNNING

    @property
    def instance(self) -> FakeRunner:
        """The registry reads a runner's host through its instance: here, the fake itself."""
        return self

    def wake(self, why: str) -> None:
        """A real runner shows a hibernating module running again here."""


def registry(*runners: FakeRunner) -> tuple[ToolRegistry, dict[str, Any], list[str]]:
    by_name: dict[str, Any] = {r.name: r for r in runners}
    warnings: list[str] = []
    tools = ToolRegistry(cast(dict[str, ModuleRunner], by_name), lambda _t: None, warnings.append)
    return tools, by_name, warnings


def spec(name: str, schema: dict[str, Any] | None = None) -> ToolSpec:
    return ToolSpec(name, f"does {name}", schema if schema is not None else OBJECT)


def test_the_same_tool_name_in_two_modules_gives_two_tools() -> None:
    """Names are <module>.<tool>: one module cannot shadow another's tool."""
    tools, _, _ = registry(
        FakeRunner("a", FakeHost((spec("search"),))), FakeRunner("b", FakeHost((spec("search"),)))
    )
    assert ["a.search", "b.search"] == [t.name for t in tools.all()]
    assert tools.get("b.search").module == "b"


@pytest.mark.parametrize(
    ("state", "listed"),
    [
        (ModuleState.RUNNING, True),
        (ModuleState.BACKOFF, True),
        (ModuleState.INITIALIZING, True),
        (ModuleState.DEAD, False),
        (ModuleState.STOPPED, False),
        (ModuleState.UNLOADED, False),
    ],
)
def test_dead_stopped_and_unloaded_modules_serve_no_tools(state: ModuleState, listed: bool) -> None:
    tools, _, _ = registry(FakeRunner("a", FakeHost((spec("t"),)), state))
    assert listed == bool(tools.all())


def test_bad_specs_are_hidden_with_a_warning_naming_the_module_and_tool() -> None:
    tools, _, warnings = registry(
        FakeRunner(
            "a",
            FakeHost((
                spec("ok"),
                spec("has space"),
                spec("ok"),
                spec("badschema", {"type": "nonsense"}),
            )),
        )
    )  # fmt: skip
    assert ["a.ok"] == [t.name for t in tools.all()]
    assert any("'has space'" in w and "module 'a'" in w for w in warnings)
    assert any("twice" in w for w in warnings)
    assert any("'badschema'" in w and "JSON Schema" in w for w in warnings)


def test_an_unknown_tool_is_not_found_and_lists_the_known_ones() -> None:
    tools, _, _ = registry(FakeRunner("a", FakeHost((spec("t"),))))
    with pytest.raises(ToolError) as error:
        tools.get("a.nope")
    assert error.value.kind == "not-found"
    assert "a.t" in str(error.value)


def test_refresh_tells_watchers_only_when_the_names_change() -> None:
    tools, runners, _ = registry(FakeRunner("a", FakeHost((spec("t"),))))
    seen: list[int] = []
    unwatch = tools.watch(lambda: seen.append(len(tools.all())))
    tools.refresh()
    tools.refresh()
    assert [1] == seen
    runners["a"].state = ModuleState.DEAD
    tools.refresh()
    assert [1, 0] == seen
    unwatch()
    runners["a"].state = ModuleState.RUNNING
    tools.refresh()
    assert [1, 0] == seen


SCHEMA = {
    "type": "object",
    "properties": {
        "a": {"type": "integer"},
        "nested": {
            "type": "object",
            "properties": {"depth": {"type": "integer", "minimum": 0}},
            "required": ["depth"],
        },
    },
    "required": ["a"],
    "additionalProperties": False,
}


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        ({"a": "x"}, "argument 'a': 'x' is not of type 'integer'"),
        ({}, "arguments: 'a' is a required property"),
        ({"a": 1, "zzz": 2}, "'zzz' was unexpected"),
        ({"a": 1, "nested": {"depth": -1}}, "argument 'nested.depth': -1 is less than"),
        ({"a": 1, "nested": {}}, "argument 'nested': 'depth' is a required property"),
        ([1, 2], "arguments: [1, 2] is not of type 'object'"),
    ],
)
def test_a_bad_call_names_the_tool_and_the_field(arguments: Any, says: str) -> None:
    tools, _, _ = registry(FakeRunner("m", FakeHost((spec("t", SCHEMA),))))
    with pytest.raises(ToolError) as error:
        tools.validate(tools.get("m.t"), arguments)
    assert error.value.kind == "invalid-input"
    assert str(error.value).startswith("tool 'm.t': ")
    assert says in str(error.value)


@given(st.integers(), st.one_of(st.none(), st.integers(min_value=0)))
def test_arguments_that_fit_the_schema_pass(a: int, depth: int | None) -> None:
    tools, _, _ = registry(FakeRunner("m", FakeHost((spec("t", SCHEMA),))))
    arguments: dict[str, Any] = {"a": a}
    if depth is not None:
        arguments["nested"] = {"depth": depth}
    tools.validate(tools.get("m.t"), arguments)


def test_a_module_that_is_not_running_answers_unavailable() -> None:
    runner = FakeRunner("m", FakeHost((spec("t"),)), ModuleState.BACKOFF)
    runner_any: Any = runner
    runner_any.exclusive = lambda fn, *args: fn(*args)
    tools, _, _ = registry(runner)
    with pytest.raises(ToolError) as error:
        asyncio.run(tools.call("m.t", {}))
    assert error.value.kind == "unavailable"
    assert "backoff" in str(error.value)


def test_calls_queued_on_a_slow_module_leave_worker_threads_to_the_others() -> None:
    """Three calls wait on one module; with two worker threads, another module's call still runs."""
    gate, busy = threading.Event(), threading.Lock()

    def slow(fn: Any, *args: Any) -> str:
        with busy:
            gate.wait(60)
            return '"slow"'

    slow_runner: Any = FakeRunner("slow", FakeHost((spec("t"),)))
    slow_runner.exclusive = slow
    fast_runner: Any = FakeRunner("fast", FakeHost((spec("t"),)))
    fast_runner.exclusive = lambda fn, *args: '"fast"'
    tools, _, _ = registry(slow_runner, fast_runner)

    async def scenario() -> None:
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(2))
        flood = [asyncio.ensure_future(tools.call("slow.t", {})) for _ in range(3)]
        try:
            assert await asyncio.wait_for(tools.call("fast.t", {}), 30) == '"fast"'
        finally:
            gate.set()
        assert await asyncio.gather(*flood) == ['"slow"'] * 3

    asyncio.run(scenario())
