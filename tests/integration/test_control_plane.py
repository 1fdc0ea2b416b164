"""The control-plane API on a real engine and a real uvicorn listener, through httpx."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from cove import load_config
from cove.errors import ConfigError
from tests.helpers.control import (
    AUTH,
    TOKEN,
    TOKEN_ENV,
    Plane,
    control_section,
    flaky_module,
    running_plane,
)
from tests.helpers.engine import state_json, wait_until
from tests.helpers.modules import write_engine_config


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)


def _config(tmp_path: Path, modules: list[Path], **kw: bool) -> Path:
    return write_engine_config(tmp_path / "engine.toml", modules, control_section(**kw))


async def _emit(plane: Plane, n: int = 1) -> None:
    for i in range(n):
        response = await plane.client.post(
            "/v1/events", json={"name": "probe.tick", "payload": str(i)}, headers=plane.auth()
        )
        assert 202 == response.status_code, response.text


async def test_list_modules_shows_state_version_hash_and_counters(tmp_path: Path) -> None:
    module = flaky_module(tmp_path, "flaky", tmp_path / "mode")
    async with running_plane(_config(tmp_path, [module])) as plane:
        await _emit(plane, 3)
        await wait_until(lambda: state_json(plane.engine, "flaky", "count") == 3)
        body = (await plane.client.get("/v1/modules", headers=AUTH)).json()
    [listed] = body["modules"]
    assert {"name": "flaky", "version": "0.1.0", "kind": "python", "state": "running"} == {
        k: listed[k] for k in ("name", "version", "kind", "state")
    }
    assert (3, 0, 0) == (listed["handled"], listed["failed"], listed["queue_depth"])
    assert listed["state_bytes"] > 0
    assert {} == body["refused"]


async def test_emitted_event_leaves_a_trajectory_with_its_host_calls(tmp_path: Path) -> None:
    module = flaky_module(tmp_path, "flaky", tmp_path / "mode")
    async with running_plane(_config(tmp_path, [module])) as plane:
        await _emit(plane)
        await wait_until(lambda: state_json(plane.engine, "flaky", "count") == 1)
        body = (
            await plane.client.get("/v1/trajectories", params={"module": "flaky"}, headers=AUTH)
        ).json()
    [record] = body["trajectories"]
    assert ("flaky", "ok", "") == (record["module"], record["outcome"], record["error"])
    assert "store.set" in [f"{c['interface']}.{c['function']}" for c in record["calls"]]
    assert record["id"] == body["last_id"]


async def test_dead_module_is_revived_over_the_api(tmp_path: Path) -> None:
    mode = tmp_path / "mode"
    mode.write_text("always")
    module = flaky_module(
        tmp_path, "flaky", mode, restart={"max_failures": 1, "backoff_initial": "1ms"}
    )
    async with running_plane(_config(tmp_path, [module])) as plane:
        await _emit(plane)
        runner = plane.engine.runners["flaky"]
        await wait_until(lambda: runner.state.value == "dead", what="dead")
        failed = (await plane.client.get("/v1/trajectories?outcome=failed", headers=AUTH)).json()
        health = (await plane.client.get("/health", headers=AUTH)).json()
        mode.write_text("ok")
        revived = await plane.client.post("/v1/modules/flaky/revive", headers=plane.auth())
        await wait_until(lambda: state_json(plane.engine, "flaky", "count") == 1)
        again = await plane.client.post("/v1/modules/flaky/revive", headers=plane.auth())
    assert "this module fails every event" in failed["trajectories"][0]["error"]
    assert ("degraded", "dead") == (health["status"], health["modules"]["flaky"]["state"])
    assert 200 == revived.status_code
    assert 409 == again.status_code
    assert "not dead" in again.json()["error"]


async def test_a_dead_module_is_passed_over_its_poison_event_when_revived(
    tmp_path: Path,
) -> None:
    mode = tmp_path / "mode"
    mode.write_text("poison")
    module = flaky_module(
        tmp_path, "flaky", mode, restart={"max_failures": 2, "backoff_initial": "1ms"}
    )
    async with running_plane(_config(tmp_path, [module])) as plane:
        client, auth = plane.client, plane.auth()
        for payload in ("1", "poison", "2"):
            await client.post("/v1/events", json={"name": "probe.x", "payload": payload},
                              headers=auth)  # fmt: skip
        runner = plane.engine.runners["flaky"]
        await wait_until(lambda: runner.state.value == "dead", what="dead")
        dead = (await client.get("/v1/modules/flaky", headers=AUTH)).json()
        not_without = await client.post("/v1/modules/flaky/revive?skip_event=maybe", headers=auth)
        revived = await client.post("/v1/modules/flaky/revive?skip_event=true", headers=auth)
        await wait_until(lambda: state_json(plane.engine, "flaky", "count") == 2, what="2 handled")
        skipped = (await client.get("/v1/trajectories?outcome=skipped", headers=AUTH)).json()[
            "trajectories"
        ]
        running = await client.post("/v1/modules/flaky/revive?skip_event=true", headers=auth)
        status = (await client.get("/v1/modules/flaky", headers=AUTH)).json()
    assert (1, "dead") == (dead["handled"], dead["state"]) and dead["failed_event_id"]
    assert 400 == not_without.status_code
    assert 200 == revived.status_code, revived.text
    assert dead["failed_event_id"] == revived.json()["skipped_event_id"]
    [record] = skipped
    assert (dead["failed_event_id"], "skipped") == (record["event_id"], record["outcome"])
    assert "this event poisons the module" in record["error"]
    assert 409 == running.status_code
    assert (None, 1, 2) == (status["failed_event_id"], status["skipped"], status["handled"])


async def test_a_module_dead_in_init_has_no_event_to_skip(tmp_path: Path) -> None:
    mode = tmp_path / "mode"
    mode.write_text("init")
    module = flaky_module(
        tmp_path, "flaky", mode, restart={"max_failures": 1, "backoff_initial": "1ms"}
    )
    async with running_plane(_config(tmp_path, [module])) as plane:
        runner = plane.engine.runners["flaky"]
        await wait_until(lambda: runner.state.value == "dead", what="dead")
        refused = await plane.client.post(
            "/v1/modules/flaky/revive?skip_event=true", headers=plane.auth()
        )
    assert 409 == refused.status_code
    assert "no event to skip" in refused.json()["error"]


async def test_unload_load_and_restart(tmp_path: Path) -> None:
    module = flaky_module(tmp_path, "flaky", tmp_path / "mode")
    async with running_plane(_config(tmp_path, [module])) as plane:
        client, auth = plane.client, plane.auth()
        unloaded = await client.delete("/v1/modules/flaky", headers=auth)
        listed_after_unload = (await client.get("/v1/modules", headers=AUTH)).json()["modules"]
        loaded = await client.post("/v1/modules", json={"path": str(module)}, headers=auth)
        restarted = await client.post("/v1/modules/flaky/restart", headers=auth)
        refused = await client.post("/v1/modules", json={"path": str(tmp_path)}, headers=auth)
        twice = await client.post("/v1/modules", json={"path": str(module)}, headers=auth)
        health = (await client.get("/health", headers=AUTH)).json()
        await _emit(plane)
        await wait_until(lambda: state_json(plane.engine, "flaky", "count") == 1)
    assert (200, []) == (unloaded.status_code, listed_after_unload)
    assert (201, "flaky") == (loaded.status_code, loaded.json()["name"])
    assert (200, "flaky") == (restarted.status_code, restarted.json()["name"])
    assert 403 == refused.status_code  # not a configured module nor under [control] load_dirs
    assert str(tmp_path) in refused.json()["error"]
    assert 409 == twice.status_code
    assert "already loaded as module 'flaky'" in twice.json()["error"]
    assert ("ok", {}) == (health["status"], health["refused"])  # failed attempts are not refusals


async def test_state_keys_and_values(tmp_path: Path) -> None:
    module = flaky_module(tmp_path, "flaky", tmp_path / "mode")
    async with running_plane(_config(tmp_path, [module])) as plane:
        await _emit(plane, 2)
        await wait_until(lambda: state_json(plane.engine, "flaky", "count") == 2)
        keys = await plane.client.get("/v1/modules/flaky/state?prefix=co", headers=plane.auth())
        value = await plane.client.get("/v1/modules/flaky/state/count", headers=plane.auth())
        missing = await plane.client.get("/v1/modules/flaky/state/nope", headers=plane.auth())
        anonymous = await plane.client.get("/v1/modules/flaky/state/count")
    assert ["count"] == keys.json()["keys"]
    assert ("2", 1) == (value.json()["text"], value.json()["size"])
    assert 404 == missing.status_code
    assert 401 == anonymous.status_code


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/v1/events", {"name": "probe.tick", "payload": ""}),
        ("DELETE", "/v1/modules/flaky", None),
        ("POST", "/v1/modules/flaky/restart", None),
        ("POST", "/v1/modules/flaky/revive", None),
        ("POST", "/v1/modules", {"path": "elsewhere"}),
    ],
)
async def test_wrong_or_missing_token_is_401_and_changes_nothing(
    tmp_path: Path, method: str, path: str, body: object
) -> None:
    module = flaky_module(tmp_path, "flaky", tmp_path / "mode")
    async with running_plane(_config(tmp_path, [module])) as plane:
        runner = plane.engine.runners["flaky"]
        head = plane.engine.store.head()
        answers = [
            await plane.client.request(method, path, json=body, headers=headers)
            for headers in ({}, plane.auth("wrong"), {"Authorization": TOKEN})
        ]
        assert [401, 401, 401] == [a.status_code for a in answers]
        assert all("bearer token" in a.json()["error"] for a in answers)
        assert plane.engine.runners.get("flaky") is runner
        assert head == plane.engine.store.head()


async def test_without_a_token_changes_are_refused_with_how_to_allow_them(tmp_path: Path) -> None:
    module = flaky_module(tmp_path, "flaky", tmp_path / "mode")
    async with running_plane(_config(tmp_path, [module], token=False)) as plane:
        answer = await plane.client.delete("/v1/modules/flaky", headers=plane.auth())
        listed = (await plane.client.get("/v1/modules", headers=AUTH)).json()["modules"]
    assert 403 == answer.status_code
    assert "token_env" in answer.json()["error"]
    assert ["flaky"] == [m["name"] for m in listed]


def test_a_non_loopback_listener_without_a_token_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "engine.toml"
    config.write_text('[control]\nhost = "0.0.0.0"\n')
    with pytest.raises(ConfigError, match="token_env or token_file"):
        load_config(config)


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "says"),
    [
        ("POST", "/v1/events", {"content": b"{not json"}, 422, "invalid request body"),
        ("POST", "/v1/events", {"json": {"payload": "x"}}, 422, "name"),
        ("POST", "/v1/events", {"json": {"name": "bad name!"}}, 422, "name"),
        ("POST", "/v1/events", {"json": {"name": "a", "extra": 1}}, 422, "extra"),
        ("POST", "/v1/events", {"json": [1, 2]}, 422, "invalid request body"),
        ("POST", "/v1/modules", {"content": b""}, 422, "invalid request body"),
        ("GET", "/v1/trajectories?limit=lots", {}, 400, "limit"),
        ("GET", "/v1/trajectories?limit=0", {}, 400, "limit"),
        ("GET", "/v1/trajectories?outcome=meh", {}, 400, "outcome"),
        ("GET", "/v1/trajectories?since=yesterday", {}, 400, "since"),
        ("GET", "/v1/modules/nope", {}, 404, "no module named 'nope'"),
        ("POST", "/v1/modules/nope/revive", {}, 404, "no module named"),
        ("GET", "/v1/nothing-here", {}, 404, "Not Found"),
        ("PUT", "/v1/modules", {}, 405, "Method Not Allowed"),
    ],
)
async def test_malformed_requests_get_a_clear_4xx_json_message(
    tmp_path: Path, method: str, path: str, kwargs: dict[str, object], status: int, says: str
) -> None:
    module = flaky_module(tmp_path, "flaky", tmp_path / "mode")
    async with running_plane(_config(tmp_path, [module])) as plane:
        answer = await plane.client.request(method, path, headers=plane.auth(), **kwargs)  # type: ignore[arg-type]
    assert status == answer.status_code
    assert says in answer.json()["error"]
    assert "Traceback" not in answer.text


async def test_health_liveness_and_readiness(tmp_path: Path) -> None:
    module = flaky_module(tmp_path, "flaky", tmp_path / "mode")
    async with running_plane(_config(tmp_path, [module])) as plane:
        live = await plane.client.get("/health/live")
        ready = await plane.client.get("/health/ready")
        health = (await plane.client.get("/health", headers=AUTH)).json()
    assert (200, {"live": True}) == (live.status_code, live.json())
    assert (200, True) == (ready.status_code, ready.json()["ready"])
    assert ("ok", "running") == (health["status"], health["modules"]["flaky"]["state"])


async def test_metrics_on_the_control_plane_and_on_their_own_listener(tmp_path: Path) -> None:
    module = flaky_module(tmp_path, "flaky", tmp_path / "mode")
    async with running_plane(_config(tmp_path, [module])) as plane:
        await _emit(plane, 2)
        await wait_until(lambda: state_json(plane.engine, "flaky", "count") == 2)
        text = (await plane.client.get("/metrics")).text
        assert plane.metrics_url is not None
        async with httpx.AsyncClient() as client:
            separate = await client.get(plane.metrics_url + "/metrics")
    for line in (
        'cove_modules{state="running"} 1.0',
        'cove_module_events_handled_total{module="flaky"} 2.0',
        'cove_module_events_failed_total{module="flaky"} 0.0',
        'cove_module_queue_depth{module="flaky"} 0.0',
        'cove_module_handle_seconds_count{module="flaky"} 2.0',
        'cove_module_outbox_backlog{module="flaky"} 0.0',
    ):
        assert line in text.splitlines()
    assert 'cove_module_state_bytes{module="flaky"}' in text
    assert 'cove_module_restarts_total{module="flaky"}' in text
    assert 200 == separate.status_code
    assert "cove_modules" in separate.text


async def test_openapi_schema_lists_every_route(tmp_path: Path) -> None:
    async with running_plane(_config(tmp_path, [])) as plane:
        schema = (await plane.client.get("/openapi.json")).json()
    assert "3.1.0" == schema["openapi"]
    assert {
        "/health",
        "/health/live",
        "/health/ready",
        "/metrics",
        "/v1/modules",
        "/v1/modules/{name}",
        "/v1/modules/{name}/restart",
        "/v1/modules/{name}/revive",
        "/v1/modules/{name}/drain",
        "/v1/modules/{name}/reload",
        "/v1/modules/{name}/state",
        "/v1/modules/{name}/state/{key}",
        "/v1/modules/{name}/state-dump",
        "/v1/trajectories",
        "/v1/events",
        "/v1/tools",
        "/v1/tools/{name}/call",
        "/v1/hooks",
        "/v1/outbox/dead",
        "/v1/outbox/dead/retry",
        "/v1/outbox/dead/drop",
        "/v1/approvals",
        "/v1/approvals/{id}/approve",
        "/v1/approvals/{id}/deny",
        "/v1/stream",
        "/v1/modules/{name}/ui-submit",
        "/v1/fs",
        "/v1/fs/{module}",
        "/v1/fs/{module}/{path}",
    } == set(schema["paths"])
