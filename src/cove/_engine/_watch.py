"""Watch (``[watch] enabled``): a loaded module whose manifest or component changes on disk is
reloaded through the same path as ``cove module reload``.

Design note: one ``watchfiles`` watch over the directories of the loaded
modules and of their components, restarted when a module is loaded or
unloaded (``refresh``). Changes within the debounce make one reload, so a build that writes the component and
then its pin is one swap, not two. A refused candidate is reported exactly as a
manual reload's refusal (the module's last error, the ``reload refused`` log
line) and the old version keeps running; the next change tries again.
Rejected: polling each file's mtime ourselves (watchfiles uses inotify, and
is already the dependency of ``cove run --mock --watch``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from pathlib import Path

import watchfiles

from .._manifest import Manifest
from ..errors import CoveError

Reload = Callable[[str], Awaitable[object]]
_ARMED_MS = 200
"""How soon after (re)starting the watch ``watching`` is set."""


def watched_files(manifest: Manifest) -> Callable[[Path], bool]:
    """Which paths make the module reload: its cove.toml, its local component (wasm; one
    given by ``sources`` alone changes through its pin, in cove.toml) or its Python
    source (a native plugin)."""
    root = manifest.root.resolve()
    manifest_file = root / "cove.toml"
    component = _component(manifest)
    native = manifest.module.kind == "python"

    def watched(path: Path) -> bool:
        if path == manifest_file or path == component:
            return True
        return native and path.suffix == ".py" and path.parent == root

    return watched


def watched_dirs(manifests: Iterable[Manifest]) -> set[Path]:
    """The directories to watch: each module's own, and the one its component is in (a
    component may live below it, e.g. ``build/``, or beside it)."""
    dirs: set[Path] = set()
    for manifest in manifests:
        dirs.add(manifest.root.resolve())
        if (component := _component(manifest)) is not None:
            dirs.add(component.parent)
    return dirs


def _component(manifest: Manifest) -> Path | None:
    if manifest.module.kind != "wasm" or manifest.module.component is None:
        return None
    return manifest.component_path.resolve()


class ModuleWatcher:
    """Reloads the loaded modules whose files change; ``run`` until cancelled."""

    def __init__(
        self, manifests: Callable[[], Mapping[str, Manifest]], reload: Reload, debounce_ms: int
    ) -> None:
        self._manifests = manifests
        self._reload = reload
        self._debounce_ms = debounce_ms
        self._changed = asyncio.Event()
        self.watching: frozenset[Path] = frozenset()
        """The directories watched now (empty until the first watch is in place)."""

    def refresh(self) -> None:
        """The set of loaded modules changed: watch their directories anew."""
        self._changed.set()

    async def run(self) -> None:
        while True:
            self._changed = asyncio.Event()
            manifests = dict(self._manifests())
            roots = watched_dirs(manifests.values())
            self.watching = frozenset()
            if not roots:
                await self._changed.wait()
                continue
            # yield_on_timeout: an empty set once the watch is in place, so ``watching``
            # says when an edit will be seen.
            async for changes in watchfiles.awatch(
                *roots,
                debounce=self._debounce_ms,
                stop_event=self._changed,
                recursive=False,
                rust_timeout=_ARMED_MS,
                yield_on_timeout=True,
            ):
                self.watching = frozenset(roots)
                paths = [Path(path) for _, path in changes]  # under the resolved roots
                for name in _affected(dict(self._manifests()), paths):
                    await self._reload_one(name)

    async def _reload_one(self, name: str) -> None:
        try:
            await self._reload(name)
        except CoveError:
            pass  # the engine reported it as for a manual reload; the old version runs on
        except KeyError:
            pass  # unloaded meanwhile


def _affected(manifests: dict[str, Manifest], paths: list[Path]) -> list[str]:
    return sorted(
        name for name, manifest in manifests.items() if any(map(watched_files(manifest), paths))
    )


__all__ = ["ModuleWatcher", "watched_dirs", "watched_files"]
