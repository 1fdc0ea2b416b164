"""SIGTERM stops sources, drains in-flight events, flushes the outbox, exits 0."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.helpers.modules import ASSETS, REPO, write_engine_config, write_manifest


def test_sigterm_drains_everything_accepted_and_exits_cleanly(tmp_path: Path) -> None:
    module = write_manifest(
        tmp_path / "counter",
        "counter",
        kind="python",
        entry="counter:Counter",
        required=["store", "messaging"],
        config={"transport": "console"},
        subscriptions=[{"kind": "custom", "name": "sensor.reading"}],
    )
    (module / "counter.py").write_text((ASSETS / "native_counter" / "counter.py").read_text())
    config = write_engine_config(tmp_path / "engine.toml", [module])
    proc = subprocess.Popen(
        [sys.executable, "-m", "cove", "run", "--config", str(config), "--demo"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    try:
        handled = 0
        for line in proc.stdout:
            if "counter handled" in line:
                handled += 1
                if handled == 5:
                    break
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:  # never leak an engine process past the test
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, rest
    assert "engine stopped" in rest

    db = sqlite3.connect(tmp_path / "data" / "cove.db")
    last_reading = db.execute(
        "SELECT MAX(seq) FROM journal WHERE body LIKE '%\"sensor.reading\"%'"
    ).fetchone()[0]
    cursor = db.execute("SELECT seq FROM cursors WHERE module = 'counter'").fetchone()[0]
    assert cursor == last_reading
    assert db.execute("SELECT COUNT(*) FROM outbox WHERE done = 0").fetchone()[0] == 0
    db.close()
