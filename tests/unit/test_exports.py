"""The public namespace: ``cove.__all__`` is importable, sorted and complete."""

from __future__ import annotations

import subprocess
import sys
from types import ModuleType

import pytest

import cove


def test_all_is_sorted_without_duplicates() -> None:
    """``__all__`` is kept sorted so additions are easy to review."""
    assert sorted(set(cove.__all__)) == cove.__all__


@pytest.mark.parametrize("name", cove.__all__)
def test_every_exported_name_is_importable(name: str) -> None:
    """``from cove import <name>`` works for every name in ``__all__``."""
    namespace: dict[str, object] = {}
    exec(f"from cove import {name}", namespace)
    assert getattr(cove, name) is namespace[name]


def test_public_names_are_all_exported() -> None:
    """Every public attribute of the package (other than submodules) is in ``__all__``,
    whether or not it was imported yet (they are imported on first use)."""
    public = {
        name
        for name in dir(cove)
        if not name.startswith("_") and not isinstance(getattr(cove, name), ModuleType)
    }
    assert set(cove.__all__) == public


def test_importing_cove_loads_neither_wasmtime_nor_the_engine() -> None:
    """``import cove`` stays cheap for the CLI's control commands (names load on use)."""
    code = (
        "import sys, cove; print(sorted({'wasmtime', 'cove._engine._engine'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "[]" == out.stdout.strip()


def test_a_name_outside_all_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        cove.nope  # noqa: B018
