"""Loading, unloading and reloading a module on a running engine.

Design note: a bad module is refused and reported (``load_errors``), never fatal;
the others keep running. Every change to the loaded set marks the journal feed's
wake index stale, and re-registers the module's hooks.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from .._events import Event, Lifecycle
from .._manifest import load_manifest
from .._observe._logging import module_log
from ..errors import CoveError, HookBlockedError, ModuleError
from ._hook_payloads import loaded_payload
from ._hooks import hooks_of
from ._lifecycle import ModuleState
from ._loader import build_host
from ._reload import reload
from ._runner import ModuleRunner

if TYPE_CHECKING:
    from ._engine import Engine


async def load_module(engine: Engine, path: Path) -> ModuleRunner | None:
    """Load one module; a bad one is reported and skipped, the rest keep running."""
    try:
        manifest = engine.config.configured(load_manifest(path))
        if manifest.name in engine.runners:
            raise ModuleError(manifest.name, f"a module with this name is already loaded ({path})")
        loaded = await asyncio.to_thread(
            build_host, manifest, engine.config, engine.runtime, module_log, engine._progress
        )
    except CoveError as exc:
        engine._refused(path, exc)
        return None
    try:
        await engine._run_hooks("module-loaded", loaded_payload(loaded.manifest))
    except HookBlockedError as exc:
        await asyncio.to_thread(loaded.host.close)
        engine._refused(path, exc)
        return None
    runner = ModuleRunner(
        loaded,
        engine.store,
        engine.committer,
        engine._feed.read,
        engine.http,
        module_log,
        engine._state_changed,
        engine._trajectories,
        chain=engine.chain,
        hooks=engine.hooks,
        spending=engine._limits.spending(loaded.manifest.name),
        autonomy=engine._limits.autonomy(loaded.manifest.name),
        hibernate_after_ms=engine.config.hibernate_after_ms(loaded.manifest.name),
        init_slots=engine._init_slots,
        retry_store_errors=engine.placement is None,
    )
    runner.trace(engine.tracing)
    engine.hooks.add(
        hooks_of(loaded.manifest, engine.config.hooks, runner.hook_call, runner.unavailable)
    )
    engine.runners[runner.name] = runner
    engine._feed.modules_changed()
    engine.store.set_released(runner.name, False)
    engine.load_errors.pop(path, None)
    engine._runner_tasks[runner.name] = engine.spawn(runner.run(), f"module:{runner.name}")
    if engine.watcher is not None:
        engine.watcher.refresh()
    return runner


async def unload_module(engine: Engine, name: str, release: bool) -> None:
    """Stop and close a module. ``release`` (the operator's unload) lets retention
    prune the journal past its cursor; otherwise the stored cursor still holds it."""
    runner = engine.runners.pop(name)
    engine._feed.modules_changed()
    if release:
        engine.store.set_released(name, True)
    runner.stop()
    task = engine._runner_tasks.pop(name)
    await asyncio.wait([task], timeout=5)
    engine.hooks.remove(name)
    await asyncio.to_thread(runner.close)
    runner.supervisor.set_state(ModuleState.UNLOADED)
    if engine.watcher is not None:
        engine.watcher.refresh()
    await engine._run_hooks("module-unloaded", {"module": name})


async def reload_module(engine: Engine, name: str, root: Path | None) -> ModuleRunner:
    """Swap in the module's new version (from ``root``, else its directory) between two
    events (``_reload.py``); on any failure the old one keeps running and the
    ``CoveError`` is raised."""
    runner = engine.runners[name]
    try:
        new = await reload(runner, engine._build, engine._admit, root)
    except CoveError as exc:
        engine.log.error("reload refused", module=name, error=str(exc))
        raise
    engine.hooks.remove(name)
    hooks = hooks_of(new.manifest, engine.config.hooks, runner.hook_call, runner.unavailable)
    engine.hooks.add(hooks)
    engine.tools.refresh()
    engine._feed.modules_changed()
    detail = f"{name} {new.manifest.module.version}"
    await engine.publish([Event(Lifecycle("reloaded", detail))])
    return runner
