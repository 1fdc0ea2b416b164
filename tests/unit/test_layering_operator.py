"""Layering of the operator surface: observability is a leaf for the engine, the control plane an adapter."""

from __future__ import annotations

from tests.unit.test_layering import imports_of, modules, within


def test_observe_imports_neither_the_engine_nor_the_control_plane() -> None:
    """Metrics and trajectories read engine state through protocols, not engine imports."""
    violations = sorted(
        f"{name} imports {target}"
        for name in modules()
        if within(name, "cove._observe")
        for target in imports_of(name)
        if within(target, "cove._engine") or within(target, "cove._control")
    )
    assert [] == violations


def test_only_the_composition_root_starts_the_control_plane() -> None:
    """The control plane is an outer adapter: the app (``_app``) wires it in, nothing else
    imports it.

    The CLI, the outermost adapter, may: `cove mcp` serves the MCP server on stdio.
    """
    importers = sorted(
        name
        for name in modules()
        if not within(name, "cove._control")
        and not within(name, "cove._cli")
        and any(within(target, "cove._control") for target in imports_of(name))
    )
    assert ["cove._app._app"] == importers
