"""``cove outbox list|retry|drop`` and the dead-letter routes, against a real engine whose
webhook transport points at a closed port."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from cove._control._outbox import MAX_BODIES
from cove._store._base import DeadLetter
from tests.helpers.control import AUTH, TOKEN, TOKEN_ENV, control_section, running_plane
from tests.helpers.engine import wait_until
from tests.helpers.modules import native_counter, write_engine_config
from tests.integration.test_cli_control import cove

# Nothing listens on the discard port of loopback: every send is refused at once.
DEAD_TRANSPORT = """
[[transports]]
name = "chat"
kind = "webhook"
url = "http://127.0.0.1:9/hook"

[outbox]
retry_initial = "5ms"
retry_max = "10ms"
max_attempts = 2
"""


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    module = native_counter(tmp_path, "sender", "chat")
    return write_engine_config(
        tmp_path / "engine.toml", [module], DEAD_TRANSPORT + control_section()
    )


async def test_dead_letters_are_listed_retried_and_dropped(config: Path) -> None:
    async with running_plane(config) as plane:
        engine = plane.engine
        emit = {"name": "probe.tick", "payload": "{}"}
        assert (
            202
            == (await plane.client.post("/v1/events", json=emit, headers=plane.auth())).status_code
        )
        await wait_until(lambda: len(engine.store.dead_letters(None, 10)) == 1, what="dead")
        modules = await cove(plane, "module", "list")
        listed = await cove(plane, "outbox", "list", "--json")
        table = await cove(plane, "outbox", "list")
        retried = await cove(plane, "outbox", "retry", "--all")
        await wait_until(lambda: len(engine.store.dead_letters(None, 10)) == 1, what="dead again")
        missing = await cove(plane, "outbox", "drop", "424242")
        no_token = await cove(plane, "outbox", "drop", "--all", token=None)
        dropped = await cove(plane, "outbox", "drop", "--all", "--module", "sender")
        empty = await cove(plane, "outbox", "list")
        status = (await plane.client.get("/v1/modules/sender", headers=AUTH)).json()
    assert 0 == modules.code, modules.err
    assert "+1 dead" in modules.out
    assert "sender outbox" not in modules.out  # nothing undelivered left to report
    (dead,) = json.loads(listed.out)["dead_letters"]
    assert ("sender", "chat", 2) == (dead["module"], dead["transport"], dead["attempts"])
    assert "127.0.0.1:9" in dead["last_error"] or "ConnectError" in dead["last_error"]
    assert "sender" in table.out and "chat" in table.out
    assert (0, f"retried 1 dead letter(s): [{dead['id']}]") == (retried.code, retried.out.strip())
    assert 1 == missing.code and "no dead letter" in missing.err
    assert 4 == no_token.code
    assert 0 == dropped.code and "dropped 1" in dropped.out
    assert "no dead letters" in empty.out
    assert (0, 0) == (status["dead_letters"], status["outbox_backlog"])


async def test_the_routes_need_the_token_and_check_their_body(config: Path) -> None:
    async with running_plane(config) as plane:
        client = plane.client
        anonymous = await client.get("/v1/outbox/dead")
        empty = await client.post("/v1/outbox/dead/retry", json={"ids": []}, headers=plane.auth())
        words = await client.post("/v1/outbox/dead/drop", json={"ids": ["x"]}, headers=plane.auth())
        none = await client.post("/v1/outbox/dead/drop", json={"ids": [1]}, headers=plane.auth())
        schema = (await client.get("/openapi.json")).json()
    assert 401 == anonymous.status_code
    assert (422, 422, 404) == (empty.status_code, words.status_code, none.status_code)
    assert "ids" in empty.json()["error"]
    assert {"/v1/outbox/dead", "/v1/outbox/dead/retry", "/v1/outbox/dead/drop"} <= set(
        schema["paths"]
    )


async def test_credentials_in_a_transport_url_stay_out_of_status_and_dead_letters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failing send's error names the transport's URL without its userinfo and query."""
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    module = native_counter(tmp_path, "sender", "chat")
    secret_url = DEAD_TRANSPORT.replace(
        "http://127.0.0.1:9/hook", "http://hook-user:Pa55w0rd@127.0.0.1:9/hook?api_key=K3Y-s3cret"
    ).replace("max_attempts = 2", "max_attempts = 3")
    config = write_engine_config(tmp_path / "engine.toml", [module], secret_url + control_section())
    async with running_plane(config) as plane:
        emit = {"name": "probe.tick", "payload": "{}"}
        await plane.client.post("/v1/events", json=emit, headers=plane.auth())
        await wait_until(lambda: plane.engine.status()[0].outbox_attempts >= 1, what="a failure")
        status = (await plane.client.get("/v1/modules/sender", headers=plane.auth())).text
        await wait_until(lambda: len(plane.engine.store.dead_letters(None, 10)) == 1, what="dead")
        dead = (await plane.client.get("/v1/outbox/dead", headers=plane.auth())).text
    assert "127.0.0.1:9/hook" in status and "127.0.0.1:9/hook" in dead
    for secret in ("Pa55w0rd", "hook-user", "K3Y-s3cret"):
        assert secret not in status and secret not in dead


async def test_dead_letters_are_read_off_the_event_loop_with_bodies_only_when_asked(
    config: Path,
) -> None:
    """A list of dead letters can be large (bodies up to the transport's limit each): the
    route reads it on a worker thread, and leaves bodies out unless ``bodies=true``, which
    takes a smaller ``limit``."""
    async with running_plane(config) as plane:
        engine = plane.engine
        emit = {"name": "probe.tick", "payload": "{}"}
        await plane.client.post("/v1/events", json=emit, headers=plane.auth())
        await wait_until(lambda: len(engine.store.dead_letters(None, 10)) == 1, what="dead")
        readers: list[threading.Thread] = []
        read = engine.store.dead_letters

        def recorded(module: str | None, limit: int, bodies: bool = True) -> list[DeadLetter]:
            readers.append(threading.current_thread())
            return read(module, limit, bodies)

        engine.store.dead_letters = recorded  # type: ignore[method-assign]
        plain = await plane.client.get("/v1/outbox/dead", headers=plane.auth())
        full = await plane.client.get("/v1/outbox/dead?bodies=true", headers=plane.auth())
        over = await plane.client.get(
            f"/v1/outbox/dead?bodies=true&limit={MAX_BODIES + 1}", headers=plane.auth()
        )
    assert readers and threading.current_thread() not in readers
    assert "body" not in plain.json()["dead_letters"][0]
    assert "body" in full.json()["dead_letters"][0]
    assert 400 == over.status_code, over.text
