"""The composition root: an engine, its control plane, and what the config declares around them.

Design note: the engine runs modules (store, runners, sources it derives
from their subscriptions, outbox); it does not build the HTTP control plane
nor read ``[webhook]`` and ``[[transports]]``. ``App`` composes them, in the
order a process needs: the control plane's ports are claimed (and its token
read) before the engine opens anything, so a taken port or a missing token
fails first; the plane serves as soon as the engine's store is open, so
health, the API and /mcp answer while modules compile, and it closes before
the engine stops. ``cove run``, ``cove mcp`` and the tests' helpers start an
``App``; an embedder that wants only the engine constructs ``Engine``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import httpx

from .._config import EngineConfig
from .._control._plane import ControlPlane
from .._engine._engine import Engine
from .._engine._trajectory import Trajectory
from .._hosts._wasm_runtime import Progress
from .._sources._base import Source, Transport
from .._sources._clock import Clock
from .._store._base import Store
from ._declared import webhook_parts


class App:
    """One engine process: ``await start()``, ``await stop()``; ``engine`` and ``control``
    are its parts (``control`` is None without ``[control]`` and ``[metrics]``)."""

    def __init__(
        self,
        config: EngineConfig,
        *,
        transports: Sequence[Transport] = (),
        sources: Sequence[Source] = (),
        progress: Progress | None = None,
        on_trajectory: Callable[[Trajectory], None] | None = None,
        store: Store | None = None,
        clock: Clock | None = None,
        http_transport: httpx.BaseTransport | None = None,
    ) -> None:
        """Reads the config's secrets (webhook, transports): a missing one raises here."""
        declared = webhook_parts(config)
        self.engine = Engine(
            config,
            transports=[*declared.transports, *transports],
            sources=[*declared.sources, *sources],
            progress=progress,
            on_trajectory=on_trajectory,
            store=store,
            clock=clock,
            http_transport=http_transport,
        )
        self.control: ControlPlane | None = None

    async def start(self) -> None:
        config = self.engine.config
        if config.control is not None or config.metrics is not None:
            control = ControlPlane(self.engine)  # reads the token: fails before anything opens
            control.bind()
            self.control = control
        serve = None if self.control is None else self.control.start
        try:
            await self.engine.start(serve)
        except BaseException:
            await self._close_control()
            raise

    async def stop(self, drain_seconds: float = 5.0) -> None:
        await self._close_control()
        await self.engine.stop(drain_seconds)

    async def _close_control(self) -> None:
        if self.control is not None:
            await self.control.aclose()


__all__ = ["App"]
