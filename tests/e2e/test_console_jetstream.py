"""The console's module row while the journal's server is away (``[cluster] journal =
"jetstream"``, NATS stopped): the lag is the last known one, marked as such, not a
blank page or an error."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from tests.e2e.test_console import DESKTOP, _open, watched
from tests.helpers.control import TOKEN, TOKEN_ENV, control_section, flaky_module, running_plane
from tests.helpers.engine import wait_until
from tests.helpers.nats import NatsServer
from tests.helpers.postgres import PostgresServer
from tests.integration.test_cluster import PASSWORD_ENV, cluster_config, placed
from tests.integration.test_jetstream_status import _probe


async def test_the_lag_is_marked_as_the_last_known_while_nats_is_away(
    tmp_path: Path,
    postgres: PostgresServer,
    browser: Browser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, postgres.password)
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    server = NatsServer()
    server.start()
    mode = tmp_path / "mode"
    mode.write_text("always")
    module = flaky_module(tmp_path, "flaky", mode, restart={"max_failures": 1})
    journal = f'journal = "jetstream"\nnats_url = "{server.url}"\nstream = "S"\n'
    config = cluster_config(
        tmp_path / "a", [module], postgres.database(), "a", control_section(), journal
    )
    try:
        async with running_plane(config) as plane:
            await wait_until(lambda: placed(plane.engine) == {"flaky": "a"}, what="placed")
            await plane.engine.publish([_probe(i) for i in range(3)])
            await wait_until(lambda: plane.engine.status()[0].queue_depth == 3, what="3 wait")
            server.kill()
            await asyncio.sleep(1.5)  # the journal's tail goes stale: the head is the server's
            seen = await watched(browser, DESKTOP, "jetstream-away")
            page = seen.page
            await page.goto(_open(plane))
            lag = page.locator('#modules tr[data-module="flaky"] [data-label="lag"]')
            await expect(lag).to_have_text("3?")
            await expect(lag).to_have_attribute(
                "title", "the last known lag: the journal's server is away"
            )
            await page.goto(_open(plane, "#/module/flaky"))
            await expect(page.locator("#facts")).to_contain_text("3?")
            await seen.shot("lag-stale")
            seen.assert_clean()
    finally:
        server.stop()
