"""Shutdown cancels in-flight guest calls: SIGTERM ends `cove run` long before the
deadlines of a looping, a sleeping and a slowly fetching guest, and their events
stay in the journal (handled again at the next start), their state untouched."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx

from cove._store._sqlite import SqliteStore
from tests.helpers.control import AUTH, control_section
from tests.helpers.cove_run import cove_run, post_ops
from tests.helpers.http_server import local_http_server
from tests.helpers.modules import write_engine_config
from tests.helpers.security import long_call_attackers


def test_sigterm_cancels_a_loop_a_sleep_and_a_slow_fetch_and_leaves_their_events(
    tmp_path: Path, hostile_wasm: Path
) -> None:
    with local_http_server({"/drip": (200, {}, b"x" * 10_000)}, dripping=frozenset({"/drip"})) as (
        server
    ):
        config = write_engine_config(
            tmp_path / "engine.toml",
            long_call_attackers(tmp_path, hostile_wasm, server.authority),
            control_section(metrics=False),
        )
        with cove_run(config) as (proc, url):
            body = {"name": "wat.loop", "payload": "{}"}
            assert httpx.post(f"{url}/v1/events", json=body, headers=AUTH).is_success
            post_ops(url, "sleeper", [{"op": "sleep"}])
            post_ops(url, "drinker", [{"op": "fetch", "url": server.url("/drip")}])
            time.sleep(1.5)  # every call is inside its guest by now
            proc.send_signal(signal.SIGTERM)
            # The deadlines are 60 s away: only cancelled calls let it exit before.
            rest, _ = proc.communicate(timeout=30)
    assert 0 == proc.returncode, rest[-3000:]
    assert "engine stopped" in rest
    store = SqliteStore(tmp_path / "data" / "cove.db")
    try:
        head = store.head()
        untouched = {
            name: (store.cursor(name) < head, store.list_keys(name, ""))
            for name in ("looper", "sleeper", "drinker")
        }
    finally:
        store.close()
    assert {name: (True, []) for name in ("looper", "sleeper", "drinker")} == untouched
