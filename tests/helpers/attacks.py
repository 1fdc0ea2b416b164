"""The hostile corpus (tests/assets/attacks): one real component per attack, built once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from cove._hosts._wasm_runtime import WasmRuntime
from tests.helpers.modules import CACHE, build_guest

ATTACKS: dict[str, list[str]] = {
    "sleeper": ["logging"],
    "dripper": ["http"],
    "emitter": ["events"],
    "impersonator": ["events"],
    "oversize": ["http", "logging", "store"],
    "raiser": ["logging"],
    "bomb": ["logging"],
    "talker": ["logging"],
    "flooder": ["logging"],
    "printer": ["logging"],
}
"""Each attack's guest and the capabilities it declares (the fewest it needs)."""


def build_attacks() -> dict[str, Path]:
    """Every attack's component, built (componentize-py, cached by inputs) and compiled
    into the shared cache, two at a time: a build is one componentize-py process and a
    compile fans out over the cores, so two keep a two-core machine busy."""
    runtime = WasmRuntime(CACHE / "compiled")
    try:

        def ready(name: str) -> Path:
            path = build_guest(f"attacks/{name}", ATTACKS[name])
            runtime.precompile(name, path.read_bytes())
            return path

        with ThreadPoolExecutor(2) as pool:
            return dict(zip(ATTACKS, pool.map(ready, ATTACKS), strict=True))
    finally:
        runtime.close()
