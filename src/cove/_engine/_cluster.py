"""The engine's side of ``[cluster]``: its placement, and the modules that run elsewhere."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from .._manifest import load_manifest
from .._sources._base import Source
from .._store._leases import LeaseTable
from .._store._postgres import PostgresStore
from .._store._postgres_jetstream import JetStreamPostgresStore
from .._types import ModuleStatus
from .._units import parse_duration_ms
from ..errors import CoveError, StoreError
from ._module_sources import module_sources
from ._placement import EngineHands, Placement

if TYPE_CHECKING:
    from ._engine import Engine


def placement_for(engine: Engine, paths: list[Path]) -> Placement:
    """The placement of ``engine`` over the modules at ``paths`` (each engine of a cluster
    is given the same ones); a module whose manifest cannot be read is refused here."""
    config = engine.config
    settings = config.cluster
    assert settings is not None
    store = engine.store
    if not isinstance(store, PostgresStore):
        raise StoreError('[cluster] needs the PostgreSQL store ([store] kind = "postgres")')
    modules: dict[str, Path] = {}
    manifests = []
    for path in paths:
        try:
            manifest = config.configured(load_manifest(path))
        except CoveError as exc:
            engine.load_errors[path] = str(exc)
            continue
        modules[manifest.name] = path
        manifests.append(manifest)

    def sources() -> list[Source]:
        return module_sources(
            config, manifests, store, engine.clock, engine.chain, engine.poll_chains
        )

    def spawn(source: Source) -> asyncio.Task[None]:
        return engine.spawn(source.run(engine.publish), f"source:{source.name}")

    async def unload(name: str) -> None:
        if name in engine.runners:
            await engine.unload(name, release=False)

    hands = EngineHands(
        engine.load,
        unload,
        sources,
        spawn,
        engine.wake,
        engine.running,
        engine.forget_recent,
        engine.log,
    )
    ttl = parse_duration_ms(settings.lease_ttl)
    leases = LeaseTable(store.connector(), settings.engine_id, ttl, store.where)
    renew_s = parse_duration_ms(settings.renew_every) / 1000
    if isinstance(store, JetStreamPostgresStore):
        return Placement(leases, store, modules, renew_s, hands, None, store.journal.watch)
    return Placement(leases, store, modules, renew_s, hands, store.connector())


def elsewhere(placement: Placement, here: set[str]) -> list[ModuleStatus]:
    """The cluster's modules not run by this engine: where each runs, or that none does."""
    out = []
    for name in sorted(set(placement.modules) - here - placement.refused):
        holder = placement.holders.get(name)
        running = holder is not None and holder.live
        engine = holder.engine if holder is not None and running else ""
        state = "elsewhere" if running else "unplaced"
        out.append(ModuleStatus(name, "", "", state, 0, 0, 0, 0, "", engine=engine))
    return out
