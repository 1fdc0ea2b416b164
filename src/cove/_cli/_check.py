"""``cove check``: validate a module without running it, reporting every problem at once."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .._config import EngineConfig, load_config
from .._config_overrides import ModuleOverrides
from .._hosts import _fast_call
from .._hosts._wasm_runtime import WasmRuntime
from .._module_check import check_module
from ..errors import CoveError


@click.command("check")
@click.argument("module_dir", type=click.Path(exists=True, path_type=Path), default=Path("."))
@click.option(
    "--cache-dir", type=click.Path(path_type=Path), default=None,
    help="Compiled-component cache (default: the per-user cache every engine and command shares, $COVE_CACHE_DIR/compiled or e.g. ~/.cache/cove/compiled).",
)  # fmt: skip
@click.option(
    "--engine-config", "engine_config", type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None, help="Also check against this engine config: its policy (denied capabilities), its chains, that the module's identity key unlocks, and its [overrides.<name>] (the merged config is shown; granted secrets must be readable).",
)  # fmt: skip
def check_command(module_dir: Path, cache_dir: Path | None, engine_config: Path | None) -> None:
    """Check the manifest, grants, pin, the component's contract and imports, and init.

    Every problem is listed with its file and key; the exit status is 1 if any.
    """
    try:
        config = load_config(engine_config) if engine_config else EngineConfig()
    except CoveError as exc:
        raise click.ClickException(str(exc)) from None
    runtime = WasmRuntime(cache_dir.resolve() if cache_dir else config.cache_path)
    try:
        report = check_module(module_dir, config, runtime)
    finally:
        runtime.close()
    for warning in report.warnings:
        click.echo(f"warning: {warning}")
    if report.problems:
        for problem in report.problems:
            click.echo(f"✗ {problem}", err=True)
        click.echo(f"{len(report.problems)} problem(s); nothing was loaded", err=True)
        raise SystemExit(1)
    manifest = report.manifest
    assert manifest is not None
    imports = f"; imports {', '.join(sorted(report.imports - {'types'}))}" if report.imports else ""
    if manifest.module.kind == "wasm":
        path = config.wasm.call_path
        if _fast_call.UNAVAILABLE is not None:
            how = f" unusable ({_fast_call.UNAVAILABLE})"
        else:
            how = f", {_fast_call.implementation()}" if path == "fast" else ""
        click.echo(f"wasm call path: {path}{how}")
    if engine_config is not None and manifest.config:
        _show_config(manifest.config, config.overrides.get(manifest.name))
    click.echo(f"ok: {manifest.name} {manifest.module.version} ({manifest.module.kind}){imports}")


def _show_config(merged: dict[str, object], overrides: ModuleOverrides | None) -> None:
    """The config the module's init and handlers see, each operator value marked."""
    changed = overrides.config if overrides is not None else {}
    click.echo("config (manifest [config] with the engine config's overrides):")
    for key, value in sorted(merged.items()):
        mark = "  (overridden)" if key in changed else ""
        click.echo(f"  {key} = {json.dumps(value)}{mark}")
