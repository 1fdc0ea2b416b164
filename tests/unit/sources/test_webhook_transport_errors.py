"""A webhook transport's delivery errors never show its URL's credentials."""

from __future__ import annotations

import httpx
import pytest

from cove._redact import MAX_REASON
from cove._sources._webhook import WebhookTransport
from cove.errors import DeliveryError

URL = "http://user:pa55word@hooks.example:8080/in?token=api-key-123#frag"


def _failing_with(message: str) -> WebhookTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(message.format(url=request.url), request=request)

    return WebhookTransport(
        "hook", URL, client=httpx.AsyncClient(transport=httpx.MockTransport(handler))
    )


async def _delivery_error(transport: WebhookTransport) -> str:
    with pytest.raises(DeliveryError) as caught:
        await transport.send("bob", "hi", [], "key-1")
    await transport.aclose()
    return str(caught.value)


async def test_a_failed_post_names_the_url_without_userinfo_or_query() -> None:
    message = await _delivery_error(_failing_with("connection refused"))
    assert message == (
        "transport 'hook': POST http://hooks.example:8080/in?… failed: ConnectError: "
        "connection refused"
    )


async def test_a_library_error_that_quotes_the_request_url_is_redacted() -> None:
    message = await _delivery_error(_failing_with("proxy refused {url}"))
    assert "pa55word" not in message
    assert "api-key-123" not in message
    assert message.endswith("ConnectError: proxy refused http://hooks.example:8080/in?…")


async def test_a_long_library_error_is_cut() -> None:
    message = await _delivery_error(_failing_with("x" * 100_000))
    assert message.endswith("ConnectError: " + "x" * MAX_REASON)
