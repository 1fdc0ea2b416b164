"""Fake ``wit_world`` bindings for running a guest in plain Python.

The modules are componentize-py's own generated bindings for the full
``module`` world (vendored under ``_bindings/``; a test regenerates them and
compares), loaded under their real names. Only the interfaces a module
declares are loaded, so an undeclared one is missing exactly as it is in a
component built for that module's world.
"""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

_ROOT = Path(__file__).resolve().parent / "_bindings"
ALWAYS = ("types", "logging", "config")


def _load(name: str, path: Path) -> ModuleType:
    package = path.name == "__init__.py"
    spec = importlib.util.spec_from_file_location(
        name, path, submodule_search_locations=[str(path.parent)] if package else None
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def uninstall() -> None:
    for name in list(sys.modules):
        if name == "componentize_py_types" or name == "wit_world" or name.startswith("wit_world."):
            del sys.modules[name]


def install(interfaces: frozenset[str]) -> dict[str, ModuleType]:
    """Put fresh fakes in ``sys.modules``; returns ``{interface: module}`` plus ``world``."""
    uninstall()
    modules = {
        "componentize_py_types": _load("componentize_py_types", _ROOT / "componentize_py_types.py")
    }
    # The package's own import of ``.imports.types`` finds the vendored files...
    modules["world"] = _load("wit_world", _ROOT / "wit_world" / "__init__.py")
    for name in sorted(set(ALWAYS) | interfaces):
        modules[name] = importlib.import_module(f"wit_world.imports.{name}")
    # ...after which nothing more may be found there: an undeclared interface
    # must fail to import, as it does inside a component built for this module.
    sys.modules["wit_world.imports"].__path__ = []
    return modules
