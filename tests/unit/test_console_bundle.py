"""The console's checked-in bundle is what console/build.sh makes from console/src."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers.modules import REPO

STATIC = REPO / "src" / "cove" / "_control" / "static"
ESBUILD = REPO / "node_modules" / ".bin" / "esbuild"


@pytest.mark.skipif(not ESBUILD.exists(), reason="node_modules not installed (make setup)")
def test_the_built_console_is_current(tmp_path: Path) -> None:
    """Edit console/src, then run `make console`: this fails until the bundle is rebuilt."""
    copy = tmp_path / "repo"
    for part in ("console", "src/cove/_control/static"):
        shutil.copytree(REPO / part, copy / part)
    (copy / "node_modules").symlink_to(REPO / "node_modules")
    subprocess.run(["sh", str(copy / "console" / "build.sh")], check=True, timeout=120)
    for name in ("console.js", "console.css"):
        built = (copy / "src/cove/_control/static" / name).read_bytes()
        assert built == (STATIC / name).read_bytes(), f"{name} is stale: run `make console`"
