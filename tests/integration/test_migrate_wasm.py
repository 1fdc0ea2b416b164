"""State migration of a real Python guest (componentize-py, ``@on_migrate``): renamed keys,
a changed value format, 100,000 keys, and a failing or trapping migration rolled back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cove import Custom, Engine, Event
from cove._store._sqlite import SqliteStore
from cove.errors import CoveError
from tests.helpers.engine import running_engine, state_json, wait_until
from tests.helpers.modules import build_guest, write_engine_config, write_manifest

CAPABILITIES = ["config", "store"]


@pytest.fixture(scope="module")
def migrating_wasm() -> Path:
    return build_guest("migrating", CAPABILITIES, migrate=True)


def guest(
    tmp_path: Path,
    wasm: Path,
    version: str = "0.1.0",
    *,
    migration: str = "rename",
    tag: str = "v1",
    resources: dict[str, Any] | None = None,
) -> Path:
    directory = write_manifest(
        tmp_path / "migrating",
        "migrating",
        component=wasm,
        required=CAPABILITIES,
        config={"migration": migration, "tag": tag},
        resources=resources,
        migrate=True,
    )
    manifest = directory / "cove.toml"
    manifest.write_text(manifest.read_text().replace('version = "0.1.0"', f'version = "{version}"'))
    return directory


def seed(tmp_path: Path, items: dict[str, int], version: str | None = None) -> None:
    """State as an earlier run left it: ``items`` (and ``version`` recorded with it)."""
    store = SqliteStore(tmp_path / "data" / "cove.db")
    writes: dict[str, bytes | None] = {k: json.dumps(v).encode() for k, v in items.items()}
    if version is None:
        store.commit("migrating", 0, writes, [])
    else:
        store.migrate_state("migrating", version, writes, sum(len(k) + 8 for k in items))
    store.close()


def state_of(engine: Engine) -> dict[str, Any]:
    return {k: json.loads(v) for k, v in engine.store.state_items("migrating")}


async def tagged(engine: Engine, name: str) -> object:
    event = Event(Custom("probe.tick", "", "{}"), id=name)
    await engine.publish([event])
    await wait_until(
        lambda: state_json(engine, "migrating", f"by:{name}") is not None, what=f"{name} handled"
    )
    return state_json(engine, "migrating", f"by:{name}")


async def test_a_reload_renames_keys_and_changes_their_format(
    tmp_path: Path, migrating_wasm: Path
) -> None:
    seed(tmp_path, {"item:a": 1, "item:b": 2})
    module = guest(tmp_path, migrating_wasm)
    config = write_engine_config(tmp_path / "engine.toml", [module])
    async with running_engine(config) as engine:
        before = await tagged(engine, "before")
        guest(tmp_path, migrating_wasm, "0.2.0", tag="v2")
        await engine.reload("migrating")
        after = await tagged(engine, "after")
        state = state_of(engine)
        recorded = engine.store.state_version("migrating")
    assert ("v1", "v2") == (before, after)
    assert {"n": 1, "from": "0.1.0"} == state["entry:a"]
    assert {"n": 2, "from": "0.1.0"} == state["entry:b"]
    assert not [k for k in state if k.startswith("item:")]
    assert "0.2.0" == recorded


@pytest.mark.parametrize(("migration", "says"), [
    ("fail", "fails on purpose"),
    ("spin", "limit exceeded"),  # a trap: its fuel or deadline runs out
])  # fmt: skip
async def test_a_failing_or_trapping_migration_rolls_back_and_the_old_version_keeps_running(
    tmp_path: Path, migrating_wasm: Path, migration: str, says: str
) -> None:
    seed(tmp_path, {"item:a": 1, "item:b": 2})
    module = guest(tmp_path, migrating_wasm)
    config = write_engine_config(tmp_path / "engine.toml", [module])
    async with running_engine(config) as engine:
        await tagged(engine, "before")
        before = state_of(engine)
        guest(tmp_path, migrating_wasm, "0.2.0", migration=migration, tag="v2")
        with pytest.raises(CoveError) as refused:
            await engine.reload("migrating")
        runner = engine.runners["migrating"]
        running = (runner.state.value, runner.manifest.module.version)
        after = await tagged(engine, "after")
        state = {k: v for k, v in state_of(engine).items() if k != "by:after"}
        recorded = engine.store.state_version("migrating")
    assert "the state of 'migrating' from 0.1.0 to 0.2.0 failed" in str(refused.value)
    assert says in str(refused.value)
    assert ("running", "0.1.0") == running
    assert "v1" == after
    assert before == state
    assert "0.1.0" == recorded


async def test_a_start_after_an_upgrade_migrates_100k_keys_before_the_first_event(
    tmp_path: Path, migrating_wasm: Path
) -> None:
    keys = 100_000
    seed(tmp_path, {f"item:{n:06d}": n for n in range(keys)}, version="0.1.0")
    limits = {"timeout": "60s", "fuel": 50_000_000_000}
    module = guest(tmp_path, migrating_wasm, "0.2.0", migration="reformat", resources=limits)
    config = write_engine_config(tmp_path / "engine.toml", [module])
    async with running_engine(config) as engine:
        await wait_until(
            lambda: engine.store.state_version("migrating") == "0.2.0",
            timeout=120,
            what="the migration",
        )
        first = await tagged(engine, "first")
        state = state_of(engine)
    items = {k: v for k, v in state.items() if k.startswith("item:")}
    assert "v1" == first
    assert keys == len(items)
    assert all(v == {"n": int(k[5:])} for k, v in items.items())


async def test_a_component_exporting_migrator_without_migrate_enabled_is_refused(
    tmp_path: Path, migrating_wasm: Path
) -> None:
    module = guest(tmp_path, migrating_wasm)
    manifest = module / "cove.toml"
    manifest.write_text(manifest.read_text().replace("[migrate]\nenabled = true\n", ""))
    config = write_engine_config(tmp_path / "engine.toml", [module])
    async with running_engine(config) as engine:
        errors = list(engine.load_errors.values())
    assert 1 == len(errors)
    assert "exports cove:host/migrator but its manifest does not ask for it" in errors[0]
    assert "add [migrate] enabled = true" in errors[0]


async def test_a_watched_wasm_module_whose_manifest_changes_is_reloaded_and_migrates(
    tmp_path: Path, migrating_wasm: Path
) -> None:
    seed(tmp_path, {"item:a": 1})
    module = guest(tmp_path, migrating_wasm)
    watch = '[watch]\nenabled = true\ndebounce = "50ms"\n'
    config = write_engine_config(tmp_path / "engine.toml", [module], watch)
    async with running_engine(config) as engine:
        watcher = engine.watcher
        assert watcher is not None
        await wait_until(lambda: bool(watcher.watching), what="the watch in place")
        guest(tmp_path, migrating_wasm, "0.2.0", tag="v2")
        await wait_until(
            lambda: engine.store.state_version("migrating") == "0.2.0", what="the watched reload"
        )
        after = await tagged(engine, "after")
        state = state_of(engine)
    assert "v2" == after
    assert {"n": 1, "from": "0.1.0"} == state["entry:a"]
