"""Property tests against the OpenAPI schema: any request gets a JSON answer, never a 500.

Requests are drawn from the schema's own paths (with real, unknown and odd
path parameters), its query parameters (with arbitrary values: huge
integers, digits that are not ASCII), arbitrary
JSON or bytes as bodies, any method, and no, wrong or right tokens. The
engine runs in a thread of its own so hypothesis can drive a plain client.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cove import load_config
from cove._app import App
from tests.helpers.control import TOKEN, TOKEN_ENV, control_section, flaky_module
from tests.helpers.modules import write_engine_config

_MUTATING = {"POST", "DELETE", "PUT", "PATCH"}


class EngineThread:
    """An engine and its control plane with their own event loop in a daemon thread."""

    def __init__(self, config: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.app = App(load_config(config))
        self.engine = self.app.engine
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.call(self.app.start())

    def __repr__(self) -> str:
        return "EngineThread(...)"

    def call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=60)

    def close(self) -> None:
        self.call(self.app.stop(drain_seconds=2))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[EngineThread, httpx.Client]]:
    tmp_path = tmp_path_factory.mktemp("control-properties")
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv(TOKEN_ENV, TOKEN)
        module = flaky_module(tmp_path, "flaky", tmp_path / "mode")
        config = write_engine_config(tmp_path / "engine.toml", [module], control_section())
        running = EngineThread(config)
    assert running.app.control is not None and running.app.control.api is not None
    with httpx.Client(base_url=running.app.control.api.url, timeout=30) as client:
        yield running, client
    running.close()


_SCHEMAS: dict[str, dict[str, Any]] = {}


def _schema(client: httpx.Client) -> dict[str, Any]:
    """The served schema, fetched once per engine."""
    url = str(client.base_url)
    if url not in _SCHEMAS:
        _SCHEMAS[url] = client.get("/openapi.json").json()
    return _SCHEMAS[url]


_odd_text = st.text(
    st.characters(codec="utf-8", exclude_characters="/?#%"), min_size=1, max_size=30
)
_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=10,
)


@st.composite
def requests(draw: st.DrawFn, schema: dict[str, Any]) -> dict[str, Any]:
    template = draw(st.sampled_from(sorted(schema["paths"])))
    operations = schema["paths"][template]
    method = draw(
        st.sampled_from(sorted({m.upper() for m in operations} | {"GET", "POST", "PUT", "DELETE"}))
    )
    path = re.sub(
        r"\{(\w+)\}",
        lambda m: quote(
            draw(st.sampled_from(["flaky", "count", "nope"]) | _odd_text, label=m.group(1)), safe=""
        ),
        template,
    )
    names = {
        p["name"]
        for op in operations.values()
        for p in op.get("parameters", [])
        if p["in"] == "query"
    }
    query = draw(
        st.dictionaries(
            st.sampled_from(sorted(names)) if names else st.just("x"),
            st.integers(-5, 2_000).map(str)
            | st.integers(-(10**30), 10**30).map(str)  # past SQLite's 64-bit integers
            | st.text(st.characters(categories=["Nd", "No"]), min_size=1, max_size=6)  # not ASCII
            | st.text(max_size=12),
            max_size=3,
        )
    )
    body = draw(
        st.none()
        | _json.map(lambda v: {"json": v})
        | st.binary(max_size=40).map(lambda b: {"content": b})
    )
    token = draw(st.sampled_from([None, "wrong", TOKEN]))
    return {"method": method, "path": path, "query": query, "body": body or {}, "token": token}  # fmt: skip


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_any_request_gets_json_and_never_a_server_error(
    api: tuple[EngineThread, httpx.Client], data: st.DataObject
) -> None:
    running, client = api
    request = data.draw(requests(_schema(client)))
    headers = {} if request["token"] is None else {"Authorization": f"Bearer {request['token']}"}
    modules_before = sorted(running.engine.runners)
    head_before = running.engine.store.head()
    with client.stream(
        request["method"], request["path"], params=request["query"], headers=headers,
        **request["body"],
    ) as response:  # fmt: skip
        if response.headers.get("content-type", "").startswith("text/event-stream"):
            # The live stream never ends: its answer is the 200 and the headers.
            assert (response.status_code, request["token"]) == (200, TOKEN)
            return
        response.read()
    assert response.status_code < 500, response.text
    if request["path"] == "/metrics" and response.status_code == 200:
        return
    body = response.json()
    if response.status_code >= 400:
        assert response.status_code == body["status"]
        assert body["error"]
    if request["token"] != TOKEN and request["method"] in _MUTATING:
        assert response.status_code in (401, 404, 405), body
        assert modules_before == sorted(running.engine.runners)
        assert head_before == running.engine.store.head()
