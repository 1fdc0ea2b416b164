"""Start-to-first-event of ``cove run --mock`` with a cached build, against baselines.

Each row is a fresh process, timed from spawn until the transcript's first
handled-event line (or exit, for the baselines). Same machine, same run:
``python -c pass`` is the interpreter, ``cove --help`` is importing the CLI,
so the difference between the last two rows is what ``--mock`` itself costs.

Run: .venv/bin/python bench/mock_start.py [ROUNDS]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import CACHE, median, print_table, rounds_argument

BIN = Path(sys.executable).parent


def time_to(command: list[str], cwd: Path, marker: str | None, env: dict[str, str]) -> float:
    """Seconds from spawn until a stdout line contains ``marker`` (or the process ends)."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    seen = None
    for line in proc.stdout:
        if seen is None and marker is not None and marker in line:
            seen = time.perf_counter() - start
    proc.wait()
    if proc.returncode != 0 or (marker is not None and seen is None):
        raise SystemExit(f"{command} failed (exit {proc.returncode})")
    return seen if seen is not None else time.perf_counter() - start


def main(rounds: int) -> None:
    env = {**os.environ, "COVE_BUILD_CACHE": str(CACHE / "builds")}
    with tempfile.TemporaryDirectory(prefix="cove-bench-") as tmp:
        module = Path(tmp) / "hello"
        cove = str(BIN / "cove")
        subprocess.run([cove, "new", "hello", "--dir", str(module)], check=True, env=env)
        # The first run builds (or hits the shared cache) and compiles; not timed.
        subprocess.run(
            [cove, "run", "--mock", "fixtures/hello.toml"], cwd=module, env=env, check=True
        )
        cases = [
            ("python -c pass", [sys.executable, "-c", "pass"], None),
            ("cove --help", [cove, "--help"], None),
            (
                "cove run --mock (to first event)",
                [cove, "run", "--mock", "fixtures/hello.toml"],
                "✓",
            ),
        ]
        rows = []
        for label, command, marker in cases:
            samples = [time_to(command, module, marker, env) for _ in range(rounds)]
            rows.append(
                (label, f"{median(samples):.3f}", f"{min(samples):.3f}", f"{max(samples):.3f}")
            )
    load = os.getloadavg()[0]
    print_table(
        f"cove run --mock start-to-first-event, cached build ({rounds} rounds, "
        f"{os.cpu_count()} CPUs, load {load:.1f}); seconds",
        rows,
        ("command", "median", "min", "max"),
    )


if __name__ == "__main__":
    main(rounds_argument(__doc__, 5))
