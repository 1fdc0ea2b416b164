"""Session fixtures: real components, built once per session (and cached on disk)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from cove._hosts import _fast_call
from tests.helpers import modules
from tests.helpers.engine import PROBE_CAPABILITIES
from tests.helpers.modules import build_guest


@pytest.fixture(autouse=True)
def _fresh_logging() -> Iterator[None]:
    """Code under test may configure structlog (e.g. `cove run --mock` filters
    to warnings); never let that leak into the next test's captured logs."""
    yield
    structlog.reset_defaults()


@pytest.fixture(autouse=True, scope="session")
def _local_engine_records(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Engines under test record their token files in a temporary state dir, not the user's."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COVE_STATE_DIR", str(tmp_path_factory.mktemp("cove-state")))
        yield


@pytest.fixture(scope="session")
def probe_wasm() -> Path:
    """The probe guest (tests/assets/probe) compiled with componentize-py."""
    return build_guest("probe", PROBE_CAPABILITIES)


@pytest.fixture(params=["fast", "fast-ctypes", "wrapper"])
def call_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a wasm-host test on both call paths (engine configs get ``[wasm] call_path``),
    the fast one in both its implementations (C extension, ctypes)."""
    path = "fast" if request.param == "fast-ctypes" else request.param
    monkeypatch.setattr(modules, "WASM_CALL_PATH", path)
    monkeypatch.setattr(_fast_call, "COMPILED", _fast_call.COMPILED and request.param == "fast")
    return str(path)


@pytest.fixture(params=["C", "ctypes"])
def fast_impl(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a fast-path test on the C extension and on its ctypes twin."""
    if request.param == "C" and _fast_call.EXT_PROBLEM is not None:
        pytest.skip(_fast_call.EXT_PROBLEM)
    monkeypatch.setattr(_fast_call, "COMPILED", request.param == "C")
    return str(request.param)
