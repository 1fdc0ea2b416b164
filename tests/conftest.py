"""Session fixtures: real components, built once per session (and cached on disk)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.engine import PROBE_CAPABILITIES
from tests.helpers.modules import build_guest


@pytest.fixture(scope="session")
def probe_wasm() -> Path:
    """The probe guest (tests/assets/probe) compiled with componentize-py."""
    return build_guest("probe", PROBE_CAPABILITIES)
