"""The hook chain: which modules hook which point, in what order, and what a failure does.

Design note: hooks at one point run one after another in a fixed order
(priority, then module name), each given the payload the previous one
returned, so the result never depends on load order or timing. Every call
runs on a pool thread and is awaited with the hook's timeout; a call that
overruns is abandoned (a Python thread cannot be killed; a wasm hook's own
deadline stops it), and counts as a failure. Until the abandoned call
returns, that hook fails at once instead of stacking up more stuck threads;
other hooks are not delayed. A failure or timeout skips the hook under
``fail-open`` and blocks the action under ``fail-closed``.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from .._config_hooks import MODIFYING_POINTS, HookPoint, HooksSettings
from .._hosts._base import HookOutcome
from .._manifest import Manifest
from .._units import parse_duration_ms
from ..errors import HookBlockedError
from ._daemon_pool import DaemonPool
from ._hook_payloads import check_replacement

HookCall = Callable[[str, str], HookOutcome]
# Why a hook cannot run right now ("" when it can), e.g. its module is dead.
Unavailable = Callable[[], str]
Log = Callable[..., None]


@dataclass(frozen=True, slots=True)
class Hook:
    module: str
    point: HookPoint
    priority: int
    timeout_ms: int
    call: HookCall
    unavailable: Unavailable


def hooks_of(
    manifest: Manifest, settings: HooksSettings, call: HookCall, unavailable: Unavailable
) -> list[Hook]:
    """The module's ``[[hook]]`` entries, each timeout capped by the engine's."""
    cap = settings.timeout_ms
    return [
        Hook(
            manifest.name,
            h.point,
            h.priority,
            min(cap, parse_duration_ms(h.timeout)) if h.timeout else cap,
            call,
            unavailable,
        )
        for h in manifest.hook
    ]


class Hooks:
    """Every registered hook, by point, kept in run order."""

    def __init__(self, settings: HooksSettings, warn: Log) -> None:
        self._settings = settings
        self._warn = warn
        self._by_point: dict[HookPoint, tuple[Hook, ...]] = {}
        self._pool: DaemonPool[HookOutcome] | None = None
        self._pool_lock = threading.Lock()  # chains run on several threads at once
        # (module, point) of hooks whose timed-out call has not returned yet
        self._abandoned: set[tuple[str, HookPoint]] = set()
        self.failed: Counter[str] = Counter()
        self.vetoed: Counter[str] = Counter()
        self._count_lock = threading.Lock()  # chains fail on several threads at once

    def add(self, hooks: Iterable[Hook]) -> None:
        for hook in hooks:
            chain = [*self._by_point.get(hook.point, ()), hook]
            self._by_point[hook.point] = tuple(sorted(chain, key=lambda h: (h.priority, h.module)))

    def remove(self, module: str) -> None:
        # a reloaded module's hooks start afresh, whatever its old instance is stuck in
        self._abandoned = {key for key in self._abandoned if key[0] != module}
        for point, chain in list(self._by_point.items()):
            kept = tuple(h for h in chain if h.module != module)
            if kept:
                self._by_point[point] = kept
            else:
                del self._by_point[point]

    def has(self, point: HookPoint) -> bool:
        """Cheap enough for the hot path: callers skip building a payload when False."""
        return point in self._by_point

    def chain(self, point: HookPoint) -> tuple[Hook, ...]:
        return self._by_point.get(point, ())

    def run(self, point: HookPoint, payload: Any) -> Any:
        """Run the chain at ``point``; the final payload, or ``HookBlockedError``.

        At a point that does not modify, replacements and vetoes are ignored
        and the payload comes back as given.
        """
        modifying = point in MODIFYING_POINTS
        closed = self._settings.policy.of(point) == "fail-closed"
        current = payload
        for hook in self.chain(point):
            try:
                outcome = self._call(hook, point, current)
                if modifying and outcome.action == "replace":
                    replacement = json.loads(outcome.payload_json)
                    check_replacement(point, current, replacement)
                    current = replacement
            except Exception as exc:  # any failure of a hook is handled by the policy
                self._count(self.failed, point)
                reason = str(exc) or type(exc).__name__
                if closed:
                    self._warn(
                        "hook failed; blocking", point=point, module=hook.module, error=reason
                    )
                    raise HookBlockedError(point, hook.module, reason) from None
                self._warn("hook failed; skipped", point=point, module=hook.module, error=reason)
                continue
            if modifying and outcome.action == "veto":
                self._count(self.vetoed, point)
                self._warn("hook vetoed", point=point, module=hook.module, reason=outcome.reason)
                raise HookBlockedError(point, hook.module, f"vetoed: {outcome.reason}", vetoed=True)
        return current

    def _count(self, counter: Counter[str], point: HookPoint) -> None:
        with self._count_lock:  # Counter's += is a read then a write
            counter[point] += 1

    def _call(self, hook: Hook, point: HookPoint, payload: Any) -> HookOutcome:
        why = hook.unavailable()
        if why:
            raise RuntimeError(why)
        if point == "observer":
            # Inline on the observer bridge's own thread: a stuck observer stalls
            # only the bridge, whose queue then drops (and counts) what comes.
            return hook.call(point, json.dumps(payload))
        key = (hook.module, point)
        if key in self._abandoned:
            raise TimeoutError("its last call timed out and has not returned yet")
        with self._pool_lock:
            if self._pool is None:  # started on first use: an engine without hooks has none
                self._pool = DaemonPool("cove-hook")
            pool = self._pool
        text = json.dumps(payload)
        future = pool.submit(lambda: hook.call(point, text))
        try:
            return future.result(timeout=hook.timeout_ms / 1000)
        except FutureTimeout:
            if not future.cancel():
                self._abandoned.add(key)
                future.add_done_callback(lambda _: self._abandoned.discard(key))
            raise TimeoutError(f"timed out after {hook.timeout_ms} ms") from None

    def describe(self) -> dict[str, Any]:
        """For operators: each point's chain in run order, its policy, and the counters."""
        return {
            "points": {
                point: {
                    "policy": self._settings.policy.of(point),
                    "hooks": [
                        {"module": h.module, "priority": h.priority, "timeout_ms": h.timeout_ms}
                        for h in chain
                    ],
                }
                for point, chain in sorted(self._by_point.items())
            },
            "failed": dict(self.failed),
            "vetoed": dict(self.vetoed),
        }

    def after_tool_result(self, module: str, tool: str, result_json: str) -> str:
        """For the tools code: the result as the hooks left it; ``HookBlockedError`` if blocked."""
        if not self.has("after-tool-result"):
            return result_json
        payload = {"module": module, "tool": tool, "result": json.loads(result_json)}
        return json.dumps(self.run("after-tool-result", payload)["result"])

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
