"""Hand-written WAT components (no guest language runtime) against the real engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from cove import Custom, Event, ModuleState, Trajectory
from tests.helpers.engine import running_engine, wait_until
from tests.helpers.modules import write_engine_config, write_manifest
from tests.helpers.security import STOP_AT_FIRST_FAILURE, outcomes
from tests.helpers.wat import wat_component

pytestmark = pytest.mark.usefixtures("call_path")


def wat_event(op: str) -> Event:
    return Event(Custom(f"wat.{op}", "", "{}"))


def wat_module(tmp_path: Path, name: str, ops: list[str], **manifest: object) -> Path:
    """tests/assets/wat/hostile.wat as module ``name``, listening to ``wat.<op>`` for ``ops``."""
    return write_manifest(
        tmp_path / name,
        name,
        component=wat_component("hostile"),
        restart=STOP_AT_FIRST_FAILURE,
        subscriptions=[{"kind": "custom", "name": f"wat.{op}"} for op in ops],
        **manifest,  # type: ignore[arg-type]
    )


async def test_hand_written_component_speaks_the_module_world(tmp_path: Path) -> None:
    """init, handle(meta, event) by pointer, ok and err results: the WAT types match host.wit."""
    module = wat_module(tmp_path, "wat", ["ok", "fail"])
    config = write_engine_config(tmp_path / "engine.toml", [module])
    trajectories: list[Trajectory] = []
    async with running_engine(config, trajectories=trajectories) as engine:
        await engine.publish([wat_event("ok"), wat_event("ok"), wat_event("fail")])
        await wait_until(lambda: len(trajectories) == 3, what="three events")
    assert [
        ("ok", ""),
        ("ok", ""),
        ("failed", "handle returned an error: asked to fail"),
    ] == outcomes(trajectories, "wat")


HOSTILE = [
    pytest.param(
        "loop",
        {"fuel": 100_000_000},
        "fuel limit exceeded: handle used more than 100000000 fuel",
        id="loop-runs-out-of-fuel",
    ),
    pytest.param(
        "loop",
        {"fuel": 50_000_000_000, "timeout": "200ms"},
        "deadline limit exceeded: handle ran longer than 200 ms",
        id="loop-hits-the-deadline",
    ),
    pytest.param(
        "grow",
        {"memory": "4MiB"},
        # memory.grow returned -1 at the cap and the guest gave up with `unreachable`.
        "handle trapped: wasm `unreachable` instruction executed",
        id="memory-grow-is-refused-at-the-cap",
    ),
    pytest.param(
        "recurse",
        {},
        "handle trapped: call stack exhausted",
        id="recursion-overflows-the-stack",
    ),
    pytest.param(
        "bad-pointer",
        {},
        "handle trapped: string pointer/length out of bounds of memory",
        id="result-string-outside-guest-memory",
    ),
    pytest.param(
        "utf8",
        {},
        "handle trapped: invalid utf-8 sequence of 1 bytes from index 0",
        id="result-string-not-utf8",
    ),
]


@pytest.mark.parametrize(("op", "resources", "error"), HOSTILE)
async def test_hostile_wat_component_is_stopped_and_the_engine_continues(
    tmp_path: Path, op: str, resources: dict[str, object], error: str
) -> None:
    hostile = wat_module(tmp_path, "hostile", [op], resources=resources)
    bystander = wat_module(tmp_path, "bystander", ["ok"])
    config = write_engine_config(tmp_path / "engine.toml", [hostile, bystander])
    trajectories: list[Trajectory] = []
    async with running_engine(config, trajectories=trajectories) as engine:
        await engine.publish([wat_event(op), wat_event("ok")])
        await wait_until(lambda: engine.runners["hostile"].state == ModuleState.DEAD, what="dead")
        await engine.publish([wat_event("ok")])
        await wait_until(lambda: len(outcomes(trajectories, "bystander")) == 2, what="2 handled")
    assert [("failed", error)] == outcomes(trajectories, "hostile")
    assert [("ok", ""), ("ok", "")] == outcomes(trajectories, "bystander")


async def test_component_built_for_another_contract_major_is_refused(tmp_path: Path) -> None:
    future = write_manifest(tmp_path / "future", "future", component=wat_component("logging_v2"))
    bystander = wat_module(tmp_path, "bystander", ["ok"])
    config = write_engine_config(tmp_path / "engine.toml", [future, bystander])
    async with running_engine(config) as engine:
        await engine.publish([wat_event("ok")])
        await wait_until(lambda: engine.runners["bystander"].stats.handled == 1, what="handled")
        assert ["bystander"] == list(engine.runners)
        assert {
            future: "module 'future': was built against cove:host@2.0.0 but this engine provides "
            "cove:host@0.3.0; rebuild it against cove:host@0.3.x; "
            "does not export init, handle (the cove:host 'module' world)"
        } == engine.load_errors


async def test_component_importing_a_foreign_package_is_refused(tmp_path: Path) -> None:
    foreign = write_manifest(
        tmp_path / "foreign", "foreign", component=wat_component("foreign_import")
    )
    bystander = wat_module(tmp_path, "bystander", ["ok"])
    config = write_engine_config(tmp_path / "engine.toml", [foreign, bystander])
    async with running_engine(config) as engine:
        await engine.publish([wat_event("ok")])
        await wait_until(lambda: engine.runners["bystander"].stats.handled == 1, what="handled")
        assert ["bystander"] == list(engine.runners)
        assert {
            foreign: "module 'foreign': imports 'foo:bar/baz', which this engine does not provide; "
            "does not export init, handle (the cove:host 'module' world)"
        } == engine.load_errors


async def test_component_exporting_init_and_handle_with_wrong_types_is_refused(
    tmp_path: Path,
) -> None:
    wrong = write_manifest(tmp_path / "wrong", "wrong", component=wat_component("wrong_signature"))
    config = write_engine_config(tmp_path / "engine.toml", [wrong])
    async with running_engine(config) as engine:
        assert {
            wrong: "module 'wrong': exports init with the wrong type; expected "
            "func() -> result<_, string>; exports handle with the wrong type; expected "
            "func(event: string) -> result<_, string>"
        } == engine.load_errors
