"""``cove check``: validate a manifest and its component without running it."""

from __future__ import annotations

from pathlib import Path

import click

from .._config import EngineConfig
from .._engine._loader import build_host
from .._hosts._wasm_runtime import WasmRuntime
from .._manifest import load_manifest
from ..errors import CoveError


@click.command("check")
@click.argument("module_dir", type=click.Path(exists=True, path_type=Path), default=Path("."))
@click.option(
    "--cache-dir", type=click.Path(path_type=Path), default=Path(".cove/cache"), show_default=True
)
def check_command(module_dir: Path, cache_dir: Path) -> None:
    """Check the manifest, the hash pin, the grants and the component's imports."""
    runtime = WasmRuntime(cache_dir.resolve())
    try:
        manifest = load_manifest(module_dir)
        loaded = build_host(manifest, EngineConfig(), runtime, lambda *a: None)
        loaded.host.close()
    except CoveError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        runtime.close()
    click.echo(f"ok: {manifest.name} {manifest.module.version} ({manifest.module.kind})")
