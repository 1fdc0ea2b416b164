"""Pick the toolchain from the module's source: ``app.py`` (componentize-py) or ``app.js`` (componentize-js)."""

from __future__ import annotations

from pathlib import Path

from .._manifest import Manifest
from ._js_guest import build_js
from ..errors import BuildError
from ._python_guest import BuildResult, Progress, build_python


def build_module(
    manifest: Manifest, cache_dir: Path, progress: Progress | None = None
) -> BuildResult:
    """Build a wasm module from whichever source it has."""
    root = manifest.root
    if (root / "app.py").is_file():
        return build_python(manifest, cache_dir, progress=progress)
    if (root / "app.js").is_file():
        return build_js(manifest, cache_dir, progress=progress)
    raise BuildError(f"{root}: no app.py (Python) or app.js (JavaScript) to build")
