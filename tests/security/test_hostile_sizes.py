"""Hostile sizes: whatever length a guest sends, the host keeps a bounded amount."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from cove import ModuleState, Trajectory
from cove._capabilities._bounds import MAX_ERROR_CHARS, MAX_LOG_CHARS, clip
from cove._hosts._call_path import CallPath
from cove._hosts._wasm_host import WasmModuleHost
from tests.helpers.engine import running_engine, state_json, wait_until
from tests.helpers.modules import write_engine_config
from tests.helpers.security import op_event, outcomes, probe_module

pytestmark = pytest.mark.usefixtures("call_path")

BIG = 5_000_000


async def _attack(
    tmp_path: Path, hostile_wasm: Path, probe_wasm: Path, op: str, **fields: Any
) -> tuple[list[Trajectory], list[dict[str, Any]], Any]:
    """Run one attack next to a bystander; the attacker's trajectories, the log lines,
    and what the attacker stored under "error"."""
    attacker = probe_module(tmp_path, hostile_wasm, "attacker", optional=fields.pop("grants"))
    bystander = probe_module(tmp_path, probe_wasm, "bystander")
    config = write_engine_config(tmp_path / "engine.toml", [attacker, bystander])
    trajectories: list[Trajectory] = []
    with capture_logs() as logs:
        async with running_engine(config, trajectories=trajectories) as engine:
            await engine.publish([op_event("attacker", op, **fields)])
            await engine.publish([op_event("bystander", "count")])
            await wait_until(lambda: state_json(engine, "bystander", "count") == 1, what="count")
            await wait_until(lambda: outcomes(trajectories, "attacker") != [], what="attack")
            assert engine.runners["bystander"].state == ModuleState.RUNNING
            stored = state_json(engine, "attacker", "error")
    return [t for t in trajectories if t.module == "attacker"], logs, stored


ALL = ["events", "http", "logging", "messaging", "store"]


async def test_a_huge_exception_message_is_cut_before_it_is_kept(
    tmp_path: Path, hostile_wasm: Path, probe_wasm: Path
) -> None:
    (trajectory,), _, _ = await _attack(
        tmp_path, hostile_wasm, probe_wasm, "raise-big", size=BIG, grants=ALL
    )
    assert "failed" == trajectory.outcome
    assert trajectory.error.startswith("handle returned an error: ValueError: xxx")
    assert trajectory.error.endswith(" more characters cut]")
    assert len(trajectory.error) < MAX_ERROR_CHARS + 100


async def test_a_huge_error_text_is_cut_by_the_call_path_before_it_is_a_str(
    tmp_path: Path, hostile_wasm: Path, probe_wasm: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What init/handle hand the host is already cut (C extension and ctypes alike):
    # a 5 MB text never becomes a 5 MB str under the GIL.
    handed: list[str] = []
    made = CallPath.func

    def recording(self: CallPath, *args: Any) -> Any:
        func = made(self, *args)

        def call(*call_args: Any) -> str | None:
            text: str | None = func(*call_args)
            if text is not None:
                handed.append(text)
            return text

        return call

    monkeypatch.setattr(CallPath, "func", recording)
    (trajectory,), _, _ = await _attack(
        tmp_path, hostile_wasm, probe_wasm, "raise-big", size=BIG, grants=ALL
    )
    expected = clip("ValueError: " + "x" * BIG, MAX_ERROR_CHARS)
    assert handed == [expected]
    assert "failed" == trajectory.outcome
    assert trajectory.error == f"handle returned an error: {expected}"


async def test_a_huge_key_is_refused_without_being_echoed(
    tmp_path: Path, hostile_wasm: Path, probe_wasm: Path
) -> None:
    (trajectory,), _, _ = await _attack(
        tmp_path, hostile_wasm, probe_wasm, "big-key", size=BIG, grants=ALL
    )
    assert (
        "handle returned an error: invalid-input: store: the key is longer than the limit "
        "of 1024 bytes"
    ) == trajectory.error
    assert all(len(call.summary) <= 120 for call in trajectory.calls)


async def test_a_huge_url_is_refused_with_invalid_input(
    tmp_path: Path, hostile_wasm: Path, probe_wasm: Path
) -> None:
    (trajectory,), _, stored = await _attack(
        tmp_path, hostile_wasm, probe_wasm, "big-url", size=BIG, grants=ALL
    )
    assert "ok" == trajectory.outcome
    assert "invalid-input" == stored["kind"]
    assert stored["length"] < 200


async def test_a_huge_log_line_is_cut(tmp_path: Path, hostile_wasm: Path, probe_wasm: Path) -> None:
    _, logs, _ = await _attack(tmp_path, hostile_wasm, probe_wasm, "big-log", size=BIG, grants=ALL)
    (line,) = [e["event"] for e in logs if e.get("module") == "attacker" and "xxx" in e["event"]]
    assert line.endswith(" more characters cut]")
    assert len(line) < MAX_LOG_CHARS + 100


async def test_a_huge_log_line_is_cut_by_the_call_path_before_it_is_a_str(
    tmp_path: Path, hostile_wasm: Path, probe_wasm: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What the host function hands Python is already the cut text (C extension and
    # ctypes alike): a 5 MB line never becomes a 5 MB str under the GIL.
    handed: list[str] = []
    log = WasmModuleHost._log

    def recording(self: WasmModuleHost, store: Any, level: str, message: str, fields: Any) -> None:
        handed.append(message)
        log(self, store, level, message, fields)

    monkeypatch.setattr(WasmModuleHost, "_log", recording)
    _, logs, _ = await _attack(tmp_path, hostile_wasm, probe_wasm, "big-log", size=BIG, grants=ALL)
    expected = clip("x" * BIG, MAX_LOG_CHARS)
    assert [expected] == [m for m in handed if m.startswith("xxx")]
    assert [expected] == [
        e["event"] for e in logs if e.get("module") == "attacker" and "xxx" in e["event"]
    ]


async def test_a_stdout_flood_is_rate_limited_and_the_drops_counted(
    tmp_path: Path, hostile_wasm: Path, probe_wasm: Path
) -> None:
    _, logs, _ = await _attack(
        tmp_path, hostile_wasm, probe_wasm, "print-flood", lines=20_000, grants=ALL
    )
    lines = [e["event"] for e in logs if e.get("module") == "attacker" and "stream" in e]
    flood = [line for line in lines if line.startswith("flood line")]
    dropped = [line for line in lines if "lines of guest output dropped" in line]
    assert len(flood) < 2_000
    assert 1 == len(dropped)


async def test_print_is_not_logged_when_logging_is_denied(
    tmp_path: Path, hostile_wasm: Path, probe_wasm: Path
) -> None:
    """``logging`` is always declared; the operator's deny is what drops the output."""
    attacker = probe_module(tmp_path, hostile_wasm, "attacker")
    config = write_engine_config(
        tmp_path / "engine.toml",
        [attacker],
        '[policy.modules.attacker]\ndeny = ["logging"]\n',
    )
    trajectories: list[Trajectory] = []
    with capture_logs() as logs:
        async with running_engine(config, trajectories=trajectories) as engine:
            await engine.publish([op_event("attacker", "print", text="should not appear")])
            await wait_until(lambda: len(trajectories) == 1, what="handled")
    assert [("ok", "")] == outcomes(trajectories, "attacker")
    assert [] == [e for e in logs if "should not appear" in str(e.get("event"))]
