"""A module whose commit meets a store error (the database locked by another process
past the busy timeout) waits and goes on; its runner does not end for good."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from cove import Custom, Event
from cove._types import ModuleState
from cove.errors import StoreError
from tests.helpers.engine import running_engine, state_json, wait_until
from tests.helpers.modules import native_gated, write_engine_config


async def test_a_commit_that_meets_a_locked_database_is_retried_once_the_lock_is_gone(
    tmp_path: Path,
) -> None:
    gate = tmp_path / "gate"
    gate.touch()
    config = write_engine_config(tmp_path / "engine.toml", [native_gated(tmp_path)])
    async with running_engine(config) as engine:
        await engine.publish([Event(Custom("probe.one", "", "{}"))])
        runner = engine.runners["gated"]
        await wait_until(lambda: runner.state == ModuleState.RUNNING, what="running")
        # Another process takes the write lock while the handler is still running, and
        # keeps it past sqlite's busy timeout (5 s): the module's commit fails.
        other = sqlite3.connect(engine.config.data_path / "cove.db", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        gate.unlink()
        await wait_until(lambda: runner.stats.last_error != "", timeout=15, what="the store error")
        assert "locked" in runner.stats.last_error
        other.execute("ROLLBACK")
        other.close()
        await wait_until(
            lambda: state_json(engine, "gated", "count") == 1, timeout=15, what="the commit"
        )
        await engine.publish([Event(Custom("probe.two", "", "{}"))])
        await wait_until(
            lambda: state_json(engine, "gated", "count") == 2, timeout=15, what="the next event"
        )
        assert runner.state == ModuleState.RUNNING


async def test_a_publish_into_a_locked_database_is_refused_with_the_stores_error(
    tmp_path: Path,
) -> None:
    config = write_engine_config(tmp_path / "engine.toml", [native_gated(tmp_path)])
    async with running_engine(config) as engine:
        other = sqlite3.connect(engine.config.data_path / "cove.db", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(
                StoreError, match=r"cove\.db: cannot start a write: database is locked"
            ):
                await engine.publish([Event(Custom("probe.one", "", "{}"))])
        finally:
            other.execute("ROLLBACK")
            other.close()
        await engine.publish([Event(Custom("probe.two", "", "{}"))])
        await wait_until(
            lambda: state_json(engine, "gated", "count") == 1, timeout=15, what="the next event"
        )
