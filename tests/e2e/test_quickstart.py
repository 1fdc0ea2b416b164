"""docs/quickstart.md, driven literally: every command in its `sh` blocks, checked against its `text` blocks.

Each line of a `text` block must be a line of the output, where ``…`` stands
for what varies from run to run. The commands run in a temporary directory through a shell, with the
virtualenv's ``bin`` first on PATH, as a reader would type them. Builds use
the suite's shared build cache, so after the first run the build is a cache hit.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.modules import CACHE, REPO

QUICKSTART = REPO / "docs" / "quickstart.md"
_FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.S | re.M)


def steps() -> list[tuple[list[str], list[str]]]:
    """(commands, expected lines) for each `sh` block and the `text` block right after it."""
    out: list[tuple[list[str], list[str]]] = []
    for lang, body in _FENCE.findall(QUICKSTART.read_text()):
        lines = [line.strip() for line in body.splitlines() if line.strip()]
        if lang == "sh":
            out.append((lines, []))
        elif lang == "text" and out and not out[-1][1]:
            out[-1] = (out[-1][0], lines)
    return out


def test_the_quickstart_has_the_five_steps() -> None:
    """Guards the test below against a doc edit that drops a step."""
    commands = [c.split()[:2] for cmds, _ in steps() for c in cmds]
    for expected in (["cove", "new"], ["cove", "test"], ["cove", "build"], ["cove", "check"]):
        assert expected in commands
    assert ["cove", "run"] in commands


@pytest.mark.slow
def test_the_quickstart_works_as_written(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "COVE_BUILD_CACHE": str(CACHE / "builds"),
    }
    cwd = tmp_path
    for commands, expected in steps():
        output = ""
        for command in commands:
            if command.startswith("cd "):
                cwd = cwd / shlex.split(command)[1]
                continue
            proc = subprocess.run(
                command, shell=True, cwd=cwd, env=env, capture_output=True, text=True
            )
            output += proc.stdout + proc.stderr
            assert 0 == proc.returncode, f"{command!r} failed:\n{output}"
        printed = output.splitlines()
        missing = [line for line in expected if not any(_shown(line).search(o) for o in printed)]
        assert [] == missing, f"{commands} printed:\n{output}"
    # The commands compiled the component into the per-user cache (COVE_CACHE_DIR), not
    # into a folder of the module or of the working directory.
    pin = re.search(r'sha256 = "sha256:([0-9a-f]{64})"', (cwd / "cove.toml").read_text())
    assert pin is not None
    assert list((CACHE / "compiled").glob(f"{pin[1]}-*.cwasm"))


def _shown(line: str) -> re.Pattern[str]:
    """A line as the page shows it: ``…`` stands for what varies (times, fuel, hashes)."""
    return re.compile(".*".join(re.escape(part) for part in line.split("…")))
