"""Hand-written components: tests/assets/wat/<name>.wat assembled to a binary .wasm."""

from __future__ import annotations

import os
from pathlib import Path

import wasmtime

from tests.helpers.modules import ASSETS, CACHE


def wat_component(name: str) -> Path:
    """The binary component for tests/assets/wat/<name>.wat (wasmtime's wat2wasm)."""
    source = ASSETS / "wat" / f"{name}.wat"
    out = CACHE / "wat" / f"{name}.wasm"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(bytes(wasmtime.wat2wasm(source.read_text())))
    os.replace(tmp, out)
    return out
