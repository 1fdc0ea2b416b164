"""``cove check``: every problem with a module, found at once, each with its file and key.

Loading stops at the first refusal, which is right for an engine and slow
for an author fixing things one run at a time. This walks the same checks
(schema, grants, pin, component validity, contract version and imports,
then a real ``init`` so typed config is checked) and keeps going.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

import wasmtime

from ._capabilities._calls import HostCalls
from ._capabilities._effects import EventEffects
from ._capabilities._grants import Grants, resolve_grants
from ._capabilities._identity import unlock_identity
from ._capabilities._secrets import module_secrets
from ._config import EngineConfig
from ._hosts._base import ModuleHost
from ._hosts._native_host import NativeModuleHost, load_plugin_class
from ._hosts._wasm_contract import contract_problems
from ._hosts._wasm_host import WasmModuleHost
from ._hosts._wasm_runtime import WasmRuntime
from ._manifest import Manifest, load_manifest, manifest_path, sha256_pin
from ._supply._component import read_component, resolver_for
from ._types import EmptyState
from .errors import ConfigError, CoveError, ManifestError, ModuleError, ModuleLoadError

_DECORATORS = {
    "on_block": "block",
    "on_log": "log",
    "on_tick": "tick",
    "on_message": "message",
    "on_webhook": "webhook",
}


@dataclass(frozen=True, slots=True)
class Problem:
    file: Path
    key: str
    message: str

    def __str__(self) -> str:
        return (
            f"{self.file}: {self.key}: {self.message}"
            if self.key
            else f"{self.file}: {self.message}"
        )


@dataclass
class CheckReport:
    manifest: Manifest | None = None
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    imports: frozenset[str] = frozenset()


def check_module(path: Path, config: EngineConfig, runtime: WasmRuntime) -> CheckReport:
    """Check the module at ``path`` against ``config`` (the operator's policy, if any)."""
    report = CheckReport()
    file = manifest_path(path)
    try:
        manifest = load_manifest(path)
    except ManifestError as exc:
        # The schema errors already list every key; later checks need a valid manifest.
        head, *lines = str(exc).splitlines()
        if not lines:
            report.problems.append(Problem(file, "", head.removeprefix(f"{file}: ")))
        for line in lines:
            key, _, message = line.strip().partition(": ")
            report.problems.append(Problem(file, key, message))
        return report
    try:
        manifest = config.configured(manifest)
    except ConfigError as exc:
        report.problems.append(_engine_config_problem(config, exc))
    try:  # an unset variable or unreadable file, found before deploying (values unused)
        module_secrets(manifest.name, config)
    except ConfigError as exc:
        report.problems.append(_engine_config_problem(config, exc))
    report.manifest = manifest
    try:
        grants = resolve_grants(manifest, config)
    except ModuleError as exc:
        report.problems.append(Problem(file, "capabilities.required", exc.reason))
        grants = resolve_grants(_all_optional(manifest), config)
    module_key = config.identity.modules.get(manifest.name)
    if module_key is not None and grants.allows("identity"):
        try:  # a wrong passphrase or a missing keystore, found before deploying
            unlock_identity(manifest.name, module_key, config.root)
        except ModuleError as exc:
            report.problems.append(Problem(file, "capabilities.identity", exc.reason))
    if manifest.module.kind == "wasm":
        host = _check_component(manifest, file, grants, runtime, config, report)
        _check_handlers(manifest, file, report)
    else:
        host = _check_plugin(manifest, file, report)
    if host is not None:
        _check_init(manifest, file, grants, host, report)
    elif report.problems:
        report.warnings.append(
            Problem(file, "", "init was not run (it checks typed config) until the module loads")
        )
    return report


def _engine_config_problem(config: EngineConfig, exc: ConfigError) -> Problem:
    """An error about the module's sections of the engine config, against that file."""
    return Problem(config.source, "", str(exc).removeprefix(f"{config.source}: "))


def _all_optional(manifest: Manifest) -> Manifest:
    """The manifest with nothing required, whose grants never refuse: the checks go on."""
    caps = manifest.capabilities
    relaxed = caps.model_copy(update={"required": [], "optional": sorted(caps.declared)})
    return manifest.model_copy(update={"capabilities": relaxed})


def _check_component(
    manifest: Manifest,
    file: Path,
    grants: Grants,
    runtime: WasmRuntime,
    config: EngineConfig,
    report: CheckReport,
) -> ModuleHost | None:
    if manifest.module.sources:
        try:  # the engine's resolution: the content store, then each source
            wasm = read_component(manifest, resolver_for(config))
        except ModuleLoadError as exc:
            report.problems.append(Problem(file, "module.sources", exc.reason))
            return None
        path = Path(manifest.module.component or f"component {manifest.module.sha256}")
    else:
        path = manifest.component_path
        try:
            wasm = path.read_bytes()
        except OSError as exc:
            report.problems.append(
                Problem(
                    file,
                    "module.component",
                    f"cannot read {path} ({exc.strerror}); run `cove build`",
                )
            )
            return None
    actual = sha256_pin(wasm)
    if manifest.module.sha256 != actual:
        pinned = manifest.module.sha256 or "nothing"
        report.problems.append(
            Problem(
                file,
                "module.sha256",
                f"pins {pinned} but {path.name} is {actual}; run `cove build` (it writes the pin)",
            )
        )
    try:
        component = runtime.load(manifest.name, wasm)
    except ModuleError as exc:
        report.problems.append(Problem(file, "module.component", exc.reason))
        return None
    contract, problems = contract_problems(
        runtime.engine,
        component,
        grants.declared,
        manifest.tools.enabled,
        bool(manifest.hook),
        manifest.migrate.enabled,
    )
    report.imports = contract.interfaces
    report.problems += [Problem(file, "module.component", f"{path.name} {p}") for p in problems]
    if problems:
        return None
    try:
        return WasmModuleHost(
            runtime, manifest, grants, wasm, lambda *a: None, call_path=config.wasm.call_path
        )
    except (CoveError, wasmtime.WasmtimeError) as exc:
        report.problems.append(Problem(file, "module.component", str(exc)))
        return None


def _check_plugin(manifest: Manifest, file: Path, report: CheckReport) -> ModuleHost | None:
    try:
        return NativeModuleHost(manifest, load_plugin_class(manifest))
    except ModuleError as exc:
        report.problems.append(Problem(file, "module.entry", exc.reason))
        return None


def _check_init(
    manifest: Manifest, file: Path, grants: Grants, host: ModuleHost, report: CheckReport
) -> None:
    """Run ``init`` for real: a typed-config check (``load_config``) fails here."""
    effects = EventEffects(manifest.name, EmptyState(), grants.limits.state_bytes)
    calls = HostCalls(grants, effects, dict(manifest.config), None, lambda *a: None, "check")
    try:
        host.init(calls)
    except ModuleError as exc:
        key = "config" if "ConfigError" in exc.reason or "config." in exc.reason else "init"
        report.problems.append(Problem(file, key, exc.reason))
    finally:
        host.close()


def _check_handlers(manifest: Manifest, file: Path, report: CheckReport) -> None:
    """Handlers and subscriptions should pair up; a lone one is almost always a mistake."""
    app = manifest.root / "app.py"
    try:
        tree = ast.parse(app.read_text(), str(app))
    except (OSError, SyntaxError):
        return  # the component was built from it, so the build reported any of this
    handled: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for deco in node.decorator_list:
                kind = _decorator_kind(deco)
                if kind is not None:
                    handled.add(kind)
    subscribed = {s.kind for s in manifest.subscription}
    for kind in sorted(handled - subscribed):
        report.warnings.append(
            Problem(
                app,
                "",
                f"a {kind} handler, but no [[subscription]] with kind = {kind!r} in cove.toml: it never runs",
            )
        )
    for index, sub in enumerate(manifest.subscription):
        if sub.kind not in handled:
            report.warnings.append(
                Problem(
                    file,
                    f"subscription[{index}]",
                    f"{sub.kind} events are delivered but app.py has no handler for them",
                )
            )


def _decorator_kind(deco: ast.expr) -> str | None:
    if isinstance(deco, ast.Name):
        return _DECORATORS.get(deco.id)
    if isinstance(deco, ast.Attribute):
        return _DECORATORS.get(deco.attr)
    if isinstance(deco, ast.Call) and deco.args and isinstance(deco.args[0], ast.Constant):
        func = deco.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        if name == "on_event" and isinstance(deco.args[0].value, str):
            return deco.args[0].value
    return None
