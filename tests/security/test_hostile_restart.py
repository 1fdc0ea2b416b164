"""A module cannot exempt itself from supervision: the operator caps its [restart]."""

from __future__ import annotations

from pathlib import Path

import pytest

from cove import ModuleState, Trajectory, load_config, load_manifest
from cove._capabilities._grants import resolve_limits
from tests.helpers.engine import running_engine, state_json, wait_until
from tests.helpers.modules import write_engine_config
from tests.helpers.security import op_event, outcomes, probe_module

UNDYING = {"max_failures": 1_000_000_000, "backoff_initial": "1ms", "backoff_max": "1ms"}


async def test_a_module_asking_never_to_die_is_dead_at_the_operators_cap(
    tmp_path: Path, hostile_wasm: Path, probe_wasm: Path
) -> None:
    attacker = probe_module(tmp_path, hostile_wasm, "undying", restart=UNDYING)
    bystander = probe_module(tmp_path, probe_wasm, "bystander")
    config = write_engine_config(
        tmp_path / "engine.toml",
        [attacker, bystander],
        '[limits.restart]\nmax_failures = 3\nbackoff_initial = "20ms"\n',
    )
    trajectories: list[Trajectory] = []
    async with running_engine(config, trajectories=trajectories) as engine:
        await engine.publish([op_event("undying", "raise", text="again")])
        runner = engine.runners["undying"]
        await wait_until(lambda: runner.state == ModuleState.DEAD, what="dead")
        await engine.publish([op_event("bystander", "count")])
        await wait_until(lambda: state_json(engine, "bystander", "count") == 1, what="count")
        history = runner.stats.backoff_history_ms
    assert 3 == len(outcomes(trajectories, "undying"))
    assert all(delay >= 16 for delay in history)  # 20 ms, less the 20% jitter


@pytest.mark.parametrize(
    ("asked", "caps", "expected"),
    [
        pytest.param({}, "", (5, 1_000, 300_000), id="the-manifest-defaults-fit-the-caps"),
        pytest.param(UNDYING, "", (20, 10, 1_000), id="the-built-in-caps"),
        pytest.param(
            {"max_failures": 3, "backoff_initial": "5s", "backoff_max": "1m"},
            'max_failures = 10\nbackoff_initial = "1s"\nbackoff_max = "30s"\n',
            (3, 5_000, 60_000),
            id="a-stricter-ask-is-kept",
        ),
    ],
)
def test_restart_policy_is_the_ask_within_the_operator_caps(
    tmp_path: Path,
    probe_wasm: Path,
    asked: dict[str, object],
    caps: str,
    expected: tuple[int, int, int],
) -> None:
    module = probe_module(tmp_path, probe_wasm, "asker", restart=asked)
    config = load_config(
        write_engine_config(tmp_path / "engine.toml", [module], f"[limits.restart]\n{caps}")
    )
    limits = resolve_limits(load_manifest(module), config)
    assert expected == (limits.max_failures, limits.backoff_initial_ms, limits.backoff_max_ms)
