"""cove: a runtime for event-driven modules (wasm components and native plugins).

The names below are imported on first use (PEP 562), so ``import cove`` -- and
with it every ``cove`` command that only talks to a running engine -- does not
pay for wasmtime, pydantic and the engine it does not need.
"""

import importlib as _importlib
import typing as _typing

if _typing.TYPE_CHECKING:
    from ._config import EngineConfig, load_config
    from ._engine._engine import Engine
    from ._engine._trajectory import Trajectory
    from ._events import Block, Custom, Event, Lifecycle, Log, Message, Tick, Webhook
    from ._manifest import Manifest, load_manifest
    from ._sources._base import Publish, Source, Transport
    from ._types import ModuleState, ModuleStatus
    from .plugin import Plugin, PluginContext

_WHERE = {
    "Block": "._events",
    "Custom": "._events",
    "Engine": "._engine._engine",
    "EngineConfig": "._config",
    "Event": "._events",
    "Lifecycle": "._events",
    "Log": "._events",
    "Manifest": "._manifest",
    "Message": "._events",
    "ModuleState": "._types",
    "ModuleStatus": "._types",
    "Plugin": ".plugin",
    "PluginContext": ".plugin",
    "Publish": "._sources._base",
    "Source": "._sources._base",
    "Tick": "._events",
    "Trajectory": "._engine._trajectory",
    "Transport": "._sources._base",
    "Webhook": "._events",
    "load_config": "._config",
    "load_manifest": "._manifest",
}

__all__ = [
    "Block",
    "Custom",
    "Engine",
    "EngineConfig",
    "Event",
    "Lifecycle",
    "Log",
    "Manifest",
    "Message",
    "ModuleState",
    "ModuleStatus",
    "Plugin",
    "PluginContext",
    "Publish",
    "Source",
    "Tick",
    "Trajectory",
    "Transport",
    "Webhook",
    "load_config",
    "load_manifest",
]


def __getattr__(name: str) -> _typing.Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'cove' has no attribute {name!r}")
    value = getattr(_importlib.import_module(where, __name__), name)
    globals()[name] = value  # once imported, a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
