"""A module failing again and again runs its attempts at a lower OS priority (its lane's
thread), so its neighbours get the shared cores first; a success gives it back."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from cove import Custom, Event
from tests.helpers.engine import running_engine, wait_until
from tests.helpers.modules import write_engine_config, write_manifest

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="per-thread niceness is Linux's")

PLUGIN = """
import os
import threading
from pathlib import Path

from cove import Plugin

SEEN = Path({seen!r})


class Flaky(Plugin):
    '''Fails the first three attempts; writes each attempt's niceness, one a line.'''

    def handle_event(self, event, ctx):
        me = threading.get_native_id()
        with SEEN.open("a") as f:
            f.write(f"{{os.getpriority(os.PRIO_PROCESS, me)}}\\n")
        if len(SEEN.read_text().splitlines()) <= 3:
            raise RuntimeError("not yet")
        return []
"""


async def test_a_failure_streak_lowers_the_module_lane_until_an_event_succeeds(
    tmp_path: Path,
) -> None:
    seen = tmp_path / "seen.txt"
    module = write_manifest(
        tmp_path / "flaky",
        "flaky",
        kind="python",
        entry="flaky:Flaky",
        restart={"max_failures": 10, "backoff_initial": "10ms", "backoff_max": "1s"},
        subscriptions=[{"kind": "custom", "name": "flaky.*"}],
    )
    (module / "flaky.py").write_text(PLUGIN.format(seen=str(seen)))
    config = write_engine_config(tmp_path / "engine.toml", [module])

    def lines() -> list[int]:
        return [int(n) for n in seen.read_text().split()] if seen.exists() else []

    async with running_engine(config) as engine:
        await engine.publish([Event(Custom("flaky.one", "", "{}"))])
        await wait_until(lambda: len(lines()) == 4, what="three failures, then a success")
        await engine.publish([Event(Custom("flaky.two", "", "{}"))])
        await wait_until(lambda: len(lines()) == 5, what="the next event")
    base = lines()[0]
    low = min(19, base + 10)
    assert [base, low, low, low, base] == lines()
