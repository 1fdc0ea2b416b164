"""Turning a manifest into a running host: hash check, grants, contract, instantiate."""

from __future__ import annotations

from dataclasses import dataclass

from .._capabilities._grants import Grants, resolve_grants
from .._capabilities._identity import Identity, module_identity
from .._capabilities._secrets import ModuleSecrets, module_secrets
from .._config import EngineConfig
from .._hosts._base import ModuleHost
from .._hosts._guest_output import OutputSink
from .._hosts._native_host import (
    NativeModuleHost,
    load_plugin_class,
    with_class_subscriptions,
)
from .._hosts._wasm_host import WasmModuleHost
from .._hosts._wasm_runtime import Progress, WasmRuntime
from .._manifest import Manifest
from .._supply._component import read_component, resolver_for


@dataclass(frozen=True, slots=True)
class LoadedModule:
    manifest: Manifest
    grants: Grants
    host: ModuleHost
    identity: Identity | None = None
    """The module's unlocked key, when it has ``identity`` and the operator assigned one."""
    hook_host: ModuleHost | None = None
    """Where its ``[[hook]]`` calls go: a wasm module's own second instance, so a hook
    never waits for (or runs inside) an event; a plugin's one object."""
    secrets: ModuleSecrets | None = None
    """The values of the secrets the operator granted it, for the host to fill in."""


def build_host(
    manifest: Manifest,
    config: EngineConfig,
    runtime: WasmRuntime,
    output: OutputSink,
    progress: Progress | None = None,
) -> LoadedModule:
    """Everything short of ``init``; raises a ``ModuleLoadError`` subclass on refusal."""
    grants = resolve_grants(manifest, config)
    identity = module_identity(manifest, grants, config)
    secrets = module_secrets(manifest.name, config)
    host: ModuleHost
    hook_host: ModuleHost | None = None
    if manifest.module.kind == "wasm":
        wasm = read_component(manifest, resolver_for(config))
        host = WasmModuleHost(
            runtime, manifest, grants, wasm, output, progress, config.wasm.call_path
        )
        if manifest.hook:
            hook_host = WasmModuleHost(
                runtime, manifest, grants, wasm, output, None, config.wasm.call_path
            )
    else:
        plugin_class = load_plugin_class(manifest)
        manifest = with_class_subscriptions(manifest, plugin_class)
        host = NativeModuleHost(manifest, plugin_class)
        hook_host = host if manifest.hook else None
    return LoadedModule(manifest, grants, host, identity, hook_host, secrets)
