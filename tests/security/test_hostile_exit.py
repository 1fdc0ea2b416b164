"""`cove run` exits 0 on SIGTERM whatever its guests wrote (a panic, a flood of
output) or do (a sleep that would never end)."""

from __future__ import annotations

import signal
from pathlib import Path

from tests.helpers.control import control_section
from tests.helpers.cove_run import cove_run, post_ops
from tests.helpers.modules import write_engine_config
from tests.helpers.security import probe_module


def test_cove_run_exits_cleanly_after_a_guest_panicked_and_flooded_its_output(
    tmp_path: Path, hostile_wasm: Path
) -> None:
    """componentize-py panics (writing to stderr) on an error text with a lone
    surrogate; the engine once aborted at exit (SIGABRT) after such output."""
    talker = probe_module(tmp_path, hostile_wasm, "talker", restart={"max_failures": 2})
    config = write_engine_config(tmp_path / "engine.toml", [talker], control_section(metrics=False))
    with cove_run(config) as (proc, url):
        post_ops(
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
    with cove_run(config) as (proc, url):
        post_ops(url, "sleeper", [{"op": "sleep"}])
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=60)
    assert 0 == proc.returncode, rest[-2000:]
    assert "engine stopped" in rest
