"""The shadowed WASI clock cuts every wait a component can start, whatever version it imports."""

from __future__ import annotations

from typing import Any

import pytest
import wasmtime
from wasmtime.component import Component, Linker

from cove._hosts import _wasi_clock

_CLOCK = """
  (import "wasi:clocks/monotonic-clock@{version}" (instance ${name}
    (alias outer 1 $pollable (type $p))
    (export "pollable" (type $pe (eq $p)))
    (export "subscribe-duration" (func (param "when" u64) (result (own $pe))))))
  (core func ${name}-subscribe (canon lower (func ${name} "subscribe-duration")))
"""

_SLEEPER = """
(component
  (import "wasi:io/poll@0.2.0" (instance $poll
    (export "pollable" (type $pt (sub resource)))
    (export "[method]pollable.block" (func (param "self" (borrow $pt))))))
  (alias export $poll "pollable" (type $pollable))
  {clocks}
  (core func $block (canon lower (func $poll "[method]pollable.block")))
  (core func $drop (canon resource.drop $pollable))
  (core module $m
    (import "h" "old" (func $old (param i64) (result i32)))
    (import "h" "new" (func $new (param i64) (result i32)))
    (import "h" "block" (func $block (param i32)))
    (import "h" "drop" (func $drop (param i32)))
    (func (export "sleep-old") (param i64)
      (local $p i32)
      (local.set $p (call $old (local.get 0)))
      (call $block (local.get $p))
      (call $drop (local.get $p)))
    (func (export "sleep-new") (param i64)
      (local $p i32)
      (local.set $p (call $new (local.get 0)))
      (call $block (local.get $p))
      (call $drop (local.get $p))))
  (core instance $h
    (export "old" (func $old-subscribe))
    (export "new" (func $new-subscribe))
    (export "block" (func $block))
    (export "drop" (func $drop)))
  (core instance $i (instantiate $m (with "h" (instance $h))))
  (func (export "sleep-old") (param "nanos" u64) (canon lift (core func $i "sleep-old")))
  (func (export "sleep-new") (param "nanos" u64) (canon lift (core func $i "sleep-new"))))
"""

SECOND = 1_000_000_000


class Harness:
    """A component importing two versions of the clock, linked as a module host links it."""

    def __init__(self, remaining: int | None, cap_ns: int) -> None:
        engine = wasmtime.Engine()
        clocks = _CLOCK.format(version="0.2.0", name="old") + _CLOCK.format(
            version="0.2.1", name="new"
        )
        component = Component(engine, _SLEEPER.format(clocks=clocks))
        self.cuts = 0
        self.waits: list[int] = []
        self.store = wasmtime.Store(engine)
        self.store.set_wasi(wasmtime.WasiConfig())
        helper = _wasi_clock.ClockHelper(engine)
        bound = helper.bind(self.store)
        linker = Linker(engine)
        linker.add_wasip2()
        _wasi_clock.shadow_monotonic_clock(
            linker,
            component.type.imports(engine),
            lambda: bound,
            lambda: remaining,
            cap_ns,
            0,
            self._cut,
            self.waits.append,
        )
        self.instance = linker.instantiate(self.store, component)

    def _cut(self) -> None:
        self.cuts += 1

    def sleep(self, export: str, nanos: int) -> None:
        func: Any = self.instance.get_func(self.store, export)
        func(self.store, nanos)


@pytest.mark.parametrize("export", ["sleep-old", "sleep-new"])
def test_a_wait_past_the_deadline_is_cut_under_every_imported_version(export: str) -> None:
    harness = Harness(remaining=0, cap_ns=SECOND)
    harness.sleep(export, 2 * SECOND)
    assert 1 == harness.cuts


def test_a_wait_outside_a_call_is_cut_at_the_modules_timeout() -> None:
    """No call in progress (instantiation runs the guest's start code): the cap is the
    module's timeout, not nothing."""
    harness = Harness(remaining=None, cap_ns=1_000_000)
    harness.sleep("sleep-new", 2 * SECOND)
    assert 1 == harness.cuts


def test_a_wait_within_the_deadline_is_left_alone() -> None:
    harness = Harness(remaining=SECOND, cap_ns=SECOND)
    harness.sleep("sleep-new", 1_000)
    assert 0 == harness.cuts


def test_every_wait_is_reported_with_the_length_it_gets() -> None:
    """The stop learns how long a wait under way still has (it cannot be cut), so it
    does not wait for one that outlasts its grace."""
    harness = Harness(remaining=1_000_000, cap_ns=SECOND)
    harness.sleep("sleep-new", 1_000)
    harness.sleep("sleep-new", 2 * SECOND)
    assert [1_000, 1_000_000] == harness.waits
