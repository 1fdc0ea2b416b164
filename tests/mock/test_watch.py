"""`cove run --mock --watch` reruns the fixture when the module's code changes."""

from __future__ import annotations

import queue
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from tests.helpers.modules import ASSETS


def test_a_saved_change_reruns_with_the_new_code(tmp_path: Path) -> None:
    module = tmp_path / "watcher"
    shutil.copytree(ASSETS / "mock_native", module, ignore=shutil.ignore_patterns("__pycache__"))
    fixture = tmp_path / "f.toml"
    fixture.write_text('[[events]]\nkind = "message"\nbody = "ping"\n')
    command = [sys.executable, "-m", "cove", "run", "--mock", str(fixture)]
    proc = subprocess.Popen(
        [*command, "--module", str(module), "--watch"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stdout is not None
    stdout = proc.stdout
    threading.Thread(target=lambda: [lines.put(line) for line in stdout], daemon=True).start()

    def read_until(marker: str) -> list[str]:
        seen = []
        while marker not in (line := lines.get(timeout=60)):
            seen.append(line)
        return seen

    try:
        first = read_until("watching for changes")
        assert any("echo: ping" in line for line in first), first
        code = module / "watcher.py"
        code.write_text(code.read_text().replace('f"echo: {p.body}"', 'f"pong: {p.body}"'))
        second = read_until("watching for changes")
        assert any("change detected" in line for line in second), second
        assert any("send   console → alice: pong: ping" in line for line in second), second
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        stdout.close()
