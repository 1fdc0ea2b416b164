"""Write manifests and engine configs for tests; build real components once."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from cove._build._python_guest import build_python
from cove._cli._build import write_pin
from cove._manifest import load_manifest, sha256_pin

REPO = Path(__file__).resolve().parents[2]
ASSETS = REPO / "tests" / "assets"
EXAMPLES = REPO / "examples"
CACHE = REPO / ".cove" / "test-cache"


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(value)


def write_manifest(
    directory: Path,
    name: str,
    *,
    kind: str = "wasm",
    component: Path | None = None,
    entry: str | None = None,
    required: list[str] | None = None,
    optional: list[str] | None = None,
    http_allow: list[str] | None = None,
    emit: list[str] | None = None,
    resources: dict[str, Any] | None = None,
    restart: dict[str, Any] | None = None,
    config: dict[str, Any] | None = None,
    subscriptions: list[dict[str, Any]] | None = None,
    tools: bool = False,
    migrate: bool = False,
) -> Path:
    """A module directory with a cove.toml; a component is pinned by its real hash."""
    directory.mkdir(parents=True, exist_ok=True)
    lines = ["[module]", f'name = "{name}"', 'version = "0.1.0"', f'kind = "{kind}"']
    if component is not None:
        # A private copy: a concurrent rebuild of the shared cache must not
        # change the bytes under a running test.
        local = directory / component.name
        if local != component:
            shutil.copyfile(component, local)
        lines += [f'component = "{local.name}"', f'sha256 = "{sha256_pin(local.read_bytes())}"']
    if entry is not None:
        lines.append(f'entry = "{entry}"')
    lines += [
        "",
        "[capabilities]",
        f"required = {toml_value(required or [])}",
        f"optional = {toml_value(optional or [])}",
    ]
    if http_allow is not None:
        lines += ["", "[capabilities.http]", f"allow = {toml_value(http_allow)}"]
    if emit is not None:
        lines += ["", "[capabilities.events]", f"emit = {toml_value(emit)}"]
    for table, values in (("resources", resources), ("restart", restart), ("config", config)):
        if values:
            lines += ["", f"[{table}]"] + [f"{k} = {toml_value(v)}" for k, v in values.items()]
    if tools:
        lines += ["", "[tools]", "enabled = true"]
    if migrate:
        lines += ["", "[migrate]", "enabled = true"]
    for sub in (
        subscriptions if subscriptions is not None else [{"kind": "custom", "name": "probe.*"}]
    ):
        lines += ["", "[[subscription]]"] + [f"{k} = {toml_value(v)}" for k, v in sub.items()]
    path = directory / "cove.toml"
    path.write_text("\n".join(lines) + "\n")
    return directory


WASM_CALL_PATH: str | None = None
"""Set by the ``call_path`` fixture: the engine configs written then use that path."""


def native_counter(directory: Path, name: str, transport: str, subscribe: str = "probe.*") -> Path:
    """tests/assets/native_counter as module ``name``: one state increment and one message
    through ``transport`` per custom event matching ``subscribe``."""
    module = write_manifest(
        directory / name,
        name,
        kind="python",
        entry="counter:Counter",
        required=["store", "messaging"],
        config={"transport": transport},
        subscriptions=[{"kind": "custom", "name": subscribe}],
    )
    for source in (ASSETS / "native_counter").glob("*.py"):
        (module / source.name).write_text(source.read_text())
    return module


def native_gated(directory: Path) -> Path:
    """tests/assets/native_gated as module ``gated``: it holds each event while
    ``directory/gate`` exists (and notes each event it enters in ``directory/entered``)."""
    module = write_manifest(
        directory / "gated",
        "gated",
        kind="python",
        entry="gated:Gated",
        required=["store"],
        config={
            "gate_file": str(directory / "gate"),
            "entered_file": str(directory / "entered"),
        },
        subscriptions=[{"kind": "custom", "name": "probe.*"}],
    )
    for source in (ASSETS / "native_gated").glob("*.py"):
        (module / source.name).write_text(source.read_text())
    return module


def write_engine_config(path: Path, modules: list[Path], extra: str = "") -> Path:
    body = f"data_dir = {toml_value(str(path.parent / 'data'))}\n"
    body += f"modules = {toml_value([str(m) for m in modules])}\n"
    body += "[wasm]\n" + f"cache_dir = {toml_value(str(CACHE / 'compiled'))}\n"
    if WASM_CALL_PATH is not None:
        body += f"call_path = {toml_value(WASM_CALL_PATH)}\n"
    body += extra
    path.write_text(body)
    return path


def build_guest(
    asset: str,
    capabilities: list[str],
    *,
    tools: bool = False,
    host_wit: str | None = None,
    migrate: bool = False,
) -> Path:
    """Build tests/assets/<asset> (a Python guest) declaring ``capabilities``; cached.
    ``asset`` may be a path below tests/assets (``attacks/sleeper``): its last part names it.

    ``tools``: the manifest has ``[tools] enabled = true`` (the tool-module world).
    ``host_wit``: the contract to build against, when not the current host.wit.
    ``migrate``: the manifest has ``[migrate] enabled = true`` (the migrate-module world).
    """
    # Keyed by process: parallel pytest runs in one tree must not rebuild
    # each other's work directory; the build cache (by input digest) is shared.
    name = Path(asset).name
    work = CACHE / "guests" / f"{name}-{'-'.join(sorted(capabilities))}-{os.getpid()}"
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(ASSETS / asset, work, ignore=shutil.ignore_patterns("__pycache__"))
    write_manifest(
        work,
        name,
        component=None,
        kind="wasm",
        optional=capabilities,
        tools=tools,
        migrate=migrate,
    )
    text = (
        (work / "cove.toml")
        .read_text()
        .replace('kind = "wasm"', f'kind = "wasm"\ncomponent = "{name}.wasm"')
    )
    (work / "cove.toml").write_text(text)
    result = build_python(load_manifest(work), CACHE / "builds", host_wit=host_wit)
    return result.path


def example_module(name: str, directory: Path, replace: dict[str, str] | None = None) -> Path:
    """A copy of examples/<name> in ``directory``, built (cached by inputs) and pinned.

    ``replace`` rewrites text in its cove.toml first (ports, a faster schedule),
    so a test runs the shipped module with only those lines changed.
    """
    shutil.copytree(
        EXAMPLES / name, directory, ignore=shutil.ignore_patterns("__pycache__", "*.wasm")
    )
    path = directory / "cove.toml"
    text = path.read_text()
    for old, new in (replace or {}).items():
        assert old in text, f"{old!r} is not in examples/{name}/cove.toml"
        text = text.replace(old, new)
    path.write_text(text)
    write_pin(path, build_python(load_manifest(directory), CACHE / "builds").sha256)
    return directory


def recorder_module(
    tmp_path: Path,
    subscriptions: list[dict[str, Any]],
    *,
    required: list[str] | None = None,
    config: dict[str, Any] | None = None,
) -> Path:
    """tests/assets/recorder (a native plugin that records what it handles in its state)."""
    directory = tmp_path / "recorder"
    directory.mkdir(exist_ok=True)
    shutil.copy(ASSETS / "recorder" / "recorder.py", directory / "recorder.py")
    return write_manifest(
        directory,
        "recorder",
        kind="python",
        entry="recorder:Recorder",
        required=required or ["store"],
        config=config,
        subscriptions=subscriptions,
    )
