"""The watch of ``[watch] enabled`` against a real file system (watchfiles): which edits
reload which module, for the layouts a manifest allows."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path

from cove._engine._watch import ModuleWatcher, watched_files
from cove._manifest import Manifest, load_manifest
from tests.helpers.engine import wait_until

PIN = "sha256:" + "ab" * 32


def wasm_module(directory: Path, name: str, component: str | None, sources: bool = False) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    lines = [
        "[module]",
        f'name = "{name}"',
        'version = "0.1.0"',
        'kind = "wasm"',
        f'sha256 = "{PIN}"',
    ]
    if component is not None:
        lines.append(f'component = "{component}"')
        (directory / component).parent.mkdir(parents=True, exist_ok=True)
        (directory / component).write_bytes(b"\0asm")
    if sources:
        lines.append('sources = ["https://example.invalid/m.wasm"]')
    (directory / "cove.toml").write_text("\n".join(lines) + "\n")
    return directory


class Watched:
    """A watcher over fixed manifests that records the reloads it asks for."""

    def __init__(self, manifests: Mapping[str, Manifest]) -> None:
        self.reloads: list[str] = []
        self.watcher = ModuleWatcher(lambda: manifests, self._reload, debounce_ms=20)

    async def _reload(self, name: str) -> None:
        self.reloads.append(name)


def test_a_module_given_by_sources_alone_watches_its_manifest(tmp_path: Path) -> None:
    manifest = load_manifest(wasm_module(tmp_path / "m", "m", None, sources=True))
    watched = watched_files(manifest)
    assert watched((tmp_path / "m" / "cove.toml").resolve())
    assert not watched((tmp_path / "m" / "helper.py").resolve())  # no .py rule for wasm


async def test_a_sources_only_module_keeps_the_watch_of_every_module_alive(tmp_path: Path) -> None:
    manifests = {
        "fetched": load_manifest(wasm_module(tmp_path / "fetched", "fetched", None, sources=True)),
        "local": load_manifest(wasm_module(tmp_path / "local", "local", "local.wasm")),
    }
    watched = Watched(manifests)
    task = asyncio.ensure_future(watched.watcher.run())
    try:
        await wait_until(lambda: bool(watched.watcher.watching) or task.done(), what="the watch")
        await asyncio.sleep(0.5)  # a few empty rounds: each one checks every module
        assert not task.done(), task.exception()
        (tmp_path / "local" / "local.wasm").write_bytes(b"\0asm v2")
        await wait_until(lambda: "local" in watched.reloads, what="the reload of local")
    finally:
        task.cancel()


async def test_a_component_in_a_subdirectory_is_watched(tmp_path: Path) -> None:
    manifests = {"built": load_manifest(wasm_module(tmp_path / "built", "built", "build/x.wasm"))}
    watched = Watched(manifests)
    task = asyncio.ensure_future(watched.watcher.run())
    try:
        await wait_until(lambda: bool(watched.watcher.watching), what="the watch")
        (tmp_path / "built" / "build" / "x.wasm").write_bytes(b"\0asm v2")
        await wait_until(lambda: ["built"] == watched.reloads, timeout=5, what="the reload")
    finally:
        task.cancel()
