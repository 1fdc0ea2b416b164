"""Session fixtures: real components, built once per session (and cached on disk)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from tests.helpers import modules
from tests.helpers.engine import PROBE_CAPABILITIES
from tests.helpers.modules import build_guest


@pytest.fixture(autouse=True)
def _fresh_logging() -> Iterator[None]:
    """Code under test may configure structlog (e.g. `cove run --mock` filters
    to warnings); never let that leak into the next test's captured logs."""
    yield
    structlog.reset_defaults()


@pytest.fixture(scope="session")
def probe_wasm() -> Path:
    """The probe guest (tests/assets/probe) compiled with componentize-py."""
    return build_guest("probe", PROBE_CAPABILITIES)


@pytest.fixture(params=["fast", "wrapper"])
def call_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a wasm-host test on both call paths (engine configs get ``[wasm] call_path``)."""
    monkeypatch.setattr(modules, "WASM_CALL_PATH", request.param)
    return str(request.param)
