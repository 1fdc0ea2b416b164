"""The observer bridge: records reach observer hooks in order; a full queue drops and counts."""

from __future__ import annotations

import json
import threading

from cove._config_hooks import HooksSettings
from cove._engine._hooks import Hook, Hooks
from cove._engine._observer import ObserverBridge
from cove._hosts._base import HookOutcome


def observed(seen: list[dict[str, object]]) -> Hooks:
    def call(point: str, payload_json: str) -> HookOutcome:
        seen.append(json.loads(payload_json))
        return HookOutcome("pass")

    hooks = Hooks(HooksSettings(), lambda *a, **k: None)
    hooks.add([Hook("watcher", "observer", 0, 1000, call, lambda: "")])
    return hooks


def test_records_reach_the_observers_in_order_and_close_delivers_the_rest() -> None:
    seen: list[dict[str, object]] = []
    bridge = ObserverBridge(observed(seen), capacity=100)
    bridge.start()
    bridge.engine("started")
    bridge.lifecycle("m", "running")
    bridge.close(timeout=10)
    assert seen == [
        {"kind": "engine", "state": "started"},
        {"kind": "lifecycle", "module": "m", "state": "running", "detail": ""},
    ]


def test_without_observers_nothing_is_queued() -> None:
    bridge = ObserverBridge(Hooks(HooksSettings(), lambda *a, **k: None), capacity=100)
    bridge.engine("started")
    bridge.lifecycle("m", "running")
    assert (bridge.queued, bridge.dropped) == (0, 0)


def test_every_record_put_from_many_threads_is_queued_or_counted_as_dropped() -> None:
    bridge = ObserverBridge(observed([]), capacity=10)  # not started: nothing drains

    def flood() -> None:
        for _ in range(5000):
            bridge.lifecycle("m", "running")

    threads = [threading.Thread(target=flood) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert bridge.queued + bridge.dropped == 8 * 5000
