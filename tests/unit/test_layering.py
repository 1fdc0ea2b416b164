"""Layering: which parts of cove may import which, checked by walking the source with ast.

Every import counts, including ones inside functions and ``TYPE_CHECKING`` blocks:
an import hidden in a function is still a dependency.
"""

from __future__ import annotations

import ast
import builtins
from functools import cache
from pathlib import Path

import pytest

import cove

SRC = Path(cove.__file__).resolve().parent
LEAVES = frozenset(
    {
        "cove.errors",
        "cove._events",
        "cove._fast_record",
        "cove._types",
        "cove._units",
        "cove._redact",
        "cove._ratelimit",
        "cove._body",
        "cove._cache_dir",
    }
)
SEPARATE = ("cove._store", "cove._sources", "cove._hosts")


def module_name(path: Path) -> str:
    parts = ("cove", *path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(SRC.rglob("*.py"))}


@cache
def imports_of(name: str) -> frozenset[str]:
    """Every cove module ``name`` imports (absolute or relative, at any depth)."""
    path = modules()[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            found.add(target)
            # ``from . import _fast_host`` imports a module, not just a name
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return frozenset(m for m in found if m in modules())


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def test_the_walker_sees_imports() -> None:
    """Sanity: relative, parent-relative and from-package imports are all resolved."""
    assert "cove._store._sqlite" in imports_of("cove._engine._open_store")
    assert "cove._hosts._fast_host" in imports_of("cove._hosts._wasm_host")
    assert "cove._cli._main" in imports_of("cove.__main__")
    assert LEAVES <= set(modules())


@pytest.mark.parametrize("leaf", sorted(LEAVES))
def test_leaf_modules_import_only_other_leaves(leaf: str) -> None:
    """errors, _events, _types, _units and _redact depend on nothing else in cove."""
    assert set() == imports_of(leaf) - LEAVES


@pytest.mark.parametrize("package", SEPARATE)
def test_store_sources_and_hosts_stay_apart(package: str) -> None:
    """_store, _sources and _hosts never import each other, nor the engine."""
    forbidden = [p for p in SEPARATE if p != package] + ["cove._engine"]
    violations = sorted(
        f"{name} imports {target}"
        for name in modules()
        if within(name, package)
        for target in imports_of(name)
        if any(within(target, f) for f in forbidden)
    )
    assert [] == violations


def test_cli_is_imported_only_by_main() -> None:
    """The command line is an outer adapter: only ``python -m cove`` reaches it."""
    importers = sorted(
        name
        for name in modules()
        if not within(name, "cove._cli")
        and any(within(target, "cove._cli") for target in imports_of(name))
    )
    assert ["cove.__main__"] == importers


def importers_of(package: str, outside: str) -> list[str]:
    """``name imports target`` for each module under ``outside`` importing ``package``."""
    return sorted(
        f"{name} imports {target}"
        for name in modules()
        if within(name, outside)
        for target in imports_of(name)
        if within(target, package)
    )


def test_the_engine_builds_no_control_plane_and_no_app() -> None:
    """The composition root (``_app``) wires engine and control plane; the engine knows neither."""
    assert [] == importers_of("cove._control", "cove._engine")
    assert [] == importers_of("cove._app", "cove._engine")


def test_the_control_plane_reads_the_engine_only_through_its_view() -> None:
    """``_control`` sees the engine as ``EngineView`` (a Protocol of its own), never its parts."""
    assert [] == importers_of("cove._engine", "cove._control")
    assert [] == importers_of("cove._app", "cove._control")


def test_only_the_command_line_starts_an_app() -> None:
    importers = sorted(
        name
        for name in modules()
        if not within(name, "cove._app") and not within(name, "cove._cli")
        and any(within(target, "cove._app") for target in imports_of(name))
    )  # fmt: skip
    assert [] == importers


def is_manifest(name: str) -> bool:
    """The manifest's model: ``_manifest`` and its sections (``_manifest_grants``, …)."""
    return name == "cove._manifest" or name.startswith("cove._manifest_")


def is_model(name: str) -> bool:
    """The config and manifest models: ``_config``, ``_manifest`` and their sections."""
    return is_manifest(name) or name == "cove._config" or name.startswith("cove._config_")


def test_sources_know_no_manifest() -> None:
    """A source is given what it needs (a Protocol such as ``TickSpec`` or ``LogSpec``)."""
    reaching = sorted(
        f"{name} imports {target}"
        for name in modules()
        if within(name, "cove._sources")
        for target in imports_of(name)
        if is_manifest(target)
    )
    assert [] == reaching


def test_the_models_sit_below_the_parts_that_read_them() -> None:
    """The config and manifest models import only each other, the leaves, the TOML reader
    and the content store's hash: every part may read them, and they know no part."""
    allowed = LEAVES | {"cove._toml", "cove._supply._store"}
    reaching = sorted(
        f"{name} imports {target}"
        for name in modules()
        if is_model(name)
        for target in imports_of(name)
        if not is_model(target) and target not in allowed
    )
    assert [] == reaching
    assert {"cove._config_limits", "cove._manifest_grants"} <= {m for m in modules() if is_model(m)}


def test_sections_never_import_the_file_model_they_are_part_of() -> None:
    """``_config_*`` sections never import ``_config`` and the manifest never imports the
    engine config at all (``cove build`` and ``cove check`` read a manifest alone), nor its
    sections ``_manifest``: the split files stay a tree, not a cycle."""
    reaching = sorted(
        f"{name} imports {target}"
        for name in modules()
        if is_model(name)
        for target in imports_of(name)
        if (target == "cove._config" and name != "cove._config")
        or (target == "cove._manifest" and is_manifest(name))
    )
    assert [] == reaching


def test_the_registry_reaches_the_engine_only_through_its_protocol() -> None:
    """``_registry`` drives modules through ``Modules`` (a Protocol the engine satisfies);
    only the engine starts it."""
    assert [] == importers_of("cove._engine", "cove._registry")
    importers = sorted(
        name
        for name in modules()
        if not within(name, "cove._registry")
        and any(within(target, "cove._registry") for target in imports_of(name))
    )
    assert ["cove._engine._engine"] == importers


BUILTIN_EXCEPTIONS = frozenset(
    name
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)
)


def exception_classes() -> list[str]:
    """``module.Class`` for every class in cove that derives from an exception, as far as
    its bases can be read from the source (builtin exceptions, or cove's own, by name)."""
    classes = [
        (name, node)
        for name, path in modules().items()
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(node, ast.ClassDef)
    ]
    known = set(BUILTIN_EXCEPTIONS)
    found: dict[str, str] = {}
    grew = True
    while grew:
        grew = False
        for module, node in classes:
            bases = {b.id if isinstance(b, ast.Name) else ast.unparse(b) for b in node.bases}
            bases = {b.rpartition(".")[2] for b in bases}
            if bases & known and f"{module}.{node.name}" not in found:
                found[f"{module}.{node.name}"] = module
                known.add(node.name)
                grew = True
    return sorted(found)


def test_the_walker_finds_exception_classes() -> None:
    """Sanity: direct and indirect subclasses are both seen."""
    found = exception_classes()
    assert {"cove.errors.CoveError", "cove.errors.LimitExceededError"} <= set(found)


def test_every_exception_class_lives_in_errors() -> None:
    """One exception tree, drawn in ``errors.py``'s docstring: no error type hides elsewhere."""
    assert [] == [name for name in exception_classes() if not name.startswith("cove.errors.")]


def test_built_in_plugins_use_only_the_plugin_api_and_nothing_imports_them() -> None:
    """``cove.plugins`` are written as any plugin is (the public plugin API and the leaves);
    the engine reaches them only by a manifest's ``entry``, never by an import."""
    allowed = LEAVES | {"cove.plugin"}
    reaching = sorted(
        f"{name} imports {target}"
        for name in modules()
        if within(name, "cove.plugins")
        for target in imports_of(name)
        if not within(target, "cove.plugins") and target not in allowed
    )
    assert [] == reaching
    assert [] == [
        i for i in importers_of("cove.plugins", "cove") if not i.startswith("cove.plugins")
    ]
