"""While the engine starts, status lists every module of its config, from the first
answer of the control plane to the last load: a metrics scrape or `cove module list`
never sees a module missing because it sits between its compile and its load."""

from __future__ import annotations

import asyncio
from pathlib import Path

from cove import Engine, load_config
from tests.helpers.modules import write_engine_config, write_manifest

PLUGIN = """
from cove import Plugin


class Quiet(Plugin):
    pass
"""


def native_module(tmp_path: Path, name: str) -> Path:
    module = write_manifest(tmp_path / name, name, kind="python", entry=f"{name}:Quiet")
    (module / f"{name}.py").write_text(PLUGIN)
    return module


async def test_every_configured_module_is_listed_throughout_start(tmp_path: Path) -> None:
    paths = [native_module(tmp_path, "first"), native_module(tmp_path, "second")]
    engine = Engine(load_config(write_engine_config(tmp_path / "engine.toml", paths)))
    seen: list[list[tuple[str, str]]] = []

    async def watch() -> None:
        while not engine.started:
            seen.append(sorted((s.name, s.state) for s in engine.status()))
            await asyncio.sleep(0)

    async def serve() -> None:
        watcher.append(asyncio.ensure_future(watch()))

    watcher: list[asyncio.Task[None]] = []
    try:
        await engine.start(serve)
        await watcher[0]
    finally:
        await engine.stop()
    assert seen, "status was never asked during start"
    missing = [names for names in seen if [n for n, _ in names] != ["first", "second"]]
    assert [] == missing[:3], f"{len(missing)} of {len(seen)} answers lacked a module"
    states = {state for names in seen for _, state in names}
    assert states <= {"loading", "compiling", "initializing", "running"}
