"""The hub's httpx transport: each request handed to ``ctx.fetch`` as the host expects it."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from cove._capabilities._http import HttpResponse
from cove.errors import HostCallError
from cove.plugins._host_http import HostTransport


class _Ctx:
    """Stands in for PluginContext.fetch: records the call, answers or raises."""

    def __init__(self, answer: HttpResponse | HostCallError) -> None:
        self.answer = answer
        self.calls: list[tuple[str, str, list[tuple[str, str]], bytes]] = []

    def fetch(self, method: str, url: str, headers: Any, body: bytes) -> HttpResponse:
        self.calls.append((method, url, list(headers), body))
        if isinstance(self.answer, HostCallError):
            raise self.answer
        return self.answer


def _post(ctx: _Ctx) -> httpx.Response:
    async def run() -> httpx.Response:
        async with httpx.AsyncClient(transport=HostTransport(ctx)) as client:  # type: ignore[arg-type]
            response = await client.post("http://agent.test:8080/a2a", json={"q": 1})
            await response.aread()
            return response

    return asyncio.run(run())


def test_the_request_goes_through_fetch_without_headers_the_host_sets() -> None:
    """Host and Content-Length are the host's to set (a redirect to another origin
    must not carry the first one's Host)."""
    ctx = _Ctx(HttpResponse(200, (("content-type", "application/json"),), b'{"a":1}'))
    response = _post(ctx)
    [(method, url, headers, body)] = ctx.calls
    assert ("POST", "http://agent.test:8080/a2a", b'{"q":1}') == (method, url, body)
    names = {name.lower() for name, _ in headers}
    assert "content-type" in names
    assert not names & {"host", "content-length"}
    assert {"a": 1} == response.json()


def test_a_decoded_body_is_not_decoded_again() -> None:
    ctx = _Ctx(HttpResponse(200, (("content-encoding", "gzip"),), b"plain"))
    assert b"plain" == _post(ctx).content


@pytest.mark.parametrize(
    ("kind", "raised"), [("timeout", httpx.ReadTimeout), ("denied", httpx.ConnectError)]
)
def test_a_refused_fetch_is_an_httpx_error_naming_its_kind(
    kind: str, raised: type[Exception]
) -> None:
    with pytest.raises(raised, match=kind if kind != "timeout" else "slow"):
        _post(_Ctx(HostCallError(kind, "slow" if kind == "timeout" else "not allowed")))
