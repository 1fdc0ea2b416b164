"""The chain client verifies TLS wherever it can be used, and skips the CA bundle where not."""

from __future__ import annotations

import ssl
from typing import Any

import httpx
import pytest

from cove._sources._chain_client import rpc_client


@pytest.fixture
def loaded(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """CA bundles loaded into a context while the test runs (no proxy from the env)."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    calls: list[Any] = []
    real = ssl.SSLContext.load_verify_locations

    def spy(self: ssl.SSLContext, *args: Any, **kwargs: Any) -> None:
        calls.append(args or kwargs)
        real(self, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", spy)
    return calls


async def test_an_https_fallback_keeps_the_verifying_context(loaded: list[Any]) -> None:
    async with rpc_client(["http://a.test", "https://b.test"], None, 5.0):
        pass
    assert loaded, "an https endpoint must be verified against the CA bundle"


async def test_plain_http_gets_a_context_that_fails_closed(loaded: list[Any]) -> None:
    async with rpc_client(["http://a.test", "HTTP://b.test"], None, 5.0) as client:
        transport = client._transport
    assert loaded == []
    assert isinstance(transport, httpx.AsyncHTTPTransport)
    context = transport._pool._ssl_context
    assert context is not None
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


async def test_a_given_transport_is_used_as_is(loaded: list[Any]) -> None:
    given = httpx.MockTransport(lambda request: httpx.Response(200))
    async with rpc_client(["https://b.test"], given, 5.0) as client:
        assert client._transport is given
