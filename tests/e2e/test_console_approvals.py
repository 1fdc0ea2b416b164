"""The console's budgets and approvals on a real engine in Chromium: a module's page shows
what it spent of its budgets, and the system page lists held messages with Approve and
Deny, which decide them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from tests.e2e.test_console import DESKTOP, _emit, _open, watched
from tests.helpers.control import TOKEN, TOKEN_ENV, control_section, running_plane
from tests.helpers.engine import wait_until
from tests.integration.test_approvals import _config


async def test_budgets_and_held_messages_are_shown_and_decided(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, browser: Browser
) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    config = _config(tmp_path, "messages_per_hour = 10\n" + control_section())
    async with running_plane(config) as plane:
        engine = plane.engine
        for n, to in ((1, "bob"), (2, "carol")):
            await _emit(plane, "probe.offer", json.dumps({"n": n, "to": to}))
        await wait_until(lambda: len(engine.held_actions(None, 10)) == 2, what="two held")
        seen = await watched(browser, DESKTOP, "approvals")
        page = seen.page
        await page.goto(_open(plane))
        await page.goto(_open(plane, "#/module/agent"))
        await expect(page.locator('[data-budget="messages"]')).to_contain_text("2 / 10")
        await page.goto(_open(plane, "#/system"))
        rows = page.locator("#approvals tbody tr")
        await expect(rows).to_have_count(2)
        await seen.shot("held")
        bob = rows.filter(has_text="bob")
        await expect(bob).to_contain_text("first message to 'bob'")
        await bob.get_by_role("button", name="Approve").click()
        await expect(page.locator("main")).to_contain_text("approved:")
        carol = page.locator("#approvals tbody tr").filter(has_text="carol")
        await carol.get_by_role("button", name="Deny").click()
        await expect(page.locator("main")).to_contain_text("Nothing waits for approval.")
        assert [] == engine.held_actions(None, 10)
        seen.assert_clean()
        await page.close()
