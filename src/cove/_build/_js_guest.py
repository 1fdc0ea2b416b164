"""Compile a JavaScript module to a component with componentize-js, cached by inputs.

componentize-js comes from npm; it is looked up in the module's
``node_modules``, then in each parent directory's (a repository-level
install), then on PATH, so a module needs no install of its own.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

from .._manifest import Manifest, sha256_pin
from ..errors import BuildError
from ._python_guest import BuildResult, Progress
from ._world import BUILD_WORLD, HOST_WIT_0_1, module_world

INSTALL = "npm install @bytecodealliance/componentize-js @bytecodealliance/jco"
# WASI the engine grants nothing of anyway; disabling it keeps the imports small.
_DISABLED = ("stdio", "random", "clocks", "http", "fetch-event")


def componentize_js(start: Path) -> Path:
    """The componentize-js executable nearest to ``start``."""
    for directory in (start, *start.parents):
        candidate = directory / "node_modules" / ".bin" / "componentize-js"
        if candidate.exists():
            return candidate
    found = shutil.which("componentize-js")
    if found is None:
        raise BuildError(
            "componentize-js is not in node_modules/.bin here or in a parent directory, "
            f"nor on PATH; install it with: {INSTALL}"
        )
    return Path(found)


def _version(tool: Path) -> str:
    package = tool.resolve().parent.parent / "package.json"
    try:
        return str(json.loads(package.read_text())["version"])
    except (OSError, ValueError, KeyError):
        return "unknown"


def _inputs_digest(manifest: Manifest, tool: Path, world: str) -> str:
    digest = hashlib.sha256()
    digest.update(_version(tool).encode())
    digest.update(world.encode())
    digest.update(" ".join(_DISABLED).encode())
    for path in sorted(manifest.root.rglob("*.js")):
        if "node_modules" in path.parts:
            continue
        digest.update(str(path.relative_to(manifest.root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def build_js(
    manifest: Manifest, cache_dir: Path, *, app: str = "app", progress: Progress | None = None
) -> BuildResult:
    """Build ``<module dir>/<app>.js`` into the manifest's ``component`` path."""
    start = time.monotonic()
    tool = componentize_js(manifest.root)
    world = module_world(manifest, HOST_WIT_0_1.read_text())
    cached = cache_dir / f"build-js-{_inputs_digest(manifest, tool, world)}.wasm"
    was_cached = cached.exists()
    if not was_cached:
        if progress:
            progress(f"building {manifest.name} with componentize-js (takes ~30 s the first time)")
        _componentize(manifest, tool, app, world, cached)
    data = cached.read_bytes()
    out = manifest.component_path
    if not out.exists() or out.read_bytes() != data:
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(cached, out)
    return BuildResult(out, sha256_pin(data), was_cached, time.monotonic() - start)


def _componentize(manifest: Manifest, tool: Path, app: str, world: str, target: Path) -> None:
    work = target.with_suffix(".work")
    shutil.rmtree(work, ignore_errors=True)
    (work / "wit").mkdir(parents=True)
    try:
        (work / "wit" / "host.wit").write_text(world)
        # Relative paths from inside the work dir: componentize-js reads the WIT
        # from a WASI sandbox that sees only its current directory.
        command = [
            str(tool), str(manifest.root / f"{app}.js"),
            "--wit", "wit", "--world-name", BUILD_WORLD,
            "--disable", *_DISABLED,
            "--out", "out.wasm",
        ]  # fmt: skip
        proc = subprocess.run(command, cwd=work, capture_output=True, text=True, check=False)
        if proc.returncode != 0 or not (work / "out.wasm").exists():
            detail = (proc.stderr or proc.stdout).strip().splitlines()[-15:]
            raise BuildError(
                f"componentize-js failed for module {manifest.name!r}:\n  " + "\n  ".join(detail)
            )
        os.replace(work / "out.wasm", target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
