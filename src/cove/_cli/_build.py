"""``cove build``: compile a module to a component and pin its hash."""

from __future__ import annotations

import re
import time
from pathlib import Path

import click

from .._build._guest import build_module
from .._cache_dir import build_cache_dir, compiled_cache_dir
from .._manifest import load_manifest, manifest_path
from ..errors import CoveError

_PIN = re.compile(r'^sha256\s*=\s*"[^"]*"', re.M)


def write_pin(path: Path, pin: str) -> bool:
    """Rewrite ``sha256 = "..."`` in a manifest; True when the file changed."""
    text = path.read_text()
    if _PIN.search(text) is None:
        raise CoveError(f'{path}: no `sha256 = "..."` line under [module] to update')
    new = _PIN.sub(f'sha256 = "{pin}"', text, count=1)
    if new == text:
        return False
    path.write_text(new)
    return True


@click.command("build")
@click.argument(
    "module_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=Path(".")
)
@click.option(
    "--pin/--no-pin", default=True, show_default=True, help="Write the sha256 pin into cove.toml."
)
@click.option(
    "--cache-dir",
    type=click.Path(path_type=Path),
    default=None,
    envvar="COVE_BUILD_CACHE",
    help="Where built components are cached by their inputs (env: COVE_BUILD_CACHE; "
    "default: the per-user cache, $COVE_CACHE_DIR/builds or e.g. ~/.cache/cove/builds).",
)
@click.option(
    "--compile/--no-compile",
    "precompile",
    default=True,
    show_default=True,
    help="Also compile the component to machine code into the per-user compiled cache, "
    "so the first `cove run`, `check` or `mcp` starts without compiling.",
)
def build_command(module_dir: Path, pin: bool, cache_dir: Path | None, precompile: bool) -> None:
    """Compile a module (app.py with componentize-py, app.js with componentize-js) to a component."""
    start = time.monotonic()
    cache_dir = cache_dir or build_cache_dir()
    try:
        manifest = load_manifest(module_dir)
        if manifest.module.kind != "wasm":
            raise CoveError(
                f"{manifest_path(module_dir)}: module.kind is {manifest.module.kind!r}; nothing to build"
            )
        result = build_module(
            manifest, cache_dir.resolve(), progress=lambda m: click.echo(f"… {m}")
        )
        changed = pin and write_pin(manifest_path(module_dir), result.sha256)
        if precompile:
            _precompile(manifest.name, result.path)
    except CoveError as exc:
        raise click.ClickException(str(exc)) from None
    how = "cache hit" if result.cached else "built"
    click.echo(f"{how}: {result.path} ({result.sha256}) in {time.monotonic() - start:.2f}s")
    if changed:
        click.echo(f"pinned {result.sha256} in {manifest_path(module_dir)}")


def _precompile(module: str, component: Path) -> None:
    """Warm the compiled cache every engine and command reads (a hit when unchanged): the
    optimized code, compiled here, so no engine starts on Winch's (``[wasm] compiler``)."""
    from .._hosts._wasm_runtime import WasmRuntime  # wasmtime: only when compiling

    runtime = WasmRuntime(compiled_cache_dir())
    try:
        runtime.load(module, component.read_bytes(), lambda m: click.echo(f"… {m}"))
    finally:
        runtime.close()
