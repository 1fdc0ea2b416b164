"""cove: a runtime for event-driven modules (wasm components and native plugins)."""

from ._config import EngineConfig, load_config
from ._engine._engine import Engine
from ._engine._trajectory import Trajectory
from ._events import Block, Custom, Event, Lifecycle, Log, Message, Tick, Webhook
from ._manifest import Manifest, load_manifest
from ._sources._base import Publish, Source, Transport
from ._types import ModuleState, ModuleStatus
from .plugin import Plugin, PluginContext

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
