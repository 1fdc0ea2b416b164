"""Budgets and held actions on a real PostgreSQL ([store] kind = "postgres"): spending
and a held message survive a restart there too, and approval sends it once."""

from __future__ import annotations

from pathlib import Path

import pytest

from cove._store._postgres import PostgresStore
from cove.testing import MemoryTransport
from tests.helpers.engine import running_engine, wait_until
from tests.helpers.postgres import PostgresServer
from tests.integration import test_approvals, test_budgets
from tests.integration.test_postgres_engine import PASSWORD_ENV, _store_section


async def test_spending_and_held_messages_survive_a_restart_on_postgres(
    tmp_path: Path, postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, postgres.password)
    (tmp_path / "spend").mkdir()
    (tmp_path / "hold").mkdir()
    spend = test_budgets._config(tmp_path / "spend", 2, _store_section(postgres.database()))
    hold = test_approvals._config(tmp_path / "hold", _store_section(postgres.database()))
    sent = MemoryTransport("chat")
    async with running_engine(spend, transports=[sent]) as engine:
        assert isinstance(engine.store, PostgresStore)
        await engine.publish([test_budgets._tick(1)])
        await wait_until(lambda: len(sent.sent) == 1, what="one message")
    async with running_engine(spend, transports=[sent]) as engine:
        assert 1 == engine.status()[0].budgets["messages"]["used"]
        await engine.publish([test_budgets._tick(2), test_budgets._tick(3)])
        await wait_until(lambda: "budget" in engine.status()[0].last_error, what="the refusal")
    assert ["n=1", "n=2"] == [m.body for m in sent.sent]

    held_to = MemoryTransport("chat")
    async with running_engine(hold, transports=[held_to]) as engine:
        await engine.publish([test_approvals._offer(1, "alice")])
        await wait_until(lambda: bool(engine.held_actions(None, 10)), what="a held message")
    async with running_engine(hold, transports=[held_to]) as engine:
        (held,) = engine.held_actions(None, 10)
        assert [held["id"]] == await engine.decide([held["id"]], approve=True)
        await wait_until(lambda: len(held_to.sent) == 1, what="the approved message")
    assert [held["key"]] == [m.idempotency_key for m in held_to.sent]
