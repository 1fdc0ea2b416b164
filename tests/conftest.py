"""Session fixtures: real components, built once per session (and cached on disk)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import modules
from tests.helpers.engine import PROBE_CAPABILITIES
from tests.helpers.modules import build_guest


@pytest.fixture(scope="session")
def probe_wasm() -> Path:
    """The probe guest (tests/assets/probe) compiled with componentize-py."""
    return build_guest("probe", PROBE_CAPABILITIES)


@pytest.fixture(params=["fast", "wrapper"])
def call_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a wasm-host test on both call paths (engine configs get ``[wasm] call_path``)."""
    monkeypatch.setattr(modules, "WASM_CALL_PATH", request.param)
    return str(request.param)
