"""Migration registry: ``@on_migrate`` names the function that rewrites the state a previous
version of the module left (the manifest needs ``[migrate] enabled = true``)."""

from collections.abc import Callable
from typing import Any

MIGRATIONS: list[Callable[[str], Any]] = []


def on_migrate(fn: Callable[[str], Any]) -> Callable[[str], Any]:
    """Register ``fn(from_version)``: run before this version handles any event when the
    state was last run by version ``from_version``. Its ``state`` writes commit as one
    transaction; raising rolls all of them back (the engine keeps the old version)."""
    if MIGRATIONS:
        raise ValueError("@on_migrate is registered twice; a module has one migration")
    MIGRATIONS.append(fn)
    return fn
