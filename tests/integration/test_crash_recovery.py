"""Kill -9 a real engine process again and again: nothing lost, nothing applied twice."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers.engine import PROBE_CAPABILITIES
from tests.helpers.modules import ASSETS, REPO, write_engine_config, write_manifest

KILLS = 20


def _start(config: Path, out: Path, mode: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.helpers.crash_driver", str(config), str(out), mode],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    _read_until(proc, "started")
    return proc


def _read_until(proc: subprocess.Popen[str], marker: str) -> None:
    """The driver logs to stdout too; skip to its marker line (and never leak it)."""
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        if line.strip() == marker:
            return
        seen.append(line)
    proc.kill()
    proc.wait()
    proc.stdout.close()
    raise AssertionError(f"engine exited before {marker!r}; output:\n{''.join(seen[-20:])}")


@pytest.mark.slow
def test_sigkill_loses_no_event_and_double_counts_nothing(tmp_path: Path, probe_wasm: Path) -> None:
    """After 20 SIGKILLs at random points every journaled event is counted exactly once."""
    modules = [
        write_manifest(
            tmp_path / f"native{i}",
            f"native{i}",
            kind="python",
            entry="counter:Counter",
            required=["store", "messaging"],
            subscriptions=[{"kind": "custom", "name": "probe.*"}],
        )
        for i in range(2)
    ]
    for module in modules:
        (module / "counter.py").write_text((ASSETS / "native_counter" / "counter.py").read_text())
    modules.append(
        write_manifest(tmp_path / "wasm", "wasm", component=probe_wasm, optional=PROBE_CAPABILITIES)
    )
    config = write_engine_config(tmp_path / "engine.toml", modules)
    out = tmp_path / "delivered.jsonl"
    rng = random.Random(1234)
    for _ in range(KILLS):
        proc = _start(config, out, "run")
        time.sleep(rng.uniform(0.05, 0.6))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()
    drain = _start(config, out, "drain")
    _read_until(drain, "drained")
    assert drain.wait(timeout=60) == 0
    assert drain.stdout is not None
    drain.stdout.close()

    db = sqlite3.connect(tmp_path / "data" / "cove.db")
    event_ids = [row[0] for row in db.execute("SELECT id FROM journal ORDER BY seq")]
    assert len(event_ids) > 100, "the source should have produced a steady stream"
    counts = {
        module: json.loads(value)
        for module, value in db.execute("SELECT module, value FROM state WHERE key = 'count'")
    }
    assert counts == {"native0": len(event_ids), "native1": len(event_ids), "wasm": len(event_ids)}
    delivered = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
    keys = {d["key"] for d in delivered}
    expected = {f"native{i}:{eid}:0" for i in range(2) for eid in event_ids}
    assert expected <= keys, f"{len(expected - keys)} outbox messages were never delivered"
    bodies_by_key: dict[str, set[str]] = {}
    for d in delivered:
        bodies_by_key.setdefault(d["key"], set()).add(d["body"])
    assert all(len(bodies) == 1 for bodies in bodies_by_key.values()), (
        "a redelivery changed its body"
    )
