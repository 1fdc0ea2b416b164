"""Fixtures of the security suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cove._hosts._wasm_runtime import WasmRuntime
from tests.helpers.modules import CACHE


@pytest.fixture
def runtime() -> Iterator[WasmRuntime]:
    """A wasmtime engine sharing the test cache's compiled components; closed after."""
    runtime = WasmRuntime(CACHE / "compiled")
    yield runtime
    runtime.close()
