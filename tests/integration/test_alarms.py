"""Alarms on a real engine: a wasm guest sets them, the engine delivers each once, when due,
across a restart and a kill -9; a rolled-back event sets none; the pending limit holds."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cove import Engine
from cove._build._world import HOST_WIT
from tests.helpers.engine import (
    PROBE_CAPABILITIES,
    probe_event,
    running_engine,
    state_json,
    wait_until,
)
from tests.helpers.modules import REPO, build_guest, write_engine_config, write_manifest

pytestmark = pytest.mark.slow

SUBSCRIPTIONS = [{"kind": "custom", "name": "probe.*"}, {"kind": "custom", "name": "cove.alarm"}]


@pytest.fixture(scope="module")
def alarm_wasm() -> Path:
    return build_guest("alarm_probe", ["store", "alarms"])


def _config(tmp_path: Path, alarm_wasm: Path, **resources: object) -> Path:
    module = write_manifest(
        tmp_path / "al", "al", component=alarm_wasm, required=["store", "alarms"],
        subscriptions=SUBSCRIPTIONS, resources=resources or None,
        restart={"max_failures": 1},
    )  # fmt: skip
    return write_engine_config(tmp_path / "engine.toml", [module])


def _alarm_events(engine: Engine) -> list[str]:
    return [e.event.id for e in engine.store.read(0, 10_000) if e.event.id.startswith("alarm:")]


async def test_an_alarm_fires_once_when_due(tmp_path: Path, alarm_wasm: Path) -> None:
    async with running_engine(_config(tmp_path, alarm_wasm)) as engine:
        started = time.monotonic()
        await engine.publish([probe_event("set", delay_ms=600, tag="soon")])
        await wait_until(lambda: state_json(engine, "al", "scheduled") == 1, what="scheduled")
        assert engine.store.pending_alarms("al") == 1
        await wait_until(lambda: state_json(engine, "al", "fired") == 1, what="fired")
        assert time.monotonic() - started >= 0.6
        assert state_json(engine, "al", "last") == {"n": 0, "tag": "soon"}
        await asyncio.sleep(1.0)  # the outbox's loop goes round again: nothing more
        assert state_json(engine, "al", "fired") == 1
        assert len(_alarm_events(engine)) == 1
        assert engine.store.pending_alarms("al") == 0


async def test_an_alarm_set_in_a_rolled_back_event_never_fires(
    tmp_path: Path, alarm_wasm: Path
) -> None:
    async with running_engine(_config(tmp_path, alarm_wasm)) as engine:
        await engine.publish([probe_event("set_then_fail", delay_ms=100)])
        await wait_until(lambda: engine.runners["al"].state == "dead", what="dead")
        assert engine.store.pending_alarms("al") == 0
        await asyncio.sleep(1.0)
        assert _alarm_events(engine) == []
        assert state_json(engine, "al", "fired") is None


async def test_over_the_pending_limit_is_limit_exceeded(tmp_path: Path, alarm_wasm: Path) -> None:
    async with running_engine(_config(tmp_path, alarm_wasm, alarms=2)) as engine:
        await engine.publish([probe_event("set", delay_ms=60_000, n=3)])
        await wait_until(lambda: state_json(engine, "al", "error") is not None, what="refused")
        assert state_json(engine, "al", "error") == "limit-exceeded"
        assert state_json(engine, "al", "scheduled") == 2
        assert engine.store.pending_alarms("al") == 2


async def test_an_alarm_due_while_the_engine_was_down_fires_at_start(
    tmp_path: Path, alarm_wasm: Path
) -> None:
    config = _config(tmp_path, alarm_wasm)
    async with running_engine(config) as engine:
        await engine.publish([probe_event("set", delay_ms=300, tag="restart")])
        await wait_until(lambda: state_json(engine, "al", "scheduled") == 1, what="scheduled")
    await asyncio.sleep(0.5)  # due while stopped
    async with running_engine(config) as engine:
        await wait_until(lambda: state_json(engine, "al", "fired") == 1, what="fired at start")
        await asyncio.sleep(1.0)
        assert state_json(engine, "al", "fired") == 1
        assert len(_alarm_events(engine)) == 1


_SCHEDULE_THEN_HANG = """
import asyncio, sys
from cove import load_config
from tests.helpers.engine import probe_event, state_json


async def run(config):
    from cove._app import App
    app = App(load_config(config))
    await app.start()
    await app.engine.publish([probe_event("set", delay_ms=1500, tag="killed")])
    while state_json(app.engine, "al", "scheduled") != 1:
        await asyncio.sleep(0.01)
    await app.engine.committer.flush()
    print("scheduled", flush=True)
    await asyncio.sleep(3600)

asyncio.run(run(__import__("pathlib").Path(sys.argv[1])))
"""


def _schedule_then_kill(config: Path) -> None:
    """An engine process sets an alarm, and is killed -9 once it is committed."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _SCHEDULE_THEN_HANG, str(config)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            if line.strip() == "scheduled":
                break
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()


async def test_an_alarm_survives_kill_9(tmp_path: Path, alarm_wasm: Path) -> None:
    config = _config(tmp_path, alarm_wasm)
    await asyncio.to_thread(_schedule_then_kill, config)
    async with running_engine(config) as engine:
        assert engine.store.pending_alarms("al") == 1  # durable before the kill
        await wait_until(lambda: state_json(engine, "al", "fired") == 1, what="fired")
        assert state_json(engine, "al", "last") == {"n": 0, "tag": "killed"}
        await asyncio.sleep(1.0)
        assert state_json(engine, "al", "fired") == 1
        assert len(_alarm_events(engine)) == 1


def _host_wit_before_alarms() -> str:
    """The current contract with alarms taken out (interface and import): what a component
    built before alarms imports (the SDK builds against the current contract only; whole
    0.2 and 0.1 components are tests/integration/test_contract_0_3.py's)."""
    text = HOST_WIT.read_text()
    without = re.sub(r"(///[^\n]*\n)*interface alarms \{.*?\n\}\n\n", "", text, flags=re.S)
    without = without.replace("    import alarms;\n", "")
    assert "alarms" not in without and without != text
    return without


async def test_a_component_built_without_alarms_still_runs(tmp_path: Path) -> None:
    wasm = await asyncio.to_thread(
        build_guest, "probe", PROBE_CAPABILITIES, host_wit=_host_wit_before_alarms()
    )
    module = write_manifest(tmp_path / "old", "old", component=wasm, optional=PROBE_CAPABILITIES)
    config = write_engine_config(tmp_path / "engine.toml", [module])
    async with running_engine(config) as engine:
        await engine.publish([probe_event("count")])
        await wait_until(lambda: state_json(engine, "old", "count") == 1, what="handled")


NATIVE_ALARMS = """
import json
from cove.plugin import Plugin, SetState


class Alarmed(Plugin):
    def handle_event(self, event, ctx):
        payload = event.payload
        if payload.name == "cove.alarm":
            body = json.loads(payload.payload)
            return [SetState("fired", json.loads(body["payload"]))]
        ctx.schedule_alarm(200, {"from": "native"})
        return [SetState("scheduled", True)]
"""


async def test_a_native_plugin_sets_an_alarm(tmp_path: Path) -> None:
    module = write_manifest(
        tmp_path / "na", "na", kind="python", entry="alarmed:Alarmed",
        required=["store", "alarms"], subscriptions=SUBSCRIPTIONS,
    )  # fmt: skip
    (module / "alarmed.py").write_text(NATIVE_ALARMS)
    config = write_engine_config(tmp_path / "engine.toml", [module])
    async with running_engine(config) as engine:
        await engine.publish([probe_event("set")])
        await wait_until(lambda: state_json(engine, "na", "fired") is not None, what="fired")
        assert state_json(engine, "na", "fired") == {"from": "native"}
