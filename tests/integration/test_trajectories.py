"""Trajectories on a real engine: durable across restarts, every attempt recorded, can be off."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import httpx
import pytest

from cove import Trajectory, load_config
from cove._app import App
from cove._observe._trajectories import TrajectoryQuery
from cove.errors import ControlError
from tests.helpers.control import (
    AUTH,
    TOKEN,
    TOKEN_ENV,
    control_section,
    flaky_module,
    running_plane,
)
from tests.helpers.engine import probe_event, running_engine, state_json, wait_until
from tests.helpers.modules import write_engine_config


async def test_trajectories_survive_a_restart_and_record_failed_attempts(tmp_path: Path) -> None:
    mode = tmp_path / "mode"
    mode.write_text("always")
    module = flaky_module(
        tmp_path, "flaky", mode, restart={"max_failures": 1, "backoff_initial": "1ms"}
    )
    config = write_engine_config(tmp_path / "engine.toml", [module])
    printed: list[Trajectory] = []
    async with running_engine(config, trajectories=printed) as engine:
        await engine.publish([probe_event("count")])
        await wait_until(lambda: engine.runners["flaky"].state.value == "dead")
        mode.write_text("ok")
        engine.revive("flaky")
        await wait_until(lambda: state_json(engine, "flaky", "count") == 1)
    async with running_engine(config) as engine:
        assert engine.trajectories is not None
        stored = engine.trajectories.query(TrajectoryQuery(module="flaky"))
    assert ["ok", "failed"] == [t.outcome for t in stored]
    assert stored[0].event_id == stored[1].event_id  # the same event, attempted twice
    assert "this module fails every event" in stored[1].error
    assert ["failed", "ok"] == [t.outcome for t in printed]  # the caller's callback still runs


async def test_disabled_trajectories_leave_no_file_and_the_api_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    module = flaky_module(tmp_path, "flaky", tmp_path / "mode")
    extra = control_section(metrics=False) + "\n[trajectories]\nenabled = false\n"
    config = write_engine_config(tmp_path / "engine.toml", [module], extra)
    async with running_plane(config) as plane:
        await plane.engine.publish([probe_event("count")])
        await wait_until(lambda: state_json(plane.engine, "flaky", "count") == 1)
        answer = await plane.client.get("/v1/trajectories", headers=AUTH)
        metrics = (await plane.client.get("/metrics")).text
    assert 404 == answer.status_code
    assert "enabled = false" in answer.json()["error"]
    assert 'cove_module_handle_seconds_count{module="flaky"} 1.0' in metrics.splitlines()
    assert not (tmp_path / "data" / "trajectories.db").exists()


async def test_a_control_port_in_use_is_reported_with_what_to_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = write_engine_config(tmp_path / "a" / "engine.toml", [], control_section(metrics=False))
    async with running_plane(first) as plane:
        port = httpx.URL(str(plane.client.base_url)).port
        extra = f'\n[control]\nport = {port}\ntoken_env = "{TOKEN_ENV}"\n'
        second = write_engine_config(tmp_path / "b" / "engine.toml", [], extra)
        app = App(load_config(second))
        with pytest.raises(ControlError, match=r"cannot listen on 127.0.0.1:\d+.*another port"):
            await app.start()
    assert not (tmp_path / "b" / "data").exists()  # it failed before opening anything


@pytest.mark.parametrize("mode", ["batched", "per-event"])
async def test_every_event_leaves_one_trajectory_in_handling_order(
    tmp_path: Path, mode: str
) -> None:
    """Records are handed over per commit batch; more events than one batch holds."""
    module = flaky_module(tmp_path, "flaky", tmp_path / "mode")
    config = write_engine_config(tmp_path / "engine.toml", [module], f'[commit]\nmode = "{mode}"\n')
    count = 600 if mode == "batched" else 40  # per-event fsyncs each one
    async with running_engine(config) as engine:
        await engine.publish([probe_event("count") for _ in range(count)])
        # The position moves after the batch's records are handed over (the state shows
        # the count as soon as the commit is written, before that).
        runner = engine.runners["flaky"]
        await wait_until(lambda: runner.position == engine.store.head())
        assert count == state_json(engine, "flaky", "count")
        assert engine.trajectories is not None
        stored = engine.trajectories.query(TrajectoryQuery(after_id=0, limit=10_000))
    assert count == len(stored)
    assert sorted(t.seq for t in stored) == [t.seq for t in stored]
    assert len({t.event_id for t in stored}) == count
    assert all(a.at_ms <= b.at_ms for a, b in pairwise(stored))
    assert {"ok"} == {t.outcome for t in stored}
