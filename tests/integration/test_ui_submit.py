"""POST /v1/modules/{name}/ui-submit: a form submission journaled as the module's own event."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.control import (
    AUTH,
    TOKEN,
    TOKEN_ENV,
    control_section,
    flaky_module,
    running_plane,
)
from tests.helpers.engine import state_json, wait_until
from tests.helpers.modules import example_module, write_engine_config


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)


async def test_a_submission_reaches_the_example_module_and_commits_its_decision(
    tmp_path: Path,
) -> None:
    module = example_module("approvals", tmp_path / "approvals")
    config = write_engine_config(tmp_path / "engine.toml", [module], control_section())
    async with running_plane(config) as plane:
        request = {"id": "7", "what": "deploy", "by": "ana"}
        await plane.client.post(
            "/v1/events",
            json={"name": "approval.request", "payload": json.dumps(request)},
            headers=AUTH,
        )
        await wait_until(lambda: plane.engine.runners["approvals"].stats.handled == 1)
        body = {"form": "request-7", "button": "approve", "values": {"note": "ship it"}}
        sent = await plane.client.post("/v1/modules/approvals/ui-submit", json=body, headers=AUTH)
        assert 202 == sent.status_code
        assert "ui-submit.approvals" == sent.json()["name"]
        await wait_until(lambda: state_json(plane.engine, "approvals", "decided") == 1)
        decision = state_json(plane.engine, "approvals", "decision/00000001")
        assert ("approved", "ship it") == (decision["verdict"], decision["note"])


async def test_a_submission_is_refused_readably(tmp_path: Path) -> None:
    module = flaky_module(tmp_path, "flaky", tmp_path / "mode")
    config = write_engine_config(tmp_path / "engine.toml", [module], control_section())
    async with running_plane(config) as plane:
        url = "/v1/modules/flaky/ui-submit"
        body = {"form": "f", "values": {"a": 1}}
        assert 401 == (await plane.client.post(url, json=body)).status_code
        unsubscribed = await plane.client.post(url, json=body, headers=AUTH)
        assert 409 == unsubscribed.status_code
        assert 'name = "ui-submit.flaky"' in unsubscribed.json()["error"]
        nested = await plane.client.post(
            url, json={"form": "f", "values": {"a": {"b": 1}}}, headers=AUTH
        )
        assert 422 == nested.status_code
        assert "values.a" in nested.json()["error"]
        missing = await plane.client.post("/v1/modules/nope/ui-submit", json=body, headers=AUTH)
        assert 404 == missing.status_code
