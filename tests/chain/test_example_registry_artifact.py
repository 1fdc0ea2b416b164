"""The committed registry artifact is what its source compiles to (solc-js, pinned in package.json)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.helpers.modules import REPO


@pytest.mark.slow  # loads the solc-js compiler (~5 s)
def test_the_committed_registry_artifact_matches_a_fresh_compile() -> None:
    node = shutil.which("node")
    assert node is not None, "node is needed to compile the example registry (make setup)"
    proc = subprocess.run(
        [node, "examples/registry/compile.js", "--check"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
