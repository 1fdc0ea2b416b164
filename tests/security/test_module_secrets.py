"""Operator secrets: the host fills ``{{secret:<name>}}`` into a granted module's http
requests; the module, its trajectories and its errors only ever hold the reference."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from cove import Trajectory
from cove.testing import MemoryTransport
from tests.helpers.engine import running_engine, state_json, wait_until
from tests.helpers.http_server import LocalServer, local_http_server
from tests.helpers.modules import write_engine_config, write_manifest
from tests.helpers.security import op_event, probe_module

VALUE = "sk-live-7f3a9c21e0"
REF = "{{secret:api-key}}"
SECRETS = '[secrets.api-key]\nenv = "COVE_TEST_API_KEY"\n'
GRANT = '[overrides.{module}]\nsecrets = ["api-key"]\n'

PLUGIN = """
from cove import Plugin
from cove.errors import HostCallError
from cove.plugin import SetState


class Caller(Plugin):
    version = "0.1.0"

    def handle_event(self, event, ctx):
        url = event.payload.body
        try:
            response = ctx.fetch("GET", url, [("X-Api-Key", "{{secret:api-key}}")])
            return [SetState("http", {"status": response.status})]
        except HostCallError as exc:
            return [SetState("http", {"error": exc.kind, "message": exc.message})]
"""


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COVE_TEST_API_KEY", VALUE)


@pytest.fixture
def outside() -> Iterator[LocalServer]:
    with local_http_server({"/landed": (200, {}, b"landed")}) as server:
        yield server


@pytest.fixture
def api(outside: LocalServer) -> Iterator[LocalServer]:
    routes = {
        f"/k/{VALUE}": (200, {}, b"ok"),
        "/plain": (200, {}, b"plain"),
        "/away": (302, {"Location": outside.url("/landed")}, b""),
    }
    with local_http_server(routes) as server:
        yield server


async def _probe_fetch(
    tmp_path: Path, probe_wasm: Path, url: str, allow: list[str], extra: str
) -> tuple[Any, list[Trajectory]]:
    module = probe_module(tmp_path, probe_wasm, "fetcher", http_allow=allow)
    config = write_engine_config(tmp_path / "engine.toml", [module], extra)
    trajectories: list[Trajectory] = []
    async with running_engine(config, trajectories=trajectories) as engine:
        await engine.publish([op_event("fetcher", "http", url=url)])
        await wait_until(lambda: len(trajectories) == 1, what="fetch handled")
        return state_json(engine, "fetcher", "http"), trajectories


def _recorded(trajectories: list[Trajectory]) -> str:
    return json.dumps([asdict(t) for t in trajectories])


async def test_wasm_guest_reference_in_the_url_path_is_filled_by_the_host(
    tmp_path: Path, probe_wasm: Path, api: LocalServer
) -> None:
    extra = SECRETS + GRANT.format(module="fetcher")
    stored, trajectories = await _probe_fetch(
        tmp_path, probe_wasm, api.url(f"/k/{REF}"), [api.authority], extra
    )
    assert {"status": 200, "body": "ok"} == stored
    assert [f"/k/{VALUE}"] == api.hits
    recorded = _recorded(trajectories)
    assert REF in recorded and VALUE not in recorded


async def test_a_module_not_granted_the_secret_is_denied_naming_it(
    tmp_path: Path, probe_wasm: Path, api: LocalServer
) -> None:
    stored, trajectories = await _probe_fetch(
        tmp_path, probe_wasm, api.url(f"/k/{REF}"), [api.authority], SECRETS
    )
    assert {
        "error": "denied",
        "message": "http: secret 'api-key' is not granted to module 'fetcher' "
        "(engine config [overrides.fetcher] secrets)",
    } == stored
    assert [] == api.hits
    assert VALUE not in _recorded(trajectories)


async def test_an_error_of_a_filled_request_names_the_reference_not_the_value(
    tmp_path: Path, probe_wasm: Path
) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        closed = f"127.0.0.1:{sock.getsockname()[1]}"
    extra = SECRETS + GRANT.format(module="fetcher")
    stored, trajectories = await _probe_fetch(
        tmp_path, probe_wasm, f"http://{closed}/k/{REF}", [closed], extra
    )
    assert "unavailable" == stored["error"]
    assert REF.replace("{", "%7B").replace("}", "%7D") not in stored["message"]
    assert f"/k/{REF}" in stored["message"] and VALUE not in stored["message"]
    assert VALUE not in _recorded(trajectories)


async def test_a_reference_in_the_host_is_refused(
    tmp_path: Path, probe_wasm: Path, api: LocalServer
) -> None:
    extra = SECRETS + GRANT.format(module="fetcher")
    stored, _ = await _probe_fetch(
        tmp_path, probe_wasm, f"http://{REF}.example/x", ["*.example"], extra
    )
    assert "invalid-input" == stored["error"]


def _caller(tmp_path: Path, allow: list[str]) -> Path:
    module = write_manifest(
        tmp_path / "caller", "caller", kind="python", entry="caller:Caller",
        required=["store", "http"], http_allow=allow,
        subscriptions=[{"kind": "message", "transport": "chat"}],
    )  # fmt: skip
    (module / "caller.py").write_text(PLUGIN)
    return module


async def test_native_plugin_header_reference_is_filled_and_dropped_on_a_redirect_elsewhere(
    tmp_path: Path, api: LocalServer, outside: LocalServer
) -> None:
    chat = MemoryTransport("chat")
    module = _caller(tmp_path, [api.authority, outside.authority])
    config = write_engine_config(
        tmp_path / "engine.toml", [module], SECRETS + GRANT.format(module="caller")
    )
    async with running_engine(config, transports=[chat]) as engine:
        await chat.receive("op", api.url("/plain"))
        await wait_until(lambda: state_json(engine, "caller", "http") == {"status": 200})
        await chat.receive("op", api.url("/away"))
        await wait_until(lambda: outside.hits == ["/landed"], what="redirect followed")
    assert VALUE == api.headers[0]["x-api-key"]
    assert "x-api-key" not in outside.headers[0]


async def test_a_secret_whose_variable_is_unset_refuses_only_its_module(
    tmp_path: Path, probe_wasm: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COVE_TEST_API_KEY")
    fetcher = probe_module(tmp_path, probe_wasm, "fetcher")
    other = probe_module(tmp_path, probe_wasm, "other")
    path = write_engine_config(
        tmp_path / "engine.toml", [fetcher, other], SECRETS + GRANT.format(module="fetcher")
    )
    async with running_engine(path) as engine:
        assert ["other"] == sorted(engine.runners)
        (error,) = engine.load_errors.values()
    assert (
        f"{path}: secrets.api-key.env: environment variable 'COVE_TEST_API_KEY' is not set" == error
    )
