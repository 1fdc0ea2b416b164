"""Layering: which parts of cove may import which, checked by walking the source with ast.

Every import counts, including ones inside functions and ``TYPE_CHECKING`` blocks:
an import hidden in a function is still a dependency.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

import cove

SRC = Path(cove.__file__).resolve().parent
LEAVES = frozenset(
    {
        "cove.errors",
        "cove._events",
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
            # ``from . import _wit_values`` imports a module, not just a name
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return frozenset(m for m in found if m in modules())


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def test_the_walker_sees_imports() -> None:
    """Sanity: relative, parent-relative and from-package imports are all resolved."""
    assert "cove._store._sqlite" in imports_of("cove._engine._engine")
    assert "cove._hosts._wit_values" in imports_of("cove._hosts._wasm_host")
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
