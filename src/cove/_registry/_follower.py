"""The registry follower: the contract's publications applied to the engine's modules.

Design note: the follower is a chain source of its own (one ``log`` stream at
``[registry] confirmations``, its progress under its own key), whose events go
to ``apply`` instead of the journal: the registry is engine business, not a
module's, and a module cannot subscribe to it or delay it. ``apply`` runs in
order and to its end before the walk moves on, so publications are applied one
after the other, and a publication that is refused (fetch, pin, compile,
migration) is logged and passed: the module keeps the version it had. A
``removed`` log (a reorg deeper than the walk absorbed) undoes its
publication: the module is reloaded to the version before it, or unloaded when
there was none. Rejected: the publications as journal events with an internal
runner, which would put the registry in the retention and cursor machinery
for no gain.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import structlog

from .._config import EngineConfig
from .._config_chain import ChainSettings
from .._config_registry import RegistrySettings
from .._events import Event, Log
from .._log_filter import log_filter
from .._manifest import load_manifest
from .._sources._base import Publish, Source
from .._sources._chain import ChainSource
from .._sources._chain_rpc import RequestRecorder
from .._sources._chain_walk import Stream
from .._supply._component import resolver_for
from .._supply._resolve import Resolver
from .._units import parse_duration_ms
from ..errors import CoveError, MalformedPublication, PublicationError, PublicationUnavailable
from ._fetch import fetch_module
from ._ledger import LOCAL, Applied, Ledger, StateStore
from ._publication import TOPIC, Publication, decode

_RETRY_S = 1.0
_RETRY_MAX_S = 60.0
"""Between tries of a publication that cannot be fetched now: doubling from 1 s."""


class Modules(Protocol):
    """What the follower needs of the engine."""

    runners: dict[str, Any]
    load_errors: dict[Path, str]

    async def load(self, path: Path) -> Any: ...
    async def reload(self, name: str, root: Path | None = None) -> Any: ...
    async def unload(self, name: str, release: bool = True) -> None: ...


class _Prefixed:
    """The store's source progress under ``registry:``, apart from the modules' chain source."""

    def __init__(self, store: StateStore) -> None:
        self._store = store

    def source_state(self, source: str) -> str | None:
        return self._store.source_state(f"registry:{source}")

    def set_source_state(self, source: str, value: str) -> None:
        self._store.set_source_state(f"registry:{source}", value)


class RegistryFollower(Source):
    name = "registry"

    def __init__(
        self,
        settings: RegistrySettings,
        chain: ChainSettings,
        store: StateStore,
        modules: Modules,
        resolver: Resolver,
        directory: Path,
        record: RequestRecorder | None = None,
    ) -> None:
        self.settings = settings
        self.ledger = Ledger(store)
        self._modules = modules
        self._resolver = resolver
        self._directory = directory
        self._log = structlog.get_logger("cove.registry").bind(registry=settings.address)
        stream = Stream(
            settings.confirmations, blocks=False, filters=(log_filter(settings.address, [TOPIC]),)
        )
        self._chain = ChainSource(chain, _Prefixed(store), [stream], record=record, log=self._log)
        self.last_error: str | None = None
        self.applied = 0
        self._patience_s = parse_duration_ms(settings.fetch_patience) / 1000

    def substitute(self, paths: Sequence[Path]) -> list[Path]:
        """The engine's module paths with each module the registry runs in its published
        version (restart-safe: nothing is re-applied), and the registry's own modules added."""
        running = self.ledger.running()
        out: list[Path] = []
        for path in paths:
            try:
                name = load_manifest(path).name
            except CoveError:
                out.append(path)  # refused by the load, which names why
                continue
            entry = running.pop(name, None)
            out.append(path if entry is None else entry.path)
        return out + [entry.path for entry in running.values()]

    async def run(self, publish: Publish) -> None:
        await self._chain.run(self.apply)

    async def aclose(self) -> None:
        await self._chain.aclose()

    def health(self) -> dict[str, Any]:
        return {**self._chain.health(), "applied": self.applied, "refused": self.last_error}

    async def apply(self, events: Sequence[Event]) -> None:
        for event in events:
            payload = event.payload
            if not isinstance(payload, Log):
                continue
            try:
                publication = decode(payload)
            except MalformedPublication as exc:
                self._log.warning("registry log is not a publication; ignored", why=str(exc))
                continue
            if publication.removed:
                await self._roll_back(publication)
            else:
                await self._apply(publication)

    async def _apply(self, pub: Publication) -> None:
        if pub.publisher not in self.settings.publishers:
            self._log.warning(
                "registry publication ignored: its publisher is not in [registry] publishers",
                publisher=pub.publisher, module=pub.name, version=pub.version,
            )  # fmt: skip
            return
        if not self.settings.applies_to(pub.name):
            self._log.info(
                "registry publication ignored: the module is not in [registry] load",
                module=pub.name, version=pub.version,
            )  # fmt: skip
            return
        if self.ledger.has(pub.name, pub.id):
            return  # applied before a crash, delivered again
        base = self._local_base(pub.name)
        try:
            directory = await self._fetch(pub)
        except CoveError as exc:
            self._refused(pub, exc)
            return
        # Recorded before the swap: an engine stopped (or killed) during it runs this
        # version at its next start, never the one before on a state already migrated.
        if base is not None:
            self.ledger.push(pub.name, base)
        self.ledger.push(pub.name, Applied(pub.id, pub.version, str(directory), pub.sha256))
        try:
            await self._run(pub.name, directory)
        except CoveError as exc:
            self.ledger.remove(pub.name, pub.id)
            self._refused(pub, exc)
            return
        self.applied += 1
        self._log.info("registry publication applied", module=pub.name, version=pub.version)

    async def _fetch(self, pub: Publication) -> Path:
        """The publication's module; one that cannot be fetched now is tried again (the
        walk waits: publications apply in order) for up to ``fetch_patience``."""
        waited, attempt = 0.0, 0
        while True:
            try:
                return await asyncio.to_thread(fetch_module, pub, self._directory, self._resolver)
            except PublicationUnavailable as exc:
                attempt += 1
                delay = min(_RETRY_MAX_S, _RETRY_S * 2 ** (attempt - 1))
                if waited + delay > self._patience_s:
                    raise
                self.last_error = str(exc)
                self._log.warning(
                    "registry publication waits: its module cannot be fetched now",
                    module=pub.name, version=pub.version, error=str(exc), retry_in_s=delay,
                )  # fmt: skip
                await asyncio.sleep(delay)
                waited += delay

    def _refused(self, pub: Publication, exc: CoveError) -> None:
        self.last_error = str(exc)
        self._log.error(
            "registry publication refused", module=pub.name, version=pub.version, error=str(exc)
        )

    async def _run(self, name: str, directory: Path) -> None:
        """Load ``directory`` as ``name``, or reload the running module to it."""
        runner = self._modules.runners.get(name)
        if runner is not None and runner.manifest.root == directory:
            return  # the same module published again: nothing to swap
        if runner is not None:
            await self._modules.reload(name, directory)
            return
        self._modules.load_errors.pop(directory, None)
        if await self._modules.load(directory) is None:
            reason = self._modules.load_errors.get(directory, "refused")
            raise PublicationError(name, f"load of {directory} refused: {reason}")

    def _local_base(self, name: str) -> Applied | None:
        """Before a first publication upgrades a module of the engine config: that module,
        the version a reorg of the publication rolls back to."""
        runner = self._modules.runners.get(name)
        if runner is None or self.ledger.current(name) is not None:
            return None
        manifest = runner.manifest
        return Applied(LOCAL, manifest.module.version, str(manifest.root))

    async def _roll_back(self, pub: Publication) -> None:
        was_current, previous = self.ledger.remove(pub.name, pub.id)
        if not was_current:
            return
        self._log.warning(
            "registry publication reorged out; rolling back",
            module=pub.name, version=pub.version,
            to=None if previous is None else previous.version,
        )  # fmt: skip
        try:
            if previous is None:
                if pub.name in self._modules.runners:
                    await self._modules.unload(pub.name)
            else:
                await self._run(pub.name, previous.path)
        except CoveError as exc:
            self.last_error = str(exc)
            self._log.error("registry rollback refused", module=pub.name, error=str(exc))


def follower_for(
    config: EngineConfig,
    store: StateStore,
    modules: Modules,
    recorder: Callable[[int], RequestRecorder] | None,
) -> RegistryFollower | None:
    """The follower of ``[registry]``; None without one."""
    settings = config.registry
    if settings is None:
        return None
    chain = next(c for c in config.chains if c.chain_id == settings.chain)  # checked at load
    return RegistryFollower(
        settings,
        chain,
        store,
        modules,
        resolver_for(config),
        config.registry_path,
        record=None if recorder is None else recorder(settings.chain),
    )
