"""State migration on a real engine with native plugins: at a reload to a new version and at a
start after an upgrade, in one transaction, before the new version's first event."""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path

import pytest

from cove import Custom, Engine, Event, load_config
from cove._store._sqlite import SqliteStore
from cove.errors import CoveError, StoreError
from tests.helpers.engine import running_engine, state_json, wait_until
from tests.helpers.modules import ASSETS, write_engine_config, write_manifest


def plugin(
    tmp_path: Path,
    version: str = "0.1.0",
    *,
    tag: str = "v1",
    migration: str = "rename",
    cls: str = "Migrating",
    migrate: bool = True,
) -> Path:
    """tests/assets/native_migrating as module ``shop`` at ``version``."""
    directory = tmp_path / "shop"
    write_manifest(
        directory,
        "shop",
        kind="python",
        entry=f"migrating:{cls}",
        required=["store"],
        config={"tag": tag, "migration": migration},
        subscriptions=[{"kind": "custom", "name": "probe.*"}],
        migrate=migrate,
    )
    manifest = directory / "cove.toml"
    manifest.write_text(manifest.read_text().replace('version = "0.1.0"', f'version = "{version}"'))
    shutil.copy(ASSETS / "native_migrating" / "migrating.py", directory / "migrating.py")
    return directory


def puts(keys: list[str], first: int = 0) -> list[Event]:
    return [
        Event(Custom("probe.put", "", json.dumps({"key": k, "n": first + i})), id=f"put-{k}")
        for i, k in enumerate(keys)
    ]


def ticks(name: str, count: int) -> list[Event]:
    return [Event(Custom("probe.tick", "", "{}"), id=f"{name}-{n}") for n in range(count)]


def state_of(engine: Engine, module: str = "shop") -> dict[str, object]:
    return {k: json.loads(v) for k, v in engine.store.state_items(module)}


async def handled(engine: Engine, events: list[Event], module: str = "shop") -> list[object]:
    await wait_until(
        lambda: all(state_json(engine, module, f"by:{e.id}") is not None for e in events),
        what="the events handled",
    )
    return [state_json(engine, module, f"by:{e.id}") for e in events]


async def test_a_reload_to_a_new_version_migrates_the_state_before_its_first_event(
    tmp_path: Path,
) -> None:
    module = plugin(tmp_path)
    config = write_engine_config(tmp_path / "engine.toml", [module])
    async with running_engine(config) as engine:
        await engine.publish(puts(["a", "b"]))
        await handled(engine, puts(["a", "b"]))
        recorded_before = engine.store.state_version("shop")
        plugin(tmp_path, "0.2.0", tag="v2")
        await engine.reload("shop")
        after = ticks("after", 2)
        await engine.publish(after)
        by = await handled(engine, after)
        state = state_of(engine)
        recorded_after = engine.store.state_version("shop")
    assert "0.1.0" == recorded_before
    assert "0.2.0" == recorded_after
    assert ["v2", "v2"] == by
    assert {"n": 0, "from": "0.1.0"} == state["entry:a"]
    assert {"n": 1, "from": "0.1.0"} == state["entry:b"]
    assert not [k for k in state if k.startswith("item:")]


async def test_a_failing_migration_rolls_back_and_the_old_version_keeps_running(
    tmp_path: Path,
) -> None:
    module = plugin(tmp_path)
    config = write_engine_config(tmp_path / "engine.toml", [module])
    async with running_engine(config) as engine:
        await engine.publish(puts(["a", "b"]))
        await handled(engine, puts(["a", "b"]))
        before = state_of(engine)
        plugin(tmp_path, "0.2.0", tag="v2", migration="fail")
        with pytest.raises(CoveError) as refused:
            await engine.reload("shop")
        runner = engine.runners["shop"]
        running = (runner.state.value, runner.manifest.module.version)
        after = ticks("after", 2)
        await engine.publish(after)
        by = await handled(engine, after)
        state = {k: v for k, v in state_of(engine).items() if not k.startswith("by:after")}
        recorded = engine.store.state_version("shop")
        last_error = runner.stats.last_error
    assert "the state of 'shop' from 0.1.0 to 0.2.0 failed" in str(refused.value)
    assert "fails on purpose" in str(refused.value)
    assert ("running", "0.1.0") == running
    assert ["v1", "v1"] == by
    assert before == state  # nothing of the half-done migration is kept
    assert "0.1.0" == recorded
    assert last_error.startswith("reload refused, still running 0.1.0")


async def test_a_start_after_an_upgrade_migrates_before_the_first_event(tmp_path: Path) -> None:
    module = plugin(tmp_path)
    config = write_engine_config(tmp_path / "engine.toml", [module])
    async with running_engine(config) as engine:
        await engine.publish(puts(["a"]))
        await handled(engine, puts(["a"]))
    plugin(tmp_path, "0.2.0", tag="v2")
    async with running_engine(config) as engine:
        after = ticks("after", 1)
        await engine.publish(after)
        by = await handled(engine, after)
        state = state_of(engine)
        recorded = engine.store.state_version("shop")
    assert ["v2"] == by
    assert {"n": 0, "from": "0.1.0"} == state["entry:a"]
    assert "item:a" not in state
    assert "0.2.0" == recorded


async def test_a_failing_migration_at_start_backs_off_naming_the_module_and_both_versions(
    tmp_path: Path,
) -> None:
    module = plugin(tmp_path)
    config = write_engine_config(tmp_path / "engine.toml", [module])
    async with running_engine(config) as engine:
        await engine.publish(puts(["a"]))
        await handled(engine, puts(["a"]))
        before = state_of(engine)
    plugin(tmp_path, "0.2.0", tag="v2", migration="fail")
    async with running_engine(config) as engine:
        runner = engine.runners["shop"]
        await wait_until(lambda: runner.stats.last_error != "", what="the migration failed")
        state, error = runner.state.value, runner.stats.last_error
        after = state_of(engine)
        recorded = engine.store.state_version("shop")
    assert state in ("backoff", "dead")
    assert "the state of 'shop' from 0.1.0 to 0.2.0 failed" in error
    assert before == after
    assert "0.1.0" == recorded


async def test_a_native_migration_writes_more_keys_than_an_events_host_call_budget(
    tmp_path: Path,
) -> None:
    """Each run of ``SetState`` is one set-many: 1,500 keys fit the default 1,000 host calls."""
    keys = 1_500
    store = SqliteStore(tmp_path / "data" / "cove.db")
    items: dict[str, bytes | None] = {f"item:{n:04d}": str(n).encode() for n in range(keys)}
    store.migrate_state("shop", "0.1.0", items, sum(len(k) + 4 for k in items))
    store.close()
    module = plugin(tmp_path, "0.2.0", migration="reformat")
    config = write_engine_config(tmp_path / "engine.toml", [module])
    async with running_engine(config) as engine:
        await wait_until(
            lambda: (
                engine.store.state_version("shop") == "0.2.0"
                or engine.runners["shop"].stats.last_error != ""
            ),
            what="the migration",
        )
        error = engine.runners["shop"].stats.last_error
        state = state_of(engine)
    assert "" == error
    assert keys == len(state)
    assert {"n": 7} == state["item:0007"]


async def test_a_new_version_without_a_migration_keeps_the_state_and_records_its_version(
    tmp_path: Path,
) -> None:
    module = plugin(tmp_path, cls="Plain", migrate=False)
    config = write_engine_config(tmp_path / "engine.toml", [module])
    async with running_engine(config) as engine:
        await engine.publish(puts(["a"]))
        await handled(engine, puts(["a"]))
        before = state_of(engine)
        plugin(tmp_path, "0.2.0", tag="v2", cls="Plain", migrate=False)
        await engine.reload("shop")
        after = state_of(engine)
        recorded = engine.store.state_version("shop")
    assert before == after
    assert "0.2.0" == recorded


@pytest.mark.parametrize(("cls", "migrate", "says"), [
    ("Migrating", False, "overrides Plugin.migrate"),
    ("Plain", True, "does not override Plugin.migrate"),
])  # fmt: skip
async def test_a_plugin_and_its_manifest_must_agree_on_migrate(
    tmp_path: Path, cls: str, migrate: bool, says: str
) -> None:
    module = plugin(tmp_path, cls=cls, migrate=migrate)
    config = write_engine_config(tmp_path / "engine.toml", [module])
    async with running_engine(config) as engine:
        errors = list(engine.load_errors.values())
    assert 1 == len(errors)
    assert says in errors[0] and "shop" in errors[0]


class _DiskFullAtUpgrade(SqliteStore):
    """A store whose commit of the 0.2.0 migration fails as a full disk would."""

    def migrate_state(
        self, module: str, version: str, writes: Mapping[str, bytes | None], state_bytes: int
    ) -> None:
        if version == "0.2.0":
            raise StoreError(f"{self.path}: migrating the state of {module!r} failed: disk full")
        super().migrate_state(module, version, writes, state_bytes)


async def test_a_migration_whose_commit_fails_backs_off_like_a_failing_migration(
    tmp_path: Path,
) -> None:
    module = plugin(tmp_path)
    config = write_engine_config(tmp_path / "engine.toml", [module])
    async with running_engine(config) as engine:
        await engine.publish(puts(["a"]))
        await handled(engine, puts(["a"]))
    plugin(tmp_path, "0.2.0", tag="v2")
    settings = load_config(config)
    engine = Engine(settings, store=_DiskFullAtUpgrade(settings.data_path / "cove.db"))
    await engine.start()
    try:
        runner = engine.runners["shop"]
        await wait_until(lambda: runner.stats.last_error != "", timeout=5, what="the failure")
        state, error = runner.state.value, runner.stats.last_error
        recorded = engine.store.state_version("shop")
    finally:
        await engine.stop()
    assert state in ("backoff", "dead")
    assert "the state of 'shop' from 0.1.0 to 0.2.0 failed" in error and "disk full" in error
    assert "0.1.0" == recorded
