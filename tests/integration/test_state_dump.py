"""``GET /v1/modules/{name}/state-dump`` and ``cove state dump``: every key and value in one call."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from tests.helpers.control import (
    TOKEN,
    TOKEN_ENV,
    Plane,
    control_section,
    flaky_module,
    running_plane,
)
from tests.helpers.engine import state_json, wait_until
from tests.helpers.modules import write_engine_config
from tests.integration.test_cli_control import cove

BINARY = b"\xff\x00\x01"


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    module = flaky_module(tmp_path, "flaky", tmp_path / "mode")
    return write_engine_config(tmp_path / "engine.toml", [module], control_section())


async def _with_state(plane: Plane) -> None:
    """``count`` written by the module, two more keys (one not UTF-8) committed beside it."""
    response = await plane.client.post(
        "/v1/events", json={"name": "probe.tick", "payload": "1"}, headers=plane.auth()
    )
    assert 202 == response.status_code, response.text
    await wait_until(lambda: state_json(plane.engine, "flaky", "count") == 1)
    store = plane.engine.store
    with plane.engine.runners["flaky"].lock:
        store.commit("flaky", store.cursor("flaky"), {"note": b"hi\n", "raw": BINARY}, [])
        store.flush()


async def test_the_dump_has_every_key_with_its_value(config: Path) -> None:
    async with running_plane(config) as plane:
        await _with_state(plane)
        dump = await plane.client.get("/v1/modules/flaky/state-dump", headers=plane.auth())
        anonymous = await plane.client.get("/v1/modules/flaky/state-dump")
        unknown = await plane.client.get("/v1/modules/nope/state-dump", headers=plane.auth())
    assert 200 == dump.status_code, dump.text
    body = dump.json()
    assert {
        "module": "flaky",
        "keys": 3,
        "bytes": 1 + 3 + 3,
        "state": {
            "count": {"size": 1, "text": "1"},
            "note": {"size": 3, "text": "hi\n"},
            "raw": {"size": 3, "base64": base64.b64encode(BINARY).decode()},
        },
    } == body
    assert 401 == anonymous.status_code
    assert 404 == unknown.status_code and "no module named 'nope'" in unknown.json()["error"]


async def test_cove_state_dump_prints_every_key_or_the_json(config: Path) -> None:
    async with running_plane(config) as plane:
        await _with_state(plane)
        human = await cove(plane, "state", "dump", "flaky")
        as_json = await cove(plane, "state", "dump", "flaky", "--json")
    assert 0 == human.code, human.err
    assert ["count = 1", 'note = "hi\\n"', "raw = (binary, 3 bytes, base64) /wAB"] == (
        human.out.splitlines()
    )
    assert 0 == as_json.code, as_json.err
    assert {"size": 1, "text": "1"} == json.loads(as_json.out)["state"]["count"]
