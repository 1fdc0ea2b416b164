"""The sources the loaded modules' subscriptions call for, made once at engine start."""

from __future__ import annotations

from collections.abc import Iterable

from .._capabilities._chain import ChainBackend
from .._config import EngineConfig
from .._manifest import Manifest
from .._manifest_subscriptions import BlockSubscription, LogSubscription, TickSubscription
from .._sources._base import Source
from .._sources._chain import chain_sources
from .._sources._clock import Clock
from .._sources._cron import CronSource
from .._store._base import Store


def module_sources(
    config: EngineConfig,
    manifests: Iterable[Manifest],
    store: Store,
    clock: Clock | None,
    chain: ChainBackend | None,
    poll_chains: bool,
) -> list[Source]:
    """A cron source when a module subscribes to ticks, and (``poll_chains``) the chain
    sources its block and log subscriptions need: none for a subscription nobody has."""
    subscriptions = [s for m in manifests for s in m.subscription]
    sources: list[Source] = []
    ticks = [s for s in subscriptions if isinstance(s, TickSubscription)]
    if ticks:
        sources.append(CronSource(ticks, store, clock))
    if poll_chains:
        on_chain = [s for s in subscriptions if isinstance(s, BlockSubscription | LogSubscription)]
        recorder = None if chain is None else chain.recorder
        sources.extend(chain_sources(config.chains, on_chain, store, recorder))
    return sources
