"""WASI sleeps bounded by the guest call's deadline.

Design note: a WASI sleep (``monotonic-clock.subscribe-*`` then ``poll``) is
a host call into wasmtime's own WASI code, where epoch interruption never
fires, so ``time.sleep(10**6)`` in a guest held its thread for good. The
guest's ``monotonic-clock`` is shadowed here: every subscription is cut to
what is left of the call's deadline plus one epoch tick, so the wait ends
just after the epoch has passed and the guest's next instruction traps with
the deadline error. The pollable itself must be WASI's own resource type
(streams and poll take it too), so it is made by wasmtime's WASI through a
tiny helper component that lowers and lifts ``subscribe-duration`` and
``now`` unchanged. Rejected: a Python-made pollable (a different resource
type, refused at instantiation) and reimplementing ``wasi:io`` (large, and
every guest's stdout goes through it).
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Iterable
from typing import Any

import wasmtime
from wasmtime.component import Component, Linker

INTERFACE = "wasi:clocks/monotonic-clock@"
"""The shadowed interface, without its version (a guest's own import name is shadowed)."""

_HELPER_WAT = """
(component
  (import "wasi:io/poll@0.2.0" (instance $poll (export "pollable" (type (sub resource)))))
  (alias export $poll "pollable" (type $pollable))
  (import "wasi:clocks/monotonic-clock@0.2.0" (instance $clock
    (alias outer 1 $pollable (type $p))
    (export "pollable" (type $pe (eq $p)))
    (export "now" (func (result u64)))
    (export "subscribe-duration" (func (param "when" u64) (result (own $pe))))))
  (core func $subscribe (canon lower (func $clock "subscribe-duration")))
  (core func $now (canon lower (func $clock "now")))
  (core module $pass
    (import "h" "subscribe" (func $subscribe (param i64) (result i32)))
    (import "h" "now" (func $now (result i64)))
    (export "subscribe" (func $subscribe))
    (export "now" (func $now)))
  (core instance $h (export "subscribe" (func $subscribe)) (export "now" (func $now)))
  (core instance $m (instantiate $pass (with "h" (instance $h))))
  (func $subscribe-lifted (param "when" u64) (result (own $pollable))
    (canon lift (core func $m "subscribe")))
  (func $now-lifted (result u64) (canon lift (core func $m "now")))
  (export "subscribe-duration" (func $subscribe-lifted))
  (export "now" (func $now-lifted)))
"""

_IMPORTS: weakref.WeakKeyDictionary[Component, tuple[str, ...]] = weakref.WeakKeyDictionary()

Remaining = Callable[[], int | None]
"""Nanoseconds left before the running call's deadline (None outside a call)."""


class ClockHelper:
    """The helper component, compiled once per wasmtime engine."""

    def __init__(self, engine: wasmtime.Engine) -> None:
        self.component = Component(engine, _HELPER_WAT)
        self.linker = Linker(engine)
        self.linker.add_wasip2()

    def bind(self, store: wasmtime.Store) -> BoundClock:
        """WASI's clock in ``store`` (call once per store, before the guest runs)."""
        instance = self.linker.instantiate(store, self.component)
        subscribe = instance.get_func(store, "subscribe-duration")
        now = instance.get_func(store, "now")
        assert subscribe is not None and now is not None
        return BoundClock(subscribe, now)


class BoundClock:
    """One store's WASI clock functions, called from inside the guest's host calls."""

    def __init__(self, subscribe: Any, now: Any) -> None:
        self._subscribe = subscribe
        self._now = now

    def now(self, store: Any) -> int:
        value: int = self._now(store)
        return value

    def subscribe(self, store: Any, nanos: int) -> Any:
        return self._subscribe(store, max(0, nanos))


def clock_imports(component: Component, engine: wasmtime.Engine) -> tuple[str, ...]:
    """The component's imports of the clock, for ``shadow_monotonic_clock``; listed
    once per component: wasmtime-py builds every import's type to list them, ~0.3 ms,
    and a hibernated module's linker is made again on every wake."""
    names = _IMPORTS.get(component)
    if names is None:
        imports = component.type.imports(engine)
        names = _IMPORTS.setdefault(component, tuple(n for n in imports if n.startswith(INTERFACE)))
    return names


def shadow_monotonic_clock(
    linker: Linker,
    imports: Iterable[str],
    clock: Callable[[], BoundClock | None],
    remaining: Remaining,
    cap_ns: int,
    slack_ns: int,
    on_cut: Callable[[], None],
    on_wait: Callable[[int], None] = lambda _nanos: None,
) -> None:
    """Define the guest's ``monotonic-clock`` over WASI's, with every wait cut to
    ``remaining() + slack_ns`` (call after ``add_wasip2``); ``on_cut`` is called
    when a wait was cut, so the call fails with its deadline even if the epoch
    ticker ran late and the guest returned before its next epoch check;
    ``on_wait`` is told every wait's length (the stop need not wait for one
    that outlasts its grace: a wait under way cannot be cut). Outside
    a call (``remaining()`` is None: instantiation runs the guest's start code)
    a wait is cut to ``cap_ns``, the module's timeout.

    ``imports``: the component's import names; the clock is shadowed under
    every exact name the guest imports (it may import several versions), which
    wasmtime matches before any other semver-compatible version of it.
    """
    names = [name for name in imports if name.startswith(INTERFACE)]
    if not names:
        return

    def bounded(nanos: int) -> int:
        called = remaining()
        left = cap_ns if called is None else called
        if nanos > max(0, left) + slack_ns:
            on_cut()
            nanos = max(0, left) + slack_ns
        on_wait(nanos)
        return nanos

    def current() -> BoundClock:
        bound = clock()
        if bound is None:
            raise wasmtime.WasmtimeError("the module's WASI clock is gone")
        return bound

    def subscribe_duration(store: Any, nanos: int) -> Any:
        return current().subscribe(store, bounded(nanos))

    def subscribe_instant(store: Any, when: int) -> Any:
        bound = current()
        return bound.subscribe(store, bounded(when - bound.now(store)))

    linker.allow_shadowing = True
    with linker.root() as root:
        for name in names:
            with root.add_instance(name) as clock_api:
                clock_api.add_func("now", lambda store: current().now(store))
                clock_api.add_func("resolution", lambda _store: 1)
                clock_api.add_func("subscribe-duration", subscribe_duration)
                clock_api.add_func("subscribe-instant", subscribe_instant)
    linker.allow_shadowing = False


def nanos_left(deadline_ns: int | None) -> int | None:
    """Nanoseconds until ``deadline_ns`` (a ``perf_counter_ns`` value)."""
    return None if deadline_ns is None else deadline_ns - time.perf_counter_ns()
