"""A module's spending against its operator budgets (``[budgets.<module>]``), kept in the store.

Design note: a host call charges its event's overlay (``EventEffects.usage``),
checked against what is committed plus what the event spent so far. The
commit that makes the event durable adds that usage here and writes the
totals to the store inside the same store batch (``set_source_state`` joins
the open transaction), so a rolled-back event spends nothing and a restart
reads back what was spent. An http request of an event that then fails was
made all the same: budgets count committed work, not attempts.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Protocol

from .._config_budgets import ModuleBudget
from ..errors import HostCallError

HOUR, DAY = 3600, 86400
WINDOWS: dict[str, tuple[str, int]] = {
    "fuel": ("fuel_per_hour", HOUR),
    "http_requests": ("http_requests_per_day", DAY),
    "chain_requests": ("chain_requests_per_day", DAY),
    "transactions": ("transactions_per_day", DAY),
    "value_wei": ("value_wei_per_day", DAY),
    "messages": ("messages_per_hour", HOUR),
}
"""Each budget's name, its ``[budgets.<module>]`` key and its window in seconds."""

OnExhausted = Callable[[str, str, int], None]
"""(module, budget, limit) -> None: the ``budget`` hook point's trigger."""


class SourceState(Protocol):
    def source_state(self, source: str) -> str | None: ...

    def set_source_state(self, source: str, value: str) -> None: ...


def state_key(module: str) -> str:
    return f"budget:{module}"


class Spending:
    """What one module spent in each budget's current window; shared by its versions."""

    def __init__(
        self,
        module: str,
        budget: ModuleBudget | None,
        store: SourceState,
        on_exhausted: OnExhausted | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.module = module
        self._limits: dict[str, int] = {}
        if budget is not None:
            for name, (key, _) in WINDOWS.items():
                limit = getattr(budget, key)
                if limit is not None:
                    self._limits[name] = limit
        self._store = store
        self._on_exhausted = on_exhausted
        self._clock = clock
        self._lock = threading.Lock()
        self._announced: dict[str, int] = {}
        raw = store.source_state(state_key(module)) if self._limits else None
        self._spent: dict[str, tuple[int, int]] = {
            name: (int(start), int(used)) for name, (start, used) in json.loads(raw or "{}").items()
        }

    def limits(self, name: str) -> bool:
        return name in self._limits

    def used(self, name: str) -> int:
        """Spent in the current window (0 once a new window began)."""
        start, used = self._spent.get(name, (0, 0))
        return used if start == self._window(name) else 0

    def charge(
        self, usage: dict[str, int], name: str, amount: int, before: dict[str, int] | None = None
    ) -> None:
        """Count ``amount`` in the event's ``usage``, or refuse it past the budget;
        ``before``: what earlier events of the same uncommitted batch spent."""
        limit = self._limits.get(name)
        if limit is None:
            return
        pending = usage.get(name, 0) + amount
        earlier = before.get(name, 0) if before else 0
        if self.used(name) + earlier + pending > limit:
            self.charge_all(usage, {name: amount}, before)  # raises, naming the budget
        usage[name] = pending

    def charge_all(
        self, usage: dict[str, int], amounts: dict[str, int], before: dict[str, int] | None = None
    ) -> None:
        """Count every amount of one call, or none of them when one is past its budget."""
        for name, amount in amounts.items():
            limit = self._limits.get(name)
            if limit is None:
                continue
            earlier = before.get(name, 0) if before else 0
            total = self.used(name) + earlier + usage.get(name, 0) + amount
            if total > limit:
                self._exhausted(name, limit)
                key, window = WINDOWS[name]
                raise HostCallError(
                    "limit-exceeded",
                    f"budget {name}: module {self.module!r} would spend {total} of its "
                    f"{limit} per {'hour' if window == HOUR else 'day'} "
                    f"([budgets.{self.module}] {key})",
                )
        for name, amount in amounts.items():
            if name in self._limits:
                usage[name] = usage.get(name, 0) + amount

    def exhausted(self, name: str, before: dict[str, int] | None = None) -> str | None:
        """Why the module may not start more work on ``name`` now, or None."""
        limit = self._limits.get(name)
        earlier = before.get(name, 0) if before else 0
        if limit is None or self.used(name) + earlier < limit:
            return None
        self._exhausted(name, limit)
        key, _ = WINDOWS[name]
        return f"budget {name}: module {self.module!r} spent its {limit} ([budgets.{self.module}] {key})"

    def commit(self, usage: dict[str, int]) -> None:
        """Add a committed event's usage; call inside the store batch of its commit."""
        counted = {name: amount for name, amount in usage.items() if name in self._limits}
        if not counted:
            return
        with self._lock:
            for name, amount in counted.items():
                self._spent[name] = (self._window(name), self.used(name) + amount)
            self._store.set_source_state(state_key(self.module), json.dumps(self._spent))

    def report(self) -> dict[str, dict[str, int]]:
        """Each budget's use, limit and when its window ends (Unix ms), for status."""
        return {
            name: {
                "used": self.used(name),
                "limit": limit,
                "window_ends_ms": (self._window(name) + WINDOWS[name][1]) * 1000,
            }
            for name, limit in self._limits.items()
        }

    def _window(self, name: str) -> int:
        window = WINDOWS[name][1]
        return int(self._clock() // window) * window

    def _exhausted(self, name: str, limit: int) -> None:
        # Once per window: a module retrying a refused call must not flood the hooks.
        window = self._window(name)
        if self._on_exhausted is not None and self._announced.get(name) != window:
            self._announced[name] = window
            self._on_exhausted(self.module, name, limit)


__all__ = ["WINDOWS", "OnExhausted", "Spending"]
