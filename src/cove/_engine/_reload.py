"""Reloading one module: a complete candidate beside the running version, swapped in between two
events only when every step of it passed.

Design note: the candidate goes through what a load does (manifest, pin check,
compile, contract check, ``init`` on a read-only view) on a worker thread,
while the old version keeps handling events. Only then does the runner take
it, under the lock its batches and tool calls hold, so the event in flight
finishes on the old version and the next one runs on the new one: no event
is handled twice, none by both. Any failure closes the candidate and leaves
the old version running; the reason is the module's last error. When the
version changes and the new one migrates its state (``_migrate.py``), its
``init`` waits for the swap: under the lock, the migration runs, then ``init``
on its result, and only then is the candidate swapped in. Rejected:
unload and load again (``restart``), which leaves nothing running when the
new build is broken.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from .._manifest import Manifest, load_manifest
from ..errors import CoveError, ModuleLoadError
from ._instance import ModuleInstance
from ._loader import LoadedModule
from ._migrate import migrate_and_init, migration_due, record_version
from ._runner import ModuleRunner

Build = Callable[[Manifest], LoadedModule]
"""Manifest -> hosts, grants, identity: the engine's ``build_host`` with its config."""
Admit = Callable[[Manifest], Awaitable[None]]
"""The last say before the swap; raises ``CoveError`` (``HookBlockedError``) to refuse."""


def build_candidate(runner: ModuleRunner, build: Build, root: Path | None = None) -> ModuleInstance:
    """On a worker thread: the new version read from ``root`` (default: the module's
    directory), initialized. Raises ``CoveError`` (a load refusal, or ``ModuleFailedError``
    from ``init``)."""
    root = runner.manifest.root if root is None else root
    manifest = load_manifest(root)
    if manifest.name != runner.name:
        raise ModuleLoadError(
            runner.name,
            f"{root / 'cove.toml'} now names the module {manifest.name!r}; a reload keeps "
            "the name (unload it and load the new one instead)",
        )
    candidate = runner.instance.successor(build(manifest))
    try:
        if not migration_due(candidate, runner.store):
            candidate.init()  # else under the lock, on the migrated state (see ``reload``)
    except BaseException:
        candidate.close()
        raise
    return candidate


async def reload(
    runner: ModuleRunner, build: Build, admit: Admit, root: Path | None = None
) -> ModuleInstance:
    """Build, check and init the new version (from ``root``, else the module's directory:
    the registry upgrades a module to a directory of its own) off the hot path, let
    ``admit`` refuse it (the ``module-loaded`` hooks, as for a load), then swap it in and
    close the old one. On a ``CoveError`` the old keeps running with the reason as its
    last error."""
    try:
        candidate = await asyncio.to_thread(build_candidate, runner, build, root)
    except CoveError as exc:
        runner.supervisor.refused(_refusal(runner, exc))
        raise
    try:
        await admit(candidate.manifest)
    except CoveError as exc:
        await asyncio.to_thread(candidate.close)
        runner.supervisor.refused(_refusal(runner, exc))
        raise
    try:
        old = await asyncio.to_thread(runner.swap, candidate, lambda: _migrate(runner, candidate))
    except CoveError as exc:
        await asyncio.to_thread(candidate.close)
        runner.supervisor.refused(_refusal(runner, exc))
        raise
    await asyncio.to_thread(runner.retire, old)
    return candidate


def _migrate(runner: ModuleRunner, candidate: ModuleInstance) -> None:
    """Under the runner's lock, between two events: record the new version with the state,
    migrating it (and running ``init`` on the result) when one is due."""
    if migration_due(candidate, runner.store):
        migrate_and_init(candidate, runner.store)
    else:
        record_version(candidate, runner.store)


def _refusal(runner: ModuleRunner, exc: CoveError) -> str:
    return f"reload refused, still running {runner.manifest.module.version}: {exc}"


__all__ = ["Admit", "Build", "build_candidate", "reload"]
