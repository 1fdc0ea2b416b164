"""Configured secrets never leak through the operator surface.

An engine is configured with a control token, a webhook token and secret and
a transport secret and a transport URL with credentials; requests use them,
a module's messages fail to deliver there, a module fails, a module fetches a URL
with credentials in its userinfo and query and an operator secret the host fills
into its path, a module logs a value, and then
every log line, metrics page, trajectory, API response and file in the data
directory is searched for each secret's value (the logged value may appear
in the module's own log lines only: a module's log text is never recorded
in trajectories).
"""

from __future__ import annotations

import io
import logging
import shutil
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest
import structlog

from cove._observe._logging import configure_logging
from cove._sources._webhook_auth import sign
from cove._sources._webhook_server import WebhookServer
from tests.helpers.control import TOKEN, TOKEN_ENV, control_section, flaky_module, running_plane
from tests.helpers.engine import state_json, wait_until
from tests.helpers.modules import ASSETS, native_counter, write_engine_config, write_manifest
from tests.helpers.security import op_event, probe_module

WEBHOOK_TOKEN = "webhook-token-77aa0c1e"
WEBHOOK_SECRET = "webhook-secret-4b19e2d6"
URL_PASSWORD = "url-password-5c0ffee1"
URL_KEY = "url-api-key-9d3b77a0"
LOGGED = "logged-value-e1f2a3b4"
MODULE_SECRET = "module-secret-3e8d1f07"
SECRETS = (TOKEN, WEBHOOK_TOKEN, WEBHOOK_SECRET, URL_PASSWORD, URL_KEY, MODULE_SECRET)


@pytest.fixture
def json_logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """Engine and module logs, as JSON lines, into a buffer."""
    buffer = io.StringIO()
    monkeypatch.setattr(sys, "stdout", buffer)
    configure_logging("json", logging.DEBUG)
    yield buffer
    structlog.reset_defaults()


def _recorder(tmp_path: Path) -> Path:
    directory = tmp_path / "recorder"
    directory.mkdir()
    shutil.copy(ASSETS / "recorder" / "recorder.py", directory / "recorder.py")
    return write_manifest(
        directory, "recorder", kind="python", entry="recorder:Recorder",
        required=["store", "messaging"], subscriptions=[{"kind": "webhook", "path": "/ping"}],
    )  # fmt: skip


async def test_secrets_appear_in_no_log_metric_trajectory_response_or_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, json_logs: io.StringIO, hostile_wasm: Path
) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    monkeypatch.setenv("COVE_TEST_WEBHOOK_SECRET", WEBHOOK_SECRET)
    monkeypatch.setenv("COVE_TEST_MODULE_SECRET", MODULE_SECRET)
    (tmp_path / "webhook-token").write_text(WEBHOOK_TOKEN)
    extra = control_section() + (
        "[webhook]\nport = 0\n"
        'secret_env = "COVE_TEST_WEBHOOK_SECRET"\n'
        f'token_file = "{tmp_path / "webhook-token"}"\n'
        '[[transports]]\nname = "hook"\nkind = "webhook"\n'
        f'url = "http://hook:{URL_PASSWORD}@127.0.0.1:9/unused?token={URL_KEY}"\n'
        'secret_env = "COVE_TEST_WEBHOOK_SECRET"\n'
        '[secrets.api-key]\nenv = "COVE_TEST_MODULE_SECRET"\n'
        '[overrides.fetcher]\nsecrets = ["api-key"]\n'
    )
    mode = tmp_path / "mode"
    mode.write_text("always")
    # Port 9 (discard) refuses the connection: the fetch fails with the URL in hand.
    # The URL is the module's config, not the event's, so the journal holds none of it.
    url = f"http://user:{URL_PASSWORD}@127.0.0.1:9/p/{{{{secret:api-key}}}}?api_key={URL_KEY}"
    fetcher = probe_module(
        tmp_path, hostile_wasm, "fetcher", http_allow=["127.0.0.1:9"], config={"url": url}
    )
    # The sender's messages go out on the hook transport, whose URL carries credentials:
    # each delivery fails (port 9) and its error becomes the module's outbox_last_error.
    sender = native_counter(tmp_path, "sender", "hook")
    modules = [_recorder(tmp_path), flaky_module(tmp_path, "flaky", mode), fetcher, sender]
    config = write_engine_config(tmp_path / "engine.toml", modules, extra)
    seen: list[str] = []
    async with running_plane(config) as plane:
        client, auth = plane.client, plane.auth()
        server = next(s for s in plane.engine.sources if isinstance(s, WebhookServer))
        async with httpx.AsyncClient(base_url=await server.wait_started()) as hooks:
            body = b'{"hello": "world"}'
            headers = {"x-cove-signature": sign(WEBHOOK_SECRET.encode(), body),
                       "authorization": f"Bearer {WEBHOOK_TOKEN}"}  # fmt: skip
            assert (
                202
                == (await hooks.post("/webhooks/ping", content=body, headers=headers)).status_code
            )
            refused = await hooks.post("/webhooks/ping", content=body)
            seen.append(refused.text)
        await client.post("/v1/events", json={"name": "probe.x"}, headers=auth)
        await plane.engine.publish(
            [op_event("fetcher", "fetch"), op_event("fetcher", "log", text=LOGGED)]
        )
        await wait_until(lambda: plane.engine.runners["fetcher"].stats.handled == 2)
        assert "unavailable" == state_json(plane.engine, "fetcher", "error")["kind"]
        await wait_until(lambda: state_json(plane.engine, "recorder", "webhooks") is not None)
        await wait_until(lambda: plane.engine.runners["flaky"].stats.failed > 0)
        await wait_until(
            lambda: any(s.outbox_last_error for s in plane.engine.status() if s.name == "sender"),
            what="a failed delivery",
        )
        for method, path, headers_used in [
            ("GET", "/v1/modules", {}),
            ("GET", "/v1/modules/recorder", {}),
            ("GET", "/v1/modules/recorder/state", auth),
            ("GET", "/v1/modules/recorder/state/webhooks", auth),
            ("GET", "/v1/trajectories?limit=1000", {}),
            ("GET", "/health", {}),
            ("GET", "/health/ready", {}),
            ("GET", "/metrics", {}),
            ("GET", "/openapi.json", {}),
            ("DELETE", "/v1/modules/recorder", {"Authorization": "Bearer wrong"}),
            ("POST", "/v1/events", auth),
        ]:
            seen.append((await client.request(method, path, headers=headers_used)).text)
        assert plane.metrics_url is not None
        async with httpx.AsyncClient() as scraper:
            seen.append((await scraper.get(plane.metrics_url + "/metrics")).text)
    seen.append(json_logs.getvalue())
    data = tmp_path / "data"
    files = sorted(p for p in data.rglob("*") if p.is_file() and "cache" not in p.parts)
    assert any(p.name == "trajectories.db" for p in files)
    assert "control plane listening" in seen[-1]  # the logs were captured
    assert any("world" in text for text in seen[:-1])  # and the API answers (state read)
    for secret in SECRETS:
        assert [] == [text[:200] for text in seen if secret in text], secret
        assert [] == [p.name for p in files if secret.encode() in p.read_bytes()], secret
    assert LOGGED in seen[-1]  # the module's own log line has it
    assert [] == [text[:200] for text in seen[:-1] if LOGGED in text]
    # The value is the payload of the event that asked the module to log it: the
    # journal keeps that event (a payload is the module's input, not its log), and
    # no other table nor the trajectory store keeps what was logged.
    assert {"journal"} == _tables_holding(data / "cove.db", LOGGED)
    trajectory_files = [p for p in files if p.name.startswith("trajectories.db")]
    assert [] == [p.name for p in trajectory_files if LOGGED.encode() in p.read_bytes()]


def _tables_holding(database: Path, text: str) -> set[str]:
    """The tables of ``database`` with a row that contains ``text`` in any column."""
    with closing(sqlite3.connect(database)) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {
            table
            for table in tables
            if any(text in repr(row) for row in db.execute(f'SELECT * FROM "{table}"'))
        }
