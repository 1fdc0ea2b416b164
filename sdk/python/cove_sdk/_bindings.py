"""Where the SDK finds the host: the ``wit_world`` modules componentize-py generates.

Looked up once, not imported at the top of each SDK module: inside a
component the lookup happens while componentize-py snapshots the app (so it
costs nothing per event), while in plain Python the SDK still imports and
``cove_sdk.testing.MockHost`` can put fake bindings in place and ``reset()``.
"""

import importlib
from types import ModuleType
from typing import Any

INTERFACES = (
    "store", "http", "messaging", "events", "logging", "config", "chain", "identity", "alarms",
)  # fmt: skip


class Bindings:
    """The imported ``cove:host`` interfaces; an undeclared one is ``None``."""

    def __init__(self) -> None:
        self._modules: dict[str, ModuleType | None] | None = None
        self.err: Any = None

    def reset(self) -> None:
        self._modules = None
        self.err = None

    def _load(self) -> dict[str, ModuleType | None]:
        self.err = importlib.import_module("componentize_py_types").Err
        modules: dict[str, ModuleType | None] = {}
        for name in INTERFACES:
            try:
                modules[name] = importlib.import_module(f"wit_world.imports.{name}")
            except ImportError:
                # The module's world does not import it: it was not declared.
                modules[name] = None
        self._modules = modules
        return modules

    def interface(self, name: str) -> ModuleType | None:
        modules = self._modules if self._modules is not None else self._load()
        return modules[name]


bindings = Bindings()
try:
    bindings.interface("store")
except ImportError:
    bindings.reset()  # plain Python without bindings: resolved on first use
