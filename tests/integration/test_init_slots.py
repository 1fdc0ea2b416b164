"""Modules starting together take turns at init: at most two per core at once (10,000 at
once each got a sliver of the cores, missed their init deadline and backed off)."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.helpers.engine import running_engine
from tests.helpers.modules import write_engine_config, write_manifest

SLOW_INIT = """
import sys
import time

from cove.plugin import Plugin

SEEN = sys.modules["cove_test_init_slots"]  # the test's counters, one for every module


class Slow(Plugin):
    def init(self, ctx):
        with SEEN.lock:
            SEEN.now += 1
            SEEN.most = max(SEEN.most, SEEN.now)
        time.sleep(0.05)
        with SEEN.lock:
            SEEN.now -= 1
"""


async def test_no_more_inits_at_once_than_two_per_core(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    slots = 2 * (os.cpu_count() or 1)
    shared = tmp_path / "slow_init.py"
    shared.write_text(SLOW_INIT)
    modules = []
    for i in range(3 * slots):
        module = write_manifest(tmp_path / f"s{i}", f"s{i}", kind="python", entry="slow_init:Slow")
        (module / "slow_init.py").symlink_to(shared)
        modules.append(module)
    config = write_engine_config(tmp_path / "engine.toml", modules)
    seen = SimpleNamespace(lock=threading.Lock(), now=0, most=0)
    monkeypatch.setitem(sys.modules, "cove_test_init_slots", seen)
    async with running_engine(config) as engine:
        assert all(r.state == "running" for r in engine.runners.values())
    assert 1 < seen.most <= slots
