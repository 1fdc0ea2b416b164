"""The console's System page on a real chain source (anvil): head, blocks behind per depth,
the endpoint with its head and requests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from tests.chain.test_chain_health import blocks_module, seen
from tests.e2e.test_console import DESKTOP, watched
from tests.helpers.anvil import Anvil, running_anvil
from tests.helpers.control import TOKEN, TOKEN_ENV, control_section, running_plane
from tests.helpers.engine import wait_until
from tests.helpers.modules import toml_value, write_engine_config


@pytest.fixture
def anvil() -> Iterator[Anvil]:
    with running_anvil() as node:
        yield node


async def test_the_chain_source_shows_its_head_depths_and_endpoint(
    anvil: Anvil, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, browser: Browser
) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    anvil.mine(3)
    modules = [blocks_module(tmp_path, "at_head", 0), blocks_module(tmp_path, "deep", 2)]
    chains = f"[[chains]]\nchain_id = 31337\nhttp = {toml_value(anvil.http_url)}\n"
    config = write_engine_config(tmp_path / "engine.toml", modules, chains + control_section())
    async with running_plane(config) as plane:
        await wait_until(lambda: len(seen(plane.engine, "deep")) >= 1, what="a deep block")
        tip = int(anvil.rpc("eth_blockNumber"), 16)
        await wait_until(lambda: seen(plane.engine, "at_head")[-1][0] == tip, what="the head")
        view = await watched(browser, DESKTOP, "chain")
        page = view.page
        await page.goto(f"{plane.client.base_url}/#token={TOKEN}")
        await page.goto(f"{plane.client.base_url}/#/system")
        source = page.locator('[data-source="chain:31337"]')
        await expect(source.locator("[data-state]")).to_have_text("ok")
        await expect(source.locator("dl")).to_contain_text(f"head{tip}")
        await expect(source.locator("dl")).to_contain_text("behind at 2 conf.")
        await expect(source.locator("table")).to_contain_text("#0 127.0.0.1")
        await view.shot("sources")
        view.assert_clean()
        await page.close()
