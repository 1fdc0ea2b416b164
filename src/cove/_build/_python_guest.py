"""Compile a Python module to a component with componentize-py, cached by inputs."""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .._manifest import Manifest, sha256_pin
from ..errors import BuildError
from ._world import BUILD_WORLD, module_world

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class BuildResult:
    path: Path
    sha256: str
    cached: bool
    seconds: float


def sdk_dir() -> Path:
    spec = importlib.util.find_spec("cove_sdk")
    if spec is None or spec.origin is None:
        raise BuildError(
            "the guest SDK (cove-sdk) is not installed; run: pip install -e sdk/python"
        )
    return Path(spec.origin).parent.parent


def componentize_py() -> str:
    beside = Path(sys.executable).with_name("componentize-py")
    found = str(beside) if beside.exists() else shutil.which("componentize-py")
    if found is None:
        raise BuildError("componentize-py is not installed; run: pip install componentize-py")
    return found


def _inputs_digest(manifest: Manifest, app: str, world: str, sdk: Path) -> str:
    digest = hashlib.sha256()
    digest.update(importlib.metadata.version("componentize-py").encode())
    digest.update(app.encode())
    digest.update(world.encode())
    for root in (manifest.root, sdk / "cove_sdk"):
        for path in sorted(root.rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def build_python(
    manifest: Manifest,
    cache_dir: Path,
    *,
    app: str = "app",
    progress: Progress | None = None,
    host_wit: str | None = None,
    sdk: Path | None = None,
) -> BuildResult:
    """Build ``<module dir>/<app>.py`` into the manifest's ``component`` path.

    ``host_wit``: the contract's text to build against, when not the current
    host.wit (tests build a cove:host@0.1 component from the pinned copy).
    ``sdk``: the directory holding the ``cove_sdk`` package to build with, when
    not the installed one (bench/fast_path.py times an older SDK beside this one).
    """
    sdk = sdk or sdk_dir()
    start = time.monotonic()
    if manifest.module.component is None:
        raise BuildError(f"{manifest.root / 'cove.toml'}: module.component is not set")
    out = manifest.component_path
    world = module_world(manifest, host_wit)
    digest = _inputs_digest(manifest, app, world, sdk)
    cached = cache_dir / f"build-{digest}.wasm"
    was_cached = cached.exists()
    if not was_cached:
        if progress:
            progress(
                f"building {manifest.name} with componentize-py "
                "(about 20 s on a quiet machine; unchanged inputs are a cache hit after)"
            )
        _componentize(manifest, app, world, cached, sdk)
    data = cached.read_bytes()
    if not out.exists() or out.read_bytes() != data:
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(cached, out)
    return BuildResult(out, sha256_pin(data), was_cached, time.monotonic() - start)


def _componentize(manifest: Manifest, app: str, world: str, target: Path, sdk: Path) -> None:
    # A work path named by the inputs' digest and this process: two builds of
    # the same inputs at once (parallel test runs) must not delete each
    # other's work; the finished component lands with an atomic replace.
    work = target.with_name(f"{target.stem}.{os.getpid()}.work")
    shutil.rmtree(work, ignore_errors=True)
    (work / "wit").mkdir(parents=True)
    try:
        (work / "wit" / "host.wit").write_text(world)
        command = [
            componentize_py(),
            "-d", str(work / "wit"),
            "-w", BUILD_WORLD,
            "componentize", app,
            "-p", str(manifest.root),
            "-p", str(sdk),
            "-o", str(work / "out.wasm"),
        ]  # fmt: skip
        proc = subprocess.run(command, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            detail = (proc.stderr or proc.stdout).strip().splitlines()[-15:]
            raise BuildError(
                f"componentize-py failed for module {manifest.name!r}:\n  " + "\n  ".join(detail)
            )
        os.replace(work / "out.wasm", target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
