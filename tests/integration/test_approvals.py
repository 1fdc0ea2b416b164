"""Held actions on a real engine with a native plugin (``hold_new_recipients``): a message
to a new recipient waits, survives a restart, is sent once with its original key when
approved, never when denied, and the module hears the decision as ``cove.approval``;
the API needs the admin token and the CLI drives it."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from cove import Custom, Event
from cove._control._fs_tree import File, ModuleFiles
from cove.testing import MemoryTransport
from tests.helpers.control import AUTH, TOKEN, TOKEN_ENV, Plane, control_section
from tests.helpers.engine import running_app, running_engine, state_json, wait_until
from tests.helpers.modules import write_engine_config, write_manifest
from tests.integration.test_cli_control import cove

# One message per probe event, to the recipient it names; a cove.approval is kept in state.
AGENT = """
from __future__ import annotations

import json

from cove import Plugin
from cove.plugin import SendMessage, SetState


class Agent(Plugin):
    def handle_event(self, event, ctx):
        body = json.loads(event.payload.payload)
        if event.payload.name == "cove.approval":
            return [SetState(f"approval:{body['recipient']}", body)]
        return [SendMessage("chat", body["to"], f"offer {body['n']}")]
"""


def _config(tmp_path: Path, extra: str = "") -> Path:
    module = write_manifest(
        tmp_path / "agent",
        "agent",
        kind="python",
        entry="agent:Agent",
        required=["store", "messaging"],
        subscriptions=[
            {"kind": "custom", "name": "probe.*"},
            {"kind": "custom", "name": "cove.approval"},
        ],
    )
    (module / "agent.py").write_text(AGENT)
    budget = "\n[budgets.agent]\nhold_new_recipients = true\n"
    return write_engine_config(tmp_path / "engine.toml", [module], budget + extra)


def _offer(n: int, to: str) -> Event:
    return Event(Custom("probe.offer", "", json.dumps({"n": n, "to": to})))


async def test_a_held_message_survives_a_restart_and_is_sent_once_approved(
    tmp_path: Path,
) -> None:
    transport = MemoryTransport("chat")
    config = _config(tmp_path)
    async with running_engine(config, transports=[transport]) as engine:
        await engine.publish([_offer(1, "alice")])
        await wait_until(lambda: bool(engine.held_actions(None, 10)), what="a held message")
    assert [] == transport.sent
    async with running_engine(config, transports=[transport]) as engine:
        (held,) = engine.held_actions(None, 10)
        assert ("agent", "chat", "alice", "offer 1") == (
            held["module"],
            held["transport"],
            held["recipient"],
            held["body"],
        )
        assert "first message to 'alice'" in held["reason"]
        node = ModuleFiles(engine).read("agent/budget")
        assert isinstance(node, File) and [held] == json.loads(node.data)["held"]
        assert [held["id"]] == await engine.decide([held["id"]], approve=True)
        await wait_until(lambda: len(transport.sent) == 1, what="the approved message")
        await wait_until(lambda: state_json(engine, "agent", "approval:alice") is not None)
        outcome = state_json(engine, "agent", "approval:alice")
        assert [] == await engine.decide([held["id"]], approve=True)  # decided already
        # alice is known now: the next offer goes out without asking
        await engine.publish([_offer(2, "alice")])
        await wait_until(lambda: len(transport.sent) == 2, what="the second offer")
        assert [] == engine.held_actions(None, 10)
    (first, second) = transport.sent
    assert (held["key"], "offer 1") == (first.idempotency_key, first.body)
    assert "offer 2" == second.body
    assert {"id": held["id"], "key": held["key"], "approved": True} == {
        k: outcome[k] for k in ("id", "key", "approved")
    }


async def test_a_denied_message_is_never_sent_and_the_module_hears_it(tmp_path: Path) -> None:
    transport = MemoryTransport("chat")
    async with running_engine(_config(tmp_path), transports=[transport]) as engine:
        await engine.publish([_offer(1, "mallory")])
        await wait_until(lambda: bool(engine.held_actions(None, 10)), what="a held message")
        (held,) = engine.held_actions(None, 10)
        assert [held["id"]] == await engine.decide([held["id"]], approve=False)
        await wait_until(lambda: state_json(engine, "agent", "approval:mallory") is not None)
        outcome = state_json(engine, "agent", "approval:mallory")
        engine.outbox.kick()
        await engine.committer.flush()
        assert [] == engine.held_actions(None, 10)
        assert 0 == engine.status()[0].dead_letters
    assert [] == transport.sent
    assert (False, "mallory") == (outcome["approved"], outcome["recipient"])


async def test_the_routes_need_the_admin_token_and_the_cli_decides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    transport = MemoryTransport("chat")
    config = _config(tmp_path, control_section(metrics=False))
    async with running_app(config, transports=[transport]) as app:
        assert app.control is not None and app.control.api is not None
        url = app.control.api.url
        await app.engine.publish([_offer(1, "bob"), _offer(2, "carol")])
        await wait_until(lambda: len(app.engine.held_actions(None, 10)) == 2, what="two held")
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            anonymous = await client.get("/v1/approvals")
            wrong = await client.post(
                "/v1/approvals/1/approve", headers={"Authorization": "Bearer nope"}
            )
            listed = (await client.get("/v1/approvals", headers=AUTH)).json()["approvals"]
            missing = await client.post("/v1/approvals/999999/deny", headers=AUTH)
            schema = (await client.get("/openapi.json")).json()
            bob, carol = sorted(listed, key=lambda h: h["recipient"])
            plane = Plane(app.engine, client, None, app.control)
            table = await cove(plane, "approvals", "list")
            approved = await cove(plane, "approvals", "approve", str(bob["id"]))
            denied = await cove(plane, "approvals", "deny", str(carol["id"]), "--json")
            again = await cove(plane, "approvals", "deny", str(carol["id"]))
            no_token = await cove(plane, "approvals", "list", token=None)
        await wait_until(lambda: len(transport.sent) == 1, what="bob's message")
    assert (401, 401, 404) == (anonymous.status_code, wrong.status_code, missing.status_code)
    assert {"/v1/approvals", "/v1/approvals/{id}/approve", "/v1/approvals/{id}/deny"} <= set(
        schema["paths"]
    )
    assert 0 == table.code and "chat:bob" in table.out and "chat:carol" in table.out
    assert (0, f"approved held action {bob['id']}") == (approved.code, approved.out.strip())
    assert 0 == denied.code and {"id": carol["id"], "approved": False} == json.loads(denied.out)
    assert 1 == again.code and "no held action" in again.err
    assert 4 == no_token.code
    assert ["bob"] == [m.recipient for m in transport.sent]
