"""``cove module drain`` on a real engine: queued events handled, later ones left for the next load."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from cove import Custom, Engine, Event
from tests.helpers.control import TOKEN, TOKEN_ENV, control_section, running_plane
from tests.helpers.engine import running_engine, state_json, wait_until
from tests.helpers.modules import native_gated, write_engine_config
from tests.integration.test_cli_control import cove


def _events(first: int, count: int) -> list[Event]:
    return [
        Event(Custom("probe.tick", "", json.dumps({"n": n})), id=f"tick-{n}")
        for n in range(first, first + count)
    ]


def _entered(tmp_path: Path) -> list[str]:
    path = tmp_path / "entered"
    return path.read_text().split() if path.exists() else []


def _seen_once(engine: Engine, events: list[Event]) -> bool:
    return all(state_json(engine, "gated", f"seen:{e.id}") == 1 for e in events)


async def test_drain_handles_the_queued_events_then_unloads_and_later_ones_wait_for_the_next_load(
    tmp_path: Path,
) -> None:
    """Queued at the drain: handled. Published during it: left in the journal, handled
    once by the next load (the cursor stayed where the drain left it)."""
    module = native_gated(tmp_path)
    config = write_engine_config(tmp_path / "engine.toml", [module])
    queued, later = _events(0, 5), _events(5, 3)
    (tmp_path / "gate").touch()
    async with running_engine(config) as engine:
        await engine.publish(queued)
        await wait_until(lambda: len(_entered(tmp_path)) == 1, what="the first event in hand")
        drain = asyncio.create_task(engine.drain("gated", 30))
        await wait_until(lambda: engine.runners["gated"].state.value == "draining", what="draining")
        states = {s.name: s.state for s in engine.status()}
        await engine.publish(later)
        (tmp_path / "gate").unlink()
        drained = await drain
        assert "gated" not in engine.runners
        handled_by_drain = state_json(engine, "gated", "count")
        assert not any(state_json(engine, "gated", f"seen:{e.id}") for e in later)
        await engine.load(module)
        await wait_until(lambda: _seen_once(engine, queued + later), what="the rest handled")
        count = state_json(engine, "gated", "count")
    assert {"gated": "draining"} == states
    assert drained.complete and 3 == drained.left
    assert 5 == handled_by_drain
    assert 8 == count


async def test_drain_past_its_deadline_unloads_and_a_later_load_handles_the_rest_once(
    tmp_path: Path,
) -> None:
    """At the deadline the event in hand finishes; the rest of its batch stays in the
    journal and the next load handles each of them exactly once."""
    module = native_gated(tmp_path)
    config = write_engine_config(tmp_path / "engine.toml", [module])
    events = _events(0, 6)
    (tmp_path / "gate").touch()
    async with running_engine(config) as engine:
        await engine.publish(events)
        await wait_until(lambda: len(_entered(tmp_path)) == 1, what="the first event in hand")
        runner = engine.runners["gated"]
        drain = asyncio.create_task(engine.drain("gated", 0.05))
        await wait_until(lambda: runner.supervisor.cut, what="the deadline")
        (tmp_path / "gate").unlink()
        drained = await drain
        handled_by_drain = state_json(engine, "gated", "count")
        await engine.load(module)
        await wait_until(lambda: _seen_once(engine, events), what="the rest handled")
        count = state_json(engine, "gated", "count")
    assert not drained.complete and 5 == drained.left
    assert 1 == handled_by_drain
    assert 6 == count


@pytest.fixture
def plane_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    return write_engine_config(
        tmp_path / "engine.toml", [native_gated(tmp_path)], control_section()
    )


async def test_drain_through_the_api_shows_draining_and_an_unknown_module_is_a_404(
    plane_config: Path, tmp_path: Path
) -> None:
    (tmp_path / "gate").touch()
    async with running_plane(plane_config) as plane:
        await plane.engine.publish(_events(0, 3))
        await wait_until(lambda: len(_entered(tmp_path)) == 1, what="the first event in hand")
        bad = await plane.client.post("/v1/modules/gated/drain?deadline=soon", headers=plane.auth())
        drain = asyncio.create_task(
            plane.client.post("/v1/modules/gated/drain?deadline=20s", headers=plane.auth())
        )
        await wait_until(
            lambda: plane.engine.runners["gated"].state.value == "draining", what="draining"
        )
        listed = (await plane.client.get("/v1/modules", headers=plane.auth())).json()
        health = (await plane.client.get("/health", headers=plane.auth())).json()
        (tmp_path / "gate").unlink()
        answer = await drain
        unknown = await plane.client.post("/v1/modules/ghost/drain", headers=plane.auth())
        cli_unknown = await cove(plane, "module", "drain", "ghost")
        cli_bad = await cove(plane, "module", "drain", "gated", "--deadline", "soon")
        cli_long = await cove(plane, "module", "drain", "gated", "--deadline", "2h")
    assert ["draining"] == [m["state"] for m in listed["modules"]]
    assert "draining" == health["modules"]["gated"]["state"]
    assert 200 == answer.status_code
    assert {"drained": "gated", "complete": True, "left": 0} == answer.json()
    assert 404 == unknown.status_code and "ghost" in unknown.json()["error"]
    assert 400 == bad.status_code and "deadline" in bad.json()["error"]
    assert 1 == cli_unknown.code and "ghost" in cli_unknown.err
    assert 1 == len(cli_unknown.err.strip().splitlines())
    assert 2 == cli_bad.code and "--deadline" in cli_bad.err
    assert 2 == cli_long.code and "at most 1h" in cli_long.err


async def test_cove_module_drain_prints_what_it_drained(plane_config: Path) -> None:
    """The command waits for the engine's answer: the queued events are handled by then."""
    async with running_plane(plane_config) as plane:
        await plane.engine.publish(_events(0, 2))
        run = await cove(plane, "module", "drain", "gated", "--deadline", "10s")
        count = state_json(plane.engine, "gated", "count")
    assert 0 == run.code and "drained gated" in run.out
    assert 2 == count
