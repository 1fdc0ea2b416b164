"""Alarms on the PostgreSQL store: set with the event's commit, none from a rolled-back
event, fired once when due, and one that fell due while the engine was down fires at start."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from cove._store._postgres import PostgresStore
from tests.helpers.engine import probe_event, running_engine, state_json, wait_until
from tests.helpers.modules import build_guest, write_engine_config, write_manifest
from tests.helpers.postgres import PostgresServer

pytestmark = pytest.mark.slow

PASSWORD_ENV = "COVE_TEST_PG_PASSWORD"
SUBSCRIPTIONS = [{"kind": "custom", "name": "probe.*"}, {"kind": "custom", "name": "cove.alarm"}]


async def test_alarms_on_postgres(
    tmp_path: Path, postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, postgres.password)
    wasm = await asyncio.to_thread(build_guest, "alarm_probe", ["store", "alarms"])
    module = write_manifest(
        tmp_path / "al", "al", component=wasm, required=["store", "alarms"],
        subscriptions=SUBSCRIPTIONS, restart={"max_failures": 2},
    )  # fmt: skip
    store = (
        f'[store]\nkind = "postgres"\ndsn = "{postgres.database()}"\npassword_secret = "pg"\n'
        f'[secrets.pg]\nenv = "{PASSWORD_ENV}"\n'
    )
    config = write_engine_config(tmp_path / "engine.toml", [module], store)
    async with running_engine(config) as engine:
        assert isinstance(engine.store, PostgresStore)
        await engine.publish([probe_event("set", delay_ms=400, tag="pg")])
        await wait_until(lambda: state_json(engine, "al", "fired") == 1, what="fired")
        assert state_json(engine, "al", "last") == {"n": 0, "tag": "pg"}
        await engine.publish([probe_event("set_then_fail", delay_ms=10)])
        await wait_until(lambda: engine.runners["al"].state == "dead", what="dead")
        assert engine.skip_failed_event("al") is not None
        assert engine.revive("al")
        await engine.publish([probe_event("set", delay_ms=300, tag="later")])
        await wait_until(lambda: state_json(engine, "al", "scheduled") == 2, what="scheduled")
        assert engine.store.pending_alarms("al") == 1  # the failed event's alarm is not there
    await asyncio.sleep(0.5)  # due while the engine is down
    async with running_engine(config) as engine:
        await wait_until(lambda: state_json(engine, "al", "fired") == 2, what="fired at start")
        assert state_json(engine, "al", "last") == {"n": 0, "tag": "later"}
        await asyncio.sleep(1.0)
        assert state_json(engine, "al", "fired") == 2
        assert engine.store.pending_alarms("al") == 0
