"""Which runners an append of journal entries concerns.

Design note: every append used to wake every runner, and each read the new
entries and passed over the ones that were not its own. With 10,000 loaded
modules (most of them hibernating) that was 10,000 loop turns per publish. The
index finds the modules an entry can match (a custom event by its exact name,
or a module with a glob or a non-custom subscription of the entry's kind, then
its own matcher), and the engine wakes those; a parked (caught-up) module it
wakes skips straight to the append, past entries that were not its own —
but only past entries that passed the index: one journaled elsewhere (another
engine, the outbox) below it means it reads from where it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .._events import Custom
from .._manifest_subscriptions import CustomSubscription
from .._store._base import JournalEntry
from ._matching import PRIVATE
from ._runner import ModuleRunner

_GLOB = frozenset("*?[")


class WakeIndex:
    """Built from the loaded runners; ``stale`` after a load, unload or reload."""

    def __init__(self) -> None:
        self.stale = True
        self._exact: dict[str, list[ModuleRunner]] = {}
        self._scan_custom: list[ModuleRunner] = []
        self._by_kind: dict[type, list[ModuleRunner]] = {}

    def rebuild(self, runners: Iterable[ModuleRunner]) -> None:
        exact: dict[str, list[ModuleRunner]] = {}
        scan: list[ModuleRunner] = []
        by_kind: dict[type, list[ModuleRunner]] = {}
        for runner in runners:
            matcher = runner.instance.matches
            globbed = False
            for sub in runner.manifest.subscription:
                if isinstance(sub, CustomSubscription):
                    if _GLOB.isdisjoint(sub.name):
                        exact.setdefault(sub.name, []).append(runner)
                    else:
                        globbed = True
            if globbed:
                scan.append(runner)
            for kind in matcher.kinds():
                if kind is not Custom:
                    by_kind.setdefault(kind, []).append(runner)
        self._exact, self._scan_custom, self._by_kind = exact, scan, by_kind
        self.stale = False

    def concerned(
        self, entries: list[JournalEntry], runners: Mapping[str, ModuleRunner]
    ) -> set[ModuleRunner]:
        """The runners whose subscriptions match one of ``entries`` at least."""
        found: set[ModuleRunner] = set()
        # Public custom names already looked at: their match depends on the name alone,
        # and a batch often repeats one name.
        names: set[str] = set()
        for entry in entries:
            event = entry.event
            payload = event.payload
            if type(payload) is Custom:
                name = payload.name
                if name in PRIVATE:
                    owner = runners.get(payload.source)
                    candidates: Iterable[ModuleRunner] = () if owner is None else (owner,)
                elif name in names:
                    continue
                else:
                    names.add(name)
                    found.update(self._exact.get(name, ()))
                    candidates = self._scan_custom
            else:
                candidates = self._by_kind.get(type(payload), ())
            for runner in candidates:
                if runner not in found and runner.instance.matches(event):
                    found.add(runner)
        return found


__all__ = ["WakeIndex"]
