"""``[watch] enabled``: editing a loaded module's directory reloads it through the reload path;
a broken edit leaves the old version running with the reason shown, the next edit tries again."""

from __future__ import annotations

from pathlib import Path

from cove import Engine
from tests.helpers.engine import running_engine, wait_until
from tests.helpers.modules import write_engine_config
from tests.integration.test_reload import _by, _events, _handled, _versioned

WATCH = '[watch]\nenabled = true\ndebounce = "50ms"\n'


async def _watching(engine: Engine) -> None:
    watcher = engine.watcher
    assert watcher is not None
    await wait_until(lambda: bool(watcher.watching), what="the watch in place")


def _version(engine: Engine) -> str:
    return engine.runners["versioned"].manifest.module.version


async def test_an_edited_module_is_reloaded_and_its_next_events_go_to_the_new_version(
    tmp_path: Path,
) -> None:
    module = _versioned(tmp_path)
    config = write_engine_config(tmp_path / "engine.toml", [module], WATCH)
    async with running_engine(config) as engine:
        await _watching(engine)
        before = _events(0, 2)
        await engine.publish(before)
        await wait_until(lambda: _handled(engine, before), what="v1 handled its events")
        _versioned(tmp_path, "0.2.0", "v2")  # rewrites cove.toml and versioned.py
        await wait_until(lambda: _version(engine) == "0.2.0", what="the watched reload")
        after = _events(2, 2)
        await engine.publish(after)
        await wait_until(lambda: _handled(engine, after), what="v2 handled its events")
        by = _by(engine, before + after)
    assert ["v1", "v1", "v2", "v2"] == by


async def test_a_broken_edit_keeps_the_old_version_running_until_a_good_one(
    tmp_path: Path,
) -> None:
    module = _versioned(tmp_path)
    config = write_engine_config(tmp_path / "engine.toml", [module], WATCH)
    async with running_engine(config) as engine:
        await _watching(engine)
        runner = engine.runners["versioned"]
        manifest = module / "cove.toml"
        good = manifest.read_text()
        manifest.write_text(good.replace('version = "0.1.0"', 'version = "0.2.0"') + "\nbad = 1\n")
        await wait_until(lambda: runner.stats.last_error != "", what="the refused reload")
        refused = runner.stats.last_error
        events = _events(0, 2)
        await engine.publish(events)
        await wait_until(lambda: _handled(engine, events), what="v1 still handling events")
        by = _by(engine, events)
        manifest.write_text(good.replace('version = "0.1.0"', 'version = "0.3.0"'))
        await wait_until(lambda: _version(engine) == "0.3.0", what="the next, good reload")
    assert refused.startswith("reload refused, still running 0.1.0") and "cove.toml" in refused
    assert ["v1", "v1"] == by
