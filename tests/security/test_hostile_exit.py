"""`cove run` exits 0 on SIGTERM whatever its guests wrote (a panic, a flood of
output) or do (a sleep that would never end)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.helpers.control import AUTH, TOKEN, TOKEN_ENV, control_section
from tests.helpers.modules import REPO, write_engine_config
from tests.helpers.security import probe_module


@contextmanager
def _cove_run(config: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`cove run` on ``config`` and its control plane's URL; killed if a test leaves it."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "cove", "run", "--config", str(config)],
        cwd=REPO,
        env={**os.environ, TOKEN_ENV: TOKEN},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    try:
        url = ""
        for line in proc.stdout:
            found = re.search(r"control plane listening\s+url=(\S+)", line)
            if found:
                url = found.group(1)
                break
        assert url, "the control plane did not start"
        yield proc, url
    finally:
        if proc.poll() is None:  # never leak an engine process past the test
            proc.kill()
            proc.communicate()


def _post_ops(url: str, module: str, ops: list[dict[str, object]]) -> None:
    for op in ops:
        body = {"name": f"{module}.op", "payload": json.dumps(op)}
        assert 200 <= httpx.post(f"{url}/v1/events", json=body, headers=AUTH).status_code < 300


def test_cove_run_exits_cleanly_after_a_guest_panicked_and_flooded_its_output(
    tmp_path: Path, hostile_wasm: Path
) -> None:
    """componentize-py panics (writing to stderr) on an error text with a lone
    surrogate; the engine once aborted at exit (SIGABRT) after such output."""
    talker = probe_module(tmp_path, hostile_wasm, "talker", restart={"max_failures": 2})
    config = write_engine_config(tmp_path / "engine.toml", [talker], control_section(metrics=False))
    with _cove_run(config) as (proc, url):
        _post_ops(
            url,
            "talker",
            [{"op": "print-flood", "lines": 5_000}, {"op": "raise", "text": "\ud800 lone"}],
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            if "module dead" in line:
                break
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=60)
    assert 0 == proc.returncode, rest[-2000:]
    assert "engine stopped" in rest


def test_cove_run_stops_on_sigterm_while_a_guest_sleeps_for_good(
    tmp_path: Path, hostile_wasm: Path
) -> None:
    """``time.sleep(10**6)`` in a handler once held its thread for good, and SIGTERM
    never stopped the engine; now the sleep ends at the module's deadline."""
    sleeper = probe_module(tmp_path, hostile_wasm, "sleeper", resources={"timeout": "3s"})
    config = write_engine_config(
        tmp_path / "engine.toml", [sleeper], control_section(metrics=False)
    )
    with _cove_run(config) as (proc, url):
        _post_ops(url, "sleeper", [{"op": "sleep"}])
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=60)
    assert 0 == proc.returncode, rest[-2000:]
    assert "engine stopped" in rest
