"""A source whose endpoints are all plain http:// loads no CA bundle.

httpx's default client builds a verifying TLS context from certifi's bundle
(~19 ms, far more under load) on every source run, though no request of a
plain-http source uses TLS.
"""

from __future__ import annotations

import ssl
from typing import Any

import pytest

from cove._sources._chain import ChainSource, Stream
from tests.helpers.anvil import Anvil
from tests.helpers.chain_source import Journal, Progress, head, running, settings
from tests.helpers.engine import wait_until

PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


async def test_a_plain_http_source_reads_blocks_without_loading_a_ca_bundle(
    anvil: Anvil, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
    loaded: list[Any] = []
    real = ssl.SSLContext.load_verify_locations

    def spy(self: ssl.SSLContext, *args: Any, **kwargs: Any) -> None:
        loaded.append(args or kwargs)
        real(self, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", spy)
    journal = Journal()
    assert settings(anvil).http.startswith("http://")
    async with running(ChainSource(settings(anvil), Progress(), [Stream(0, blocks=True)]), journal):
        await wait_until(lambda: journal.newest() == head(anvil), what="the head")
        anvil.mine(2)
        await wait_until(lambda: journal.newest() == head(anvil), what="2 blocks")
    assert loaded == []
