"""Operator budgets (``[budgets.<module>]``) on a real engine with a native plugin: a send
past the budget is refused naming it, usage survives a restart, a rolled-back event spends
nothing, and status and metrics show what was spent."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from cove import Custom, Event
from cove._observe._metrics import exposition
from cove.testing import MemoryTransport
from tests.helpers.control import AUTH, TOKEN, TOKEN_ENV, control_section
from tests.helpers.engine import running_app, running_engine, wait_until
from tests.helpers.modules import write_engine_config, write_manifest
from tests.integration.test_hooks import hook_module, seen

FAST = {"max_failures": 100, "backoff_initial": "1ms", "backoff_max": "5ms"}

# One message per event; an event whose payload says "flaky" yields its message, then
# fails on its first attempt (its retry succeeds): the failed attempt's send is rolled back.
SPENDER = """
from __future__ import annotations

import json

from cove import Plugin
from cove.plugin import SendMessage


class Spender(Plugin):
    def __init__(self) -> None:
        self.failed: set[str] = set()

    def handle_event(self, event, ctx):
        body = json.loads(event.payload.payload)
        yield SendMessage("chat", body.get("to", "sink"), f"n={body['n']}")
        if body.get("flaky") and event.id not in self.failed:
            self.failed.add(event.id)
            raise RuntimeError("flaky on its first attempt")
"""


def _spender(tmp_path: Path) -> Path:
    module = write_manifest(
        tmp_path / "spender",
        "spender",
        kind="python",
        entry="spender:Spender",
        required=["messaging"],
        restart=FAST,
        subscriptions=[{"kind": "custom", "name": "probe.*"}],
    )
    (module / "spender.py").write_text(SPENDER)
    return module


def _config(tmp_path: Path, messages: int, extra: str = "") -> Path:
    budget = f"\n[budgets.spender]\nmessages_per_hour = {messages}\n"
    return write_engine_config(tmp_path / "engine.toml", [_spender(tmp_path)], budget + extra)


def _tick(n: int, **fields: object) -> Event:
    return Event(Custom("probe.tick", "", json.dumps({"n": n, **fields})))


async def test_a_send_past_the_budget_is_refused_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    transport = MemoryTransport("chat")
    config = _config(tmp_path, 2, control_section())
    async with running_app(config, transports=[transport]) as app:
        engine = app.engine
        await engine.publish([_tick(1), _tick(2), _tick(3)])
        await wait_until(lambda: len(transport.sent) == 2, what="two messages")
        await wait_until(lambda: "budget" in engine.status()[0].last_error, what="the refusal")
        (status,) = engine.status()
        assert app.control is not None and app.control.api is not None
        text = exposition(app.control.registry).decode()
        async with httpx.AsyncClient(base_url=app.control.api.url, timeout=30) as client:
            listed = (await client.get("/v1/modules/spender", headers=AUTH)).json()
    assert ["n=1", "n=2"] == [m.body for m in transport.sent]
    assert "budget messages" in status.last_error
    assert "[budgets.spender] messages_per_hour" in status.last_error
    assert 2 == status.budgets["messages"]["used"]
    assert 2 == status.budgets["messages"]["limit"]
    assert 'cove_module_budget_used{budget="messages",module="spender"} 2.0' in text
    assert 'cove_module_budget_limit{budget="messages",module="spender"} 2.0' in text
    assert {"used": 2, "limit": 2} == {
        k: listed["budgets"]["messages"][k] for k in ("used", "limit")
    }


async def test_spending_survives_a_restart(tmp_path: Path) -> None:
    transport = MemoryTransport("chat")
    config = _config(tmp_path, 3)
    async with running_engine(config, transports=[transport]) as engine:
        await engine.publish([_tick(1), _tick(2)])
        await wait_until(lambda: len(transport.sent) == 2, what="two messages")
    async with running_engine(config, transports=[transport]) as engine:
        assert 2 == engine.status()[0].budgets["messages"]["used"]
        await engine.publish([_tick(3), _tick(4)])
        await wait_until(lambda: "budget" in engine.status()[0].last_error, what="the refusal")
        (status,) = engine.status()
    assert ["n=1", "n=2", "n=3"] == [m.body for m in transport.sent]
    assert 3 == status.budgets["messages"]["used"]


async def test_a_rolled_back_event_spends_nothing(tmp_path: Path) -> None:
    """The flaky event's first attempt sent (into its overlay) and failed: with a budget of
    two, both events still get their message, which they could not if it had counted."""
    transport = MemoryTransport("chat")
    async with running_engine(_config(tmp_path, 2), transports=[transport]) as engine:
        await engine.publish([_tick(1, flaky=True), _tick(2)])
        await wait_until(lambda: len(transport.sent) == 2, what="two messages")
        await wait_until(lambda: engine.status()[0].handled == 2, what="both handled")
        (status,) = engine.status()
    assert 1 == status.failed
    assert ["n=1", "n=2"] == [m.body for m in transport.sent]
    assert 2 == status.budgets["messages"]["used"]
    assert "" == status.last_error or "flaky" in status.last_error


async def test_the_budget_hook_point_runs_once_per_exhausted_window(tmp_path: Path) -> None:
    watcher = hook_module(tmp_path, "watcher", [{"point": "budget"}])
    budget = "\n[budgets.spender]\nmessages_per_hour = 1\n"
    config = write_engine_config(tmp_path / "engine.toml", [watcher, _spender(tmp_path)], budget)
    transport = MemoryTransport("chat")
    async with running_engine(config, transports=[transport]) as engine:
        await engine.publish([_tick(1), _tick(2)])
        await wait_until(lambda: bool(seen(watcher, "budget")), what="the budget hook")
        runner = engine.runners["spender"]
        await wait_until(lambda: runner.stats.restarts >= 3, what="refused retries")
    (record,) = seen(watcher, "budget")  # the retries of the refused event: no more calls
    assert {"module": "spender", "budget": "messages", "limit": 1} == record["payload"]
    assert ["n=1"] == [m.body for m in transport.sent]
