"""The web console in a real headless Chromium (Debian's, driven by Playwright).

A module goes from running to dead after an event it cannot handle, the
page shows it, the operator revives it from the page with the token, and
reads its state in the state browser.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from tests.helpers.control import (
    TOKEN,
    TOKEN_ENV,
    Plane,
    control_section,
    flaky_module,
    running_plane,
)
from tests.helpers.engine import state_json, wait_until
from tests.helpers.modules import write_engine_config

PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 800}


async def _hostile_event_then_revive(plane: Plane, page: Page, mode: Path) -> None:
    await page.goto(str(plane.client.base_url) + "/")
    # The engine has a token, so module data is behind it: the operator pastes it first.
    await page.locator("#token").fill(TOKEN)
    await page.locator("#token").dispatch_event("change")
    row = page.locator('tr[data-module="flaky"]')
    await expect(row.locator("[data-state]")).to_have_text("running")

    await asyncio.to_thread(mode.write_text, "always")  # the next event fails: the module dies
    await plane.client.post("/v1/events", json={"name": "probe.bad"}, headers=plane.auth())
    await expect(row.locator("[data-state]")).to_have_text("dead")
    await expect(page.locator("#engine-status")).to_have_text("degraded")

    await row.get_by_role("link", name="flaky").click()
    await expect(page.locator("#module-state")).to_have_text("dead")
    await expect(page.locator('#trajectories tr[data-outcome="failed"]').first).to_contain_text(
        "this module fails every event"
    )
    await asyncio.to_thread(mode.write_text, "ok")
    await page.locator("#revive").click()
    await expect(page.locator("#module-state")).to_have_text("running")
    await wait_until(lambda: state_json(plane.engine, "flaky", "count") == 1, what="handled")
    await expect(page.locator('#trajectories tr[data-outcome="ok"]')).to_have_count(1)
    await expect(page.locator("#revive")).to_be_disabled()
    await expect(page.locator("#activity polyline.handled")).to_have_count(1)

    await page.locator("#state-prefix").fill("co")
    await page.get_by_role("button", name="List keys").click()
    await page.get_by_role("button", name="count").click()
    await expect(page.locator("#state-value")).to_have_text("1")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_module_dies_after_a_hostile_event_and_is_revived_from_the_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, browser: Browser, viewport: dict[str, int]
) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    mode = tmp_path / "mode"
    module = flaky_module(
        tmp_path, "flaky", mode, restart={"max_failures": 1, "backoff_initial": "1ms"}
    )
    config = write_engine_config(tmp_path / "engine.toml", [module], control_section())
    async with running_plane(config) as plane:
        page = await browser.new_page(viewport=viewport)  # type: ignore[arg-type]
        await _hostile_event_then_revive(plane, page, mode)
        await page.close()


async def test_revive_with_the_read_only_token_shows_the_error_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, browser: Browser
) -> None:
    """The read-only token shows the module page; reviving needs the admin token."""
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    monkeypatch.setenv("COVE_TEST_READ_TOKEN", "read-only")
    mode = tmp_path / "mode"
    mode.write_text("always")
    module = flaky_module(tmp_path, "flaky", mode, restart={"max_failures": 1})
    section = control_section().replace(
        "\n[metrics]", 'read_token_env = "COVE_TEST_READ_TOKEN"\n\n[metrics]'
    )
    config = write_engine_config(tmp_path / "engine.toml", [module], section)
    async with running_plane(config) as plane:
        await plane.client.post("/v1/events", json={"name": "probe.bad"}, headers=plane.auth())
        await wait_until(lambda: plane.engine.runners["flaky"].state.value == "dead")
        page = await browser.new_page()
        await page.goto(str(plane.client.base_url) + "/#/module/flaky")
        await page.locator("#token").fill("read-only")
        await page.locator("#token").dispatch_event("change")
        await expect(page.locator("#module-state")).to_have_text("dead")
        await page.locator("#revive").click()
        await expect(page.locator("#error")).to_contain_text("bearer token")
        await expect(page.locator("#module-state")).to_have_text("dead")
        await page.close()
        assert "dead" == plane.engine.runners["flaky"].state.value
