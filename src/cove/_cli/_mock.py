"""``cove run --mock FIXTURE``: build (cached), run one module on a fixture, print a transcript.

``--watch`` reruns on every change to the module's files or the fixture, so
the loop is edit → save → read the transcript.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from .._build._guest import build_module
from .._cache_dir import build_cache_dir, compiled_cache_dir
from .._manifest import Manifest, load_manifest, manifest_path
from .._mock._fixture import load_fixture
from .._mock._session import MockResult, MockSession
from ..errors import CoveError
from ._build import write_pin

console = Console(highlight=False, soft_wrap=True)
_IGNORED_PARTS = frozenset({".cove", "__pycache__", ".pytest_cache", ".git", "node_modules"})


def _caches() -> tuple[Path, Path]:
    """(build cache, compiled-component cache): the user's, shared with ``cove build``,
    ``check`` and every engine (both are keyed by content); ``COVE_BUILD_CACHE``
    still moves the builds."""
    builds = os.environ.get("COVE_BUILD_CACHE")
    return (Path(builds).resolve() if builds else build_cache_dir()), compiled_cache_dir()


def _prepare(module_dir: Path) -> Manifest:
    """The manifest, with a wasm module's component rebuilt (a cache hit when unchanged)."""
    manifest = load_manifest(module_dir)
    sources = ("app.py", "app.js")
    if manifest.module.kind != "wasm" or not any((module_dir / s).is_file() for s in sources):
        return manifest  # a native plugin, or a component built elsewhere
    result = build_module(
        manifest, _caches()[0], progress=lambda m: console.print(f"[yellow]…[/] {m}")
    )
    if write_pin(manifest_path(module_dir), result.sha256):
        console.print(f"[yellow]…[/] pinned {result.sha256} in cove.toml")
        manifest = load_manifest(module_dir)
    return manifest


def run_once(module_dir: Path, fixture_path: Path) -> MockResult | None:
    """One build + run; None when the module or the fixture could not be read."""
    try:
        manifest = _prepare(module_dir)
        fixture = load_fixture(fixture_path)
        session = MockSession(manifest, fixture, fixture_path, _caches()[1], console.print)
    except CoveError as exc:
        console.print(f"[red]error[/]: {escape(str(exc))}")
        return None
    console.print(
        f"[bold]▶ {manifest.name}[/] ({manifest.module.kind}) · "
        f"{len(session.events)} event(s) from {escape(str(fixture_path))}"
    )
    return asyncio.run(session.run())


def _relevant(module_dir: Path, fixture_path: Path, changed: Iterable[tuple[object, str]]) -> bool:
    for _, name in changed:
        path = Path(name).resolve()
        if path == fixture_path:
            return True
        if path.suffix == ".wasm" or _IGNORED_PARTS & set(path.parts):
            continue
        if path.is_relative_to(module_dir):
            return True
    return False


def run_mock(module_dir: Path, fixture_path: Path, watch: bool) -> None:
    module_dir, fixture_path = module_dir.resolve(), fixture_path.resolve()
    result = run_once(module_dir, fixture_path)
    if not watch:
        raise SystemExit(0 if result is not None and result.ok else 1)
    import watchfiles  # only --watch needs it; keep plain runs quick to start

    manifest_file = module_dir / "cove.toml"
    pinned, announce = manifest_file.read_text(), True
    changes = watchfiles.watch(
        module_dir, fixture_path.parent, yield_on_timeout=True, rust_timeout=200
    )
    for changed in changes:
        if not changed:
            # The first quiet interval: the watcher is running, so say so.
            if announce:
                console.print("[dim]watching for changes (Ctrl-C stops)[/]")
                announce = False
            continue
        own_pin = manifest_file.read_text() == pinned and all(
            Path(name).resolve() == manifest_file for _, name in changed
        )
        if own_pin or not _relevant(module_dir, fixture_path, changed):
            continue
        console.rule("change detected")
        run_once(module_dir, fixture_path)
        pinned, announce = manifest_file.read_text(), True
