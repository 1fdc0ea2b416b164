"""One loaded version of a module as its runner uses it: its hosts, its grants, and the
``HostCalls`` each of its calls gets.

Design note: everything that belongs to one version of a module sits here,
apart from the runner's loop, its lifecycle and its commits. The runner reads
``runner.instance`` once per batch, tool call and hook call, under its lock,
so a new version can replace the instance between two events without the loop
noticing (a reload or upgrade builds the new one beside the old, then swaps).
"""

from __future__ import annotations

from .._capabilities._autonomy import Autonomy
from .._capabilities._budgets import TokenBucket
from .._capabilities._call_record import LogSink
from .._capabilities._calls import HostCalls
from .._capabilities._chain import ChainBackend
from .._capabilities._effects import EventEffects, ReadOnlyEffects
from .._capabilities._http import HttpBackend
from .._capabilities._spending import Spending
from .._hosts._base import HookOutcome
from .._store._base import Store
from ._loader import LoadedModule
from ._matching import SubscriptionMatcher


class ModuleInstance:
    """One version of a module, ready to be called: read under the runner's lock."""

    def __init__(
        self,
        loaded: LoadedModule,
        store: Store,
        http: HttpBackend | None,
        chain: ChainBackend | None,
        log_sink: LogSink,
        emit_rate: TokenBucket,
        spending: Spending | None = None,
        autonomy: Autonomy | None = None,
    ) -> None:
        self.manifest = loaded.manifest
        self.grants = loaded.grants
        self.host = loaded.host
        self.hook_host = loaded.hook_host
        self.identity = loaded.identity
        self._secrets = loaded.secrets
        self.quota = loaded.grants.limits.state_bytes
        self.matches = SubscriptionMatcher(self.manifest.subscription, self.manifest.name)
        """Is a journaled event this version's? (Its subscriptions, compiled once.)"""
        self._config = dict(self.manifest.config)
        self._store = store
        self._http = http
        self._chain = chain
        self._log_sink = log_sink
        self._emit_rate = emit_rate
        self.spending = spending
        self.autonomy = autonomy
        """The module's operator budgets, shared with its next versions (None: none set)."""

    def successor(self, loaded: LoadedModule) -> ModuleInstance:
        """A new version beside this one, with the same backends, emit rate and budgets (a
        reload)."""
        return ModuleInstance(
            loaded,
            self._store,
            self._http,
            self._chain,
            self._log_sink,
            self._emit_rate,
            self.spending,
            self.autonomy,
        )

    def host_calls(self, call_id: str, effects: EventEffects) -> HostCalls:
        """The gate for one call (an event, a tool call) writing into ``effects``."""
        return HostCalls(
            self.grants,
            effects,
            self._config,  # the gate only reads it: one copy per instance, not per event
            self._http,
            self._log_sink,
            call_id,
            self._chain,
            self.identity,
            self._emit_rate,
            self._secrets,
            self.spending,
            self.autonomy,
            self._pending_alarms,
        )

    def _pending_alarms(self) -> int:
        return self._store.pending_alarms(self.manifest.name)

    def read_only_calls(self, call_id: str) -> HostCalls:
        """A gate whose ``set`` and ``delete`` are denied (init and hooks change nothing)."""
        effects = ReadOnlyEffects(self.manifest.name, self._store, self.quota)
        return self.host_calls(call_id, effects)

    def init(self, view: ReadOnlyEffects | None = None) -> None:
        """``view``: the state init reads (a migration's overlay); the store's by default."""
        if view is None:
            self.host.init(self.read_only_calls("init"))
        else:
            self.host.init(self.host_calls("init", view))

    def hook_call(self, point: str, payload_json: str) -> HookOutcome:
        """One call of this module's hook: read-only, like init."""
        assert self.hook_host is not None, "the module declares no [[hook]]"
        return self.hook_host.on_hook(point, payload_json, self.read_only_calls(f"hook:{point}"))

    def hibernate(self) -> bool:
        """Drop both hosts' instances; False when the module keeps its (a native plugin)."""
        dropped = self.host.hibernate()
        if self.hook_host is not None and self.hook_host is not self.host:
            self.hook_host.hibernate()
        return dropped

    def close(self) -> None:
        """Close both hosts (a candidate that failed, or the old version after a swap)."""
        self.close_hooks()
        self.host.close()

    def close_hooks(self) -> None:
        """Close the hook instance when it is one of its own (the runner closes the host)."""
        if self.hook_host is not None and self.hook_host is not self.host:
            self.hook_host.close()


__all__ = ["ModuleInstance"]
