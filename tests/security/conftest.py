"""Fixtures of the security suite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cove._hosts._wasm_runtime import WasmRuntime
from tests.helpers.attacks import build_attacks
from tests.helpers.modules import CACHE, build_guest


@pytest.fixture
def runtime() -> Iterator[WasmRuntime]:
    """A wasmtime engine sharing the test cache's compiled components; closed after."""
    runtime = WasmRuntime(CACHE / "compiled")
    yield runtime
    runtime.close()


HOSTILE_CAPABILITIES = ["events", "http", "logging", "messaging", "store"]


@pytest.fixture(scope="session")
def hostile_wasm() -> Path:
    """The attacker guest (tests/assets/hostile): one op per attack."""
    return build_guest("hostile", HOSTILE_CAPABILITIES)


@pytest.fixture(scope="session")
def attacks() -> dict[str, Path]:
    """The hostile corpus (tests/assets/attacks): one built component per attack."""
    return build_attacks()
