"""``cove module reload`` on a real engine: the new version takes over between two events, a
refused candidate leaves the old one running."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from cove import Custom, Engine, Event
from cove.errors import CoveError
from tests.helpers.control import TOKEN, TOKEN_ENV, control_section, running_plane
from tests.helpers.engine import (
    PROBE_CAPABILITIES,
    probe_event,
    running_engine,
    state_json,
    wait_until,
)
from tests.helpers.modules import ASSETS, build_guest, write_engine_config, write_manifest
from tests.integration.test_cli_control import cove
from tests.integration.test_hooks import hook_module, seen, sender

_SOURCE = (ASSETS / "native_versioned" / "versioned.py").read_text()


def _versioned(tmp_path: Path, version: str = "0.1.0", tag: str = "v1") -> Path:
    """The versioned plugin as version ``version``, recording ``tag`` for each event."""
    directory = tmp_path / "versioned"
    init = tmp_path / "init"
    if not init.exists():
        init.write_text("ok")
    write_manifest(
        directory,
        "versioned",
        kind="python",
        entry="versioned:Versioned",
        required=["store"],
        config={"init_file": str(init)},
        subscriptions=[{"kind": "custom", "name": "probe.*"}, {"kind": "lifecycle"}],
    )
    manifest = directory / "cove.toml"
    manifest.write_text(manifest.read_text().replace('version = "0.1.0"', f'version = "{version}"'))
    (directory / "versioned.py").write_text(_SOURCE.replace('TAG = "v1"', f'TAG = "{tag}"'))
    return directory


def _events(first: int, count: int) -> list[Event]:
    return [
        Event(Custom("probe.tick", "", json.dumps({"n": n})), id=f"tick-{n}")
        for n in range(first, first + count)
    ]


def _handled(engine: Engine, events: list[Event]) -> bool:
    return all(state_json(engine, "versioned", f"by:{e.id}") is not None for e in events)


def _by(engine: Engine, events: list[Event]) -> list[str]:
    return [state_json(engine, "versioned", f"by:{e.id}") for e in events]


def _seen(engine: Engine, events: list[Event]) -> list[int]:
    return [state_json(engine, "versioned", f"seen:{e.id}") for e in events]


async def test_reload_hands_the_next_events_to_the_new_version_and_none_twice(
    tmp_path: Path,
) -> None:
    """Before the reload: v1. After: v2, with a ``reloaded`` lifecycle event; each once."""
    module = _versioned(tmp_path)
    config = write_engine_config(tmp_path / "engine.toml", [module])
    before, after = _events(0, 5), _events(5, 5)
    async with running_engine(config) as engine:
        await engine.publish(before)
        await wait_until(lambda: _handled(engine, before), what="v1 handled its events")
        _versioned(tmp_path, "0.2.0", "v2")
        await engine.reload("versioned")
        version = engine.runners["versioned"].manifest.module.version
        await engine.publish(after)
        await wait_until(lambda: _handled(engine, after), what="v2 handled its events")
        await wait_until(
            lambda: state_json(engine, "versioned", "lifecycle:reloaded:v2") is not None,
            what="the reloaded event",
        )
        reloaded = state_json(engine, "versioned", "lifecycle:reloaded:v2")
        seen = _seen(engine, before + after)
        by = _by(engine, before + after)
    assert "0.2.0" == version
    assert ["v1"] * 5 + ["v2"] * 5 == by
    assert [1] * 10 == seen
    assert "versioned 0.2.0" == reloaded


@pytest.mark.parametrize("breakage", ["bad manifest", "init fails", "renamed"])
async def test_a_refused_candidate_leaves_the_old_version_running_and_names_why(
    tmp_path: Path, breakage: str
) -> None:
    module = _versioned(tmp_path)
    config = write_engine_config(tmp_path / "engine.toml", [module])
    expected = {
        "bad manifest": "cove.toml",
        "init fails": "init of v2 fails",
        "renamed": "now names",
    }
    async with running_engine(config) as engine:
        _versioned(tmp_path, "0.2.0", "v2")
        manifest = module / "cove.toml"
        if breakage == "bad manifest":
            manifest.write_text(manifest.read_text() + "\nunknown_key = 1\n")
        elif breakage == "init fails":
            (tmp_path / "init").write_text("fail")
        else:
            manifest.write_text(manifest.read_text().replace('"versioned"', '"other"', 1))
        with pytest.raises(CoveError) as refused:
            await engine.reload("versioned")
        runner = engine.runners["versioned"]
        state, version = runner.state.value, runner.manifest.module.version
        last_error = runner.stats.last_error
        events = _events(0, 3)
        await engine.publish(events)
        await wait_until(lambda: _handled(engine, events), what="v1 still handling events")
        by = _by(engine, events)
    assert expected[breakage] in str(refused.value)
    assert ("running", "0.1.0") == (state, version)
    assert (
        last_error.startswith("reload refused, still running 0.1.0")
        and expected[breakage] in last_error
    )
    assert ["v1"] * 3 == by


async def test_a_reload_with_a_hash_mismatch_keeps_the_running_component(
    tmp_path: Path, probe_wasm: Path
) -> None:
    """A wasm module whose pin no longer matches its component: refused, both hashes named."""
    module = write_manifest(
        tmp_path / "probe", "probe", component=probe_wasm, optional=PROBE_CAPABILITIES
    )
    config = write_engine_config(tmp_path / "engine.toml", [module])
    async with running_engine(config) as engine:
        await engine.publish([probe_event("count")])
        await wait_until(lambda: state_json(engine, "probe", "count") == 1, what="counted")
        manifest = module / "cove.toml"
        pin = engine.runners["probe"].manifest.module.sha256
        assert pin is not None
        wrong = "sha256:" + "0" * 64
        manifest.write_text(manifest.read_text().replace(pin, wrong))
        with pytest.raises(CoveError) as refused:
            await engine.reload("probe")
        await engine.publish([probe_event("count")])
        await wait_until(lambda: state_json(engine, "probe", "count") == 2, what="still counting")
        state = engine.runners["probe"].state.value
    message = str(refused.value)
    assert pin.removeprefix("sha256:") in message and "0" * 64 in message
    assert "running" == state


async def test_reload_through_the_api_and_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    module = _versioned(tmp_path)
    config = write_engine_config(tmp_path / "engine.toml", [module], control_section())
    async with running_plane(config) as plane:
        _versioned(tmp_path, "0.2.0", "v2")
        ok = await plane.client.post("/v1/modules/versioned/reload", headers=plane.auth())
        (tmp_path / "init").write_text("fail")
        _versioned(tmp_path, "0.3.0", "v3")
        refused = await plane.client.post("/v1/modules/versioned/reload", headers=plane.auth())
        listed = (await plane.client.get("/v1/modules/versioned", headers=plane.auth())).json()
        cli = await cove(plane, "module", "reload", "versioned")
        unknown = await plane.client.post("/v1/modules/ghost/reload", headers=plane.auth())
    assert 200 == ok.status_code and "0.2.0" == ok.json()["version"]
    assert 422 == refused.status_code
    assert "keeps running version 0.2.0" in refused.json()["error"]
    assert "init of v3 fails" in refused.json()["error"]
    assert ("running", "0.2.0") == (listed["state"], listed["version"])
    assert "init of v3 fails" in listed["last_error"]
    assert 1 == cli.code and "init of v3 fails" in cli.err
    assert 404 == unknown.status_code


async def test_reload_switches_the_modules_tools_to_the_new_version(tmp_path: Path) -> None:
    """A tool changed and one removed in the new version: the registry serves the new set."""
    module = write_manifest(
        tmp_path / "nt", "nt", kind="python", entry="tools:Tools", required=["store"], tools=True
    )
    source = (ASSETS / "native_tools" / "tools.py").read_text()
    (module / "tools.py").write_text(source)
    config = write_engine_config(tmp_path / "engine.toml", [module])
    async with running_engine(config) as engine:
        await wait_until(lambda: len(engine.tools.all()) == 2, what="both tools listed")
        before = await engine.tools.call("nt.greet", {"who": "ann"})
        bump_at = source.index('    @tool("bump"')
        (module / "tools.py").write_text(
            source[:bump_at].replace('f"hello {who}"', 'f"welcome {who}"')
        )
        await engine.reload("nt")
        after = await engine.tools.call("nt.greet", {"who": "ann"})
        names = [t.name for t in engine.tools.all()]
    assert ("hello ann", "welcome ann") == (json.loads(before), json.loads(after))
    assert ["nt.greet"] == names


async def test_reload_while_events_stream_in_splits_them_once_between_the_versions(
    tmp_path: Path,
) -> None:
    """Events published during the reload: each handled once, all of v1's before all of v2's
    in journal order (the swap falls between two events, never inside one)."""
    module = _versioned(tmp_path)
    config = write_engine_config(tmp_path / "engine.toml", [module])
    events, tail = _events(0, 300), _events(300, 10)
    async with running_engine(config) as engine:

        async def stream() -> None:
            for start in range(0, len(events), 10):
                await engine.publish(events[start : start + 10])
                await asyncio.sleep(0)

        publishing = asyncio.create_task(stream())
        await wait_until(lambda: _handled(engine, events[:20]), what="v1 under way")
        _versioned(tmp_path, "0.2.0", "v2")
        await engine.reload("versioned")
        await publishing
        await engine.publish(tail)  # after the swap, whatever the stream's pace was
        events += tail
        await wait_until(lambda: _handled(engine, events), what="every event handled")
        by = _by(engine, events)
        seen = _seen(engine, events)
    assert [1] * len(events) == seen
    switch = by.index("v2")
    assert ["v1"] * switch + ["v2"] * (len(events) - switch) == by


async def test_reload_switches_the_modules_hooks_to_the_new_manifest(tmp_path: Path) -> None:
    """v1 hooks module-unloaded, v2 module-loaded: after the reload only v2's point calls it."""
    watcher = hook_module(tmp_path, "watcher", [{"point": "module-unloaded"}])
    versioned = _versioned(tmp_path)
    modules = [watcher, sender(tmp_path), versioned]
    async with running_engine(write_engine_config(tmp_path / "engine.toml", modules)) as engine:
        await engine.unload("sender")
        hook_module(tmp_path, "watcher", [{"point": "module-loaded"}])
        await engine.reload("watcher")
        await engine.unload("versioned")
        await engine.load(versioned)
    assert [{"module": "sender"}] == [r["payload"] for r in seen(watcher, "module-unloaded")]
    assert ["versioned"] == [r["payload"]["module"] for r in seen(watcher, "module-loaded")]


async def test_a_failing_fail_closed_module_loaded_hook_refuses_the_reload(tmp_path: Path) -> None:
    """A reload passes the module-loaded hooks like a load: a fail-closed failure keeps the old one."""
    gate = hook_module(tmp_path, "gate", [{"point": "module-loaded"}])
    versioned = _versioned(tmp_path)
    closed = '\n[hooks.policy]\nmodule_loaded = "fail-closed"\n'
    config = write_engine_config(tmp_path / "engine.toml", [gate, versioned], closed)
    async with running_engine(config) as engine:
        (gate / "behaviour.json").write_text(json.dumps({"module-loaded": "fail"}))
        _versioned(tmp_path, "0.2.0", "v2")
        with pytest.raises(CoveError) as refused:
            await engine.reload("versioned")
        version = engine.runners["versioned"].manifest.module.version
        events = _events(0, 2)
        await engine.publish(events)
        await wait_until(lambda: _handled(engine, events), what="v1 still handling events")
        by = _by(engine, events)
    assert "blocked by hook of module 'gate'" in str(refused.value)
    assert "0.1.0" == version
    assert ["v1", "v1"] == by
    assert "0.2.0" == seen(gate, "module-loaded")[-1]["payload"]["version"]


async def test_a_wasm_candidate_whose_init_traps_leaves_the_old_version_running(
    tmp_path: Path,
) -> None:
    """A real component: the new config makes its init trap; the running instance keeps counting."""
    wasm = build_guest("init_switch", ["store"])
    module = write_manifest(tmp_path / "sw", "sw", component=wasm, optional=["store"])
    config = write_engine_config(tmp_path / "engine.toml", [module])
    async with running_engine(config) as engine:
        await engine.publish([probe_event("count")])
        await wait_until(lambda: state_json(engine, "sw", "count") == 1, what="counted")
        with (module / "cove.toml").open("a") as manifest:
            manifest.write("\n[config]\ntrap = true\n")
        with pytest.raises(CoveError) as refused:
            await engine.reload("sw")
        await engine.publish([probe_event("count")])
        await wait_until(lambda: state_json(engine, "sw", "count") == 2, what="still counting")
        runner = engine.runners["sw"]
        state, last_error, trap = (
            runner.state.value,
            runner.stats.last_error,
            runner.manifest.config,
        )
    assert "init traps on purpose" in str(refused.value)
    assert "running" == state and "init traps on purpose" in last_error
    assert {} == trap


async def test_an_old_version_whose_shutdown_fails_does_not_undo_the_reload(
    tmp_path: Path,
) -> None:
    """The swap is done when the old version's shutdown runs: its failure is logged only."""
    module = _versioned(tmp_path, tag="v1-shutdown-fails")
    config = write_engine_config(tmp_path / "engine.toml", [module])
    async with running_engine(config) as engine:
        _versioned(tmp_path, "0.2.0", "v2")
        await engine.reload("versioned")
        events = _events(0, 2)
        await engine.publish(events)
        await wait_until(lambda: _handled(engine, events), what="v2 handling events")
        by = _by(engine, events)
        version = engine.runners["versioned"].manifest.module.version
    assert ("0.2.0", ["v2", "v2"]) == (version, by)
