"""Components the tool tests share, built once per session (and cached on disk)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.modules import build_guest


@pytest.fixture(scope="session")
def tool_wasm() -> Path:
    """tests/assets/tool_probe: add, remember, recall, write_then_fail (store, events)."""
    return build_guest("tool_probe", ["store", "events"], tools=True)


@pytest.fixture(scope="session")
def hostile_wasm() -> Path:
    """tests/assets/hostile_tool: spin (never returns) and ping."""
    return build_guest("hostile_tool", [], tools=True)
