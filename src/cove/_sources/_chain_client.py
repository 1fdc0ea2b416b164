"""The chain source's HTTP client: a CA bundle only when some endpoint speaks TLS.

httpx's default transport loads certifi's bundle into a verifying TLS context
as the client is made (~19 ms idle, far more on a loaded machine), on every
source run. A source whose endpoints are all http:// never uses TLS on its own
transport, so that transport gets a context trusting no CA: TLS on it would
fail closed, never pass unverified. Proxies from the environment keep httpx's
own verifying transports.
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from urllib.parse import urlsplit

import httpx


def rpc_client(
    urls: Sequence[str], transport: httpx.AsyncBaseTransport | None, timeout: float
) -> httpx.AsyncClient:
    """The client for ``urls``: ``transport`` if given (tests), else httpx's own."""
    if transport is None and all(urlsplit(url).scheme == "http" for url in urls):
        transport = httpx.AsyncHTTPTransport(verify=ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT))
    return httpx.AsyncClient(transport=transport, timeout=timeout)
