"""The public namespace: ``cove.__all__`` is importable, sorted and complete."""

from __future__ import annotations

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
    """Every public attribute of the package (other than submodules) is in ``__all__``."""
    public = {
        name
        for name, value in vars(cove).items()
        if not name.startswith("_") and not isinstance(value, ModuleType)
    }
    assert set(cove.__all__) == public
