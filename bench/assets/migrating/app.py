"""Bench guest: its migration rewrites every ``item:`` value as ``{"n": value}`` (one
list-keys, one get-many, one set-many)."""

from cove_sdk import Migrator, WitWorld, on_migrate, state

__all__ = ["Migrator", "WitWorld"]


@on_migrate
def migrate(from_version):
    keys = state.keys("item:")
    for key, value in zip(keys, state.get_many(keys), strict=True):
        state.set(key, {"n": value})
