"""Modules of the config at start: compiled all at once, each listed until its load ends.

Design note. Compiling a Python guest (~18 MB) takes seconds even with the
cache warm on another machine, so the engine compiles every wasm module of
its config at once (wasmtime also spreads each compile over the cores),
before loading them one by one in config order from the then-warm cache.
The engine's control plane, health and MCP answer meanwhile, and status
lists every module of the config from the start: ``compiling`` while its
component compiles, then ``loading`` until its load has made a runner (or
refused it), so a scrape or ``cove module list`` never misses one between
the two. A compile that fails is not reported here: the module's ``load``
that follows meets the same problem and refuses it with the usual error.
A component given by ``sources`` is fetched here (into the content store);
a fetch that fails is remembered, and the load is refused with its error
rather than trying every source again (a stalled one would cost its
timeout twice).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable
from pathlib import Path

from .._hosts._wasm_runtime import Progress, WasmRuntime
from .._manifest import Manifest, load_manifest, read_pinned_component
from .._supply._component import load_error
from .._supply._resolve import Resolver
from ..errors import CoveError, FetchError, ModuleLoadError
from ._lifecycle import ModuleState


class Compiling:
    """The modules of the config not loaded yet, and which of them are compiling."""

    def __init__(self, runtime: WasmRuntime, resolver: Resolver, progress: Progress | None) -> None:
        self._runtime = runtime
        self._resolver = resolver
        self._progress = progress
        self.pending: dict[str, Manifest] = {}
        """Compiling now, by name."""
        self.waiting: dict[Path, Manifest] = {}
        """Not loaded yet (compiling or not), by path: ``loaded`` takes one off."""
        self._unfetched: dict[tuple[str, ...], FetchError] = {}
        """Resolutions that failed here, by pin and sources: the load is refused with
        that error instead of trying every source (and waiting out its timeout) again."""
        # A compile already spreads over the cores: more at once than cores only
        # adds memory (hundreds of MB per 18 MB component while it compiles).
        self._slots = asyncio.Semaphore(max(2, os.cpu_count() or 1))

    def states(self) -> Iterable[tuple[Manifest, ModuleState]]:
        return [
            (m, ModuleState.COMPILING if m.name in self.pending else ModuleState.LOADING)
            for m in list(self.waiting.values())
        ]

    def refusal(self, path: Path) -> ModuleLoadError | None:
        """Why the module at ``path`` cannot load, if the compile phase found out already."""
        manifest = self.waiting.get(path)
        if manifest is None or not manifest.module.sources:
            return None
        failed = self._unfetched.get(_resolution(manifest))
        return None if failed is None else load_error(manifest, failed)

    def loaded(self, path: Path) -> None:
        """The load of ``path`` ended: its runner (or its refusal) speaks for it now."""
        self.waiting.pop(path, None)

    async def compile_all(self, paths: Iterable[Path]) -> None:
        """Compile (or find in the cache) every wasm module under ``paths`` at once."""
        for path in paths:
            manifest = _manifest_or_none(path)
            if manifest is not None:
                self.waiting[path] = manifest
        manifests = list(self.waiting.values())
        by_pin: dict[str, list[Manifest]] = {}
        for manifest in manifests:  # unpinned: its load refuses it
            if manifest.module.kind == "wasm" and manifest.module.sha256:
                by_pin.setdefault(manifest.module.sha256, []).append(manifest)
        # Modules sharing one component compile it once.
        await asyncio.gather(*(self._compile(same) for same in by_pin.values()))

    async def _compile(self, manifests: list[Manifest]) -> None:
        for manifest in manifests:
            self.pending[manifest.name] = manifest
        try:
            async with self._slots:
                await asyncio.to_thread(self._compile_now, manifests[0])
        finally:
            for manifest in manifests:
                self.pending.pop(manifest.name, None)

    def _compile_now(self, manifest: Manifest) -> None:
        assert manifest.module.sha256 is not None  # compile_all takes pinned ones only
        if self._runtime.has_compiled(manifest.module.sha256):
            return  # not even read: the module's load reads it (and checks the pin)
        try:
            if manifest.module.sources:  # fetched into the store if need be
                wasm = self._resolver.read(manifest.module.sha256, manifest.component_sources)
            else:
                wasm = read_pinned_component(manifest)
            self._runtime.precompile(manifest.name, wasm, self._progress)
        except FetchError as exc:
            self._unfetched[_resolution(manifest)] = exc
        except CoveError:
            return  # its load refuses it with this error


def _resolution(manifest: Manifest) -> tuple[str, ...]:
    assert manifest.module.sha256 is not None
    return (manifest.module.sha256, *manifest.component_sources)


def _manifest_or_none(path: Path) -> Manifest | None:
    try:
        return load_manifest(path)
    except CoveError:
        return None  # its load refuses it
