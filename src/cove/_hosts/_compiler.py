"""Which wasmtime compiler makes a module's machine code: Cranelift, Winch, or both in turn.

Design note. Cranelift (wasmtime's optimizing compiler) takes ~7 s of wall
time and ~13 s of CPU for an 18 MB componentize-py guest on two idle cores;
Winch (its baseline compiler) ~1.6 s, for slower code. ``tiered`` runs a
module on Winch's code at once and on Cranelift's once a background compile
has it (``_tiering``); docs/performance.md, *Cold start*, has the figures.
wasmtime-py's ``Config.strategy`` setter knows only "auto" and "cranelift";
the C API takes Winch, so the one ffi call that selects it lives here.
"""

from __future__ import annotations

import os
from typing import Literal, cast, get_args

import wasmtime
from wasmtime import _ffi as ffi

from ..errors import ConfigError

Compiler = Literal["tiered", "cranelift", "winch"]
"""``[wasm] compiler``: what a cache miss compiles with."""
Strategy = Literal["cranelift", "winch"]
"""One wasmtime engine's code generator."""
ENV = "COVE_WASM_COMPILER"
DEFAULT: Compiler = "tiered"
_STRATEGY_CODES: dict[Strategy, int] = {"cranelift": 1, "winch": 2}
"""``wasmtime_strategy_t``: 0 auto, 1 cranelift, 2 winch."""


def default_compiler() -> Compiler:
    """``$COVE_WASM_COMPILER`` if set (how a test run forces one), else ``tiered``."""
    value = os.environ.get(ENV, DEFAULT)
    if value not in get_args(Compiler):
        raise ConfigError(f"{ENV}={value!r}: expected one of {', '.join(get_args(Compiler))}")
    return cast(Compiler, value)


def engine_config(strategy: Strategy = "cranelift") -> wasmtime.Config:
    """Fuel and epochs on (every call bounded), code from ``strategy``. Cranelift keeps
    wasmtime's defaults: parallel compilation across the cores, opt level ``speed``."""
    config = wasmtime.Config()
    config.consume_fuel = True
    config.epoch_interruption = True
    set_strategy(config, strategy)
    return config


def set_strategy(config: wasmtime.Config, strategy: Strategy) -> None:
    """Select the code generator of engines made from ``config``."""
    ffi.wasmtime_config_strategy_set(config.ptr(), _STRATEGY_CODES[strategy])
