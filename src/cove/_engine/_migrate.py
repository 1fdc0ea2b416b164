"""State migration: a module's state rewritten for a new version, in one transaction, before
that version handles any event.

Design note: the store records the manifest version that last ran with each
module's state. When a version with another version string starts on that
state (an engine start after an upgrade, a reload), its ``migrate`` runs on a
writable overlay, then its ``init`` on a read-only view of that overlay, and
only when both passed are the overlay's writes and the new version recorded
together (``Store.migrate_state``). Any failure drops the overlay: nothing of
the migration is kept. The caller holds the runner's lock, so no event of the
old version commits in between. Rejected: migrating through the event path
(one event's overlay and commit), which would let an event of the old version
land between the migration and the swap.
"""

from __future__ import annotations

import bisect

from .._capabilities._effects import EventEffects, ReadOnlyEffects
from .._store._base import Store
from ..errors import HostCallError, MigrationError, ModuleFailedError, StoreError
from ._instance import ModuleInstance


class MigrationEffects(EventEffects):
    """A migration changes state only: a message or event would leave even if it failed."""

    def add_effect(self, effect: object) -> None:
        raise HostCallError(
            "denied", "messages and emitted events are not allowed in migrate (state only)"
        )


class StateSnapshot:
    """A module's state read in one query: a migration reads most keys, the overlay once more
    per write (for the quota), and one SQLite lookup each was most of its time. Safe because
    the caller holds the runner's lock: nothing else writes this module's state meanwhile."""

    def __init__(self, store: Store, module: str) -> None:
        items = store.state_items(module)  # sorted by key
        self._keys = [key for key, _ in items]
        self._values = dict(items)
        self._bytes = store.state_bytes(module)

    def get(self, module: str, key: str) -> bytes | None:
        return self._values.get(key)

    def list_keys(self, module: str, prefix: str) -> list[str]:
        start = bisect.bisect_left(self._keys, prefix)
        end = start
        while end < len(self._keys) and self._keys[end].startswith(prefix):
            end += 1
        return self._keys[start:end]

    def state_bytes(self, module: str) -> int:
        return self._bytes


def migration_due(instance: ModuleInstance, store: Store) -> bool:
    """Whether this version must run ``migrate`` before its ``init``: it has one and the
    state was last run by another version."""
    recorded = store.state_version(instance.manifest.name)
    return (
        instance.manifest.migrate.enabled
        and recorded is not None
        and recorded != instance.manifest.module.version
    )


def migrate_and_init(instance: ModuleInstance, store: Store) -> bool:
    """Migrate (when the recorded version differs), init on the result, then commit both the
    writes and the new version at once. Raises ``MigrationError`` (nothing kept) or the init's
    ``ModuleFailedError``. True when a migration ran."""
    name = instance.manifest.name
    version = instance.manifest.module.version
    recorded = store.state_version(name)
    if recorded == version:
        instance.init()
        return False
    migrated = False
    effects = MigrationEffects(name, store, instance.quota)
    if recorded is not None and instance.manifest.migrate.enabled:
        effects = MigrationEffects(name, StateSnapshot(store, name), instance.quota)
        try:
            migrated = instance.host.migrate(recorded, instance.host_calls("migrate", effects))
        except ModuleFailedError as exc:
            raise MigrationError(name, recorded, version, exc.reason) from exc
    instance.init(ReadOnlyEffects(name, effects.as_reader(), instance.quota))
    try:
        store.migrate_state(name, version, effects.writes, effects.state_bytes())
    except StoreError as exc:  # rolled back: as a failed migration, retried with backoff
        raise MigrationError(name, recorded or "(none)", version, str(exc)) from exc
    return migrated


def record_version(instance: ModuleInstance, store: Store) -> None:
    """Record this version with the state as it is (no migration due)."""
    name, version = instance.manifest.name, instance.manifest.module.version
    if store.state_version(name) != version:
        store.migrate_state(name, version, {}, store.state_bytes(name))


__all__ = ["MigrationEffects", "migrate_and_init", "migration_due", "record_version"]
