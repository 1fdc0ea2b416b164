"""A2UI in Chromium: the approvals example's document drawn, a form submitted as an event,
and a hostile document whose HTML, script and javascript: links stay text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from tests.e2e.test_console import DESKTOP, VIEWPORTS, watched
from tests.helpers.control import AUTH, TOKEN, TOKEN_ENV, control_section, running_plane
from tests.helpers.engine import state_json, wait_until
from tests.helpers.modules import example_module, write_engine_config, write_manifest

HOSTILE = """
from cove.plugin import Plugin, PluginContext, tool


class Hostile(Plugin):
    @tool("page", "A document that tries to inject markup.")
    def page(self, ctx: PluginContext) -> object:
        return {"a2ui": 1, "title": "<b>title</b>", "components": [
            {"type": "markdown", "text": "**bold** <img src=x onerror=\\"window.pwned=1\\"> "
                                        "[click](javascript:window.pwned=2) [ok](https://example.org)"},
            {"type": "text", "text": "<script>window.pwned=3</script>"},
            {"type": "table", "columns": ["<i>c</i>"], "rows": [["<svg onload=window.pwned=4>"]]},
        ]}
"""


@VIEWPORTS
async def test_the_approvals_inbox_is_drawn_and_a_decision_comes_back_as_an_event(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, browser: Browser, viewport: dict[str, int]
) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    module = example_module("approvals", tmp_path / "approvals")
    config = write_engine_config(tmp_path / "engine.toml", [module], control_section())
    async with running_plane(config) as plane:
        request = {"id": "7", "what": "deploy v2", "by": "ana"}
        await plane.client.post(
            "/v1/events",
            json={"name": "approval.request", "payload": json.dumps(request)},
            headers=AUTH,
        )
        await wait_until(lambda: plane.engine.runners["approvals"].stats.handled == 1)
        seen = await watched(browser, viewport, "a2ui")
        page = seen.page
        await page.goto(f"{plane.client.base_url}/#token={TOKEN}")
        await page.goto(f"{plane.client.base_url}/#/module/approvals")
        card = page.locator('[data-tool="approvals.inbox"]')
        await card.get_by_role("button", name="Call").click()
        form = card.locator('.a2ui form[data-form="request-7"]')
        await expect(form).to_contain_text("deploy v2 (asked by ana)")
        await form.get_by_label("Note for the requester").fill("ship it")
        await form.get_by_role("button", name="Approve").click()
        await expect(form.locator(".action-done")).to_contain_text("sent as event")
        await wait_until(lambda: state_json(plane.engine, "approvals", "decided") == 1)
        await card.get_by_role("button", name="Call").click()
        await expect(card.locator(".a2ui table")).to_contain_text("approved")
        await expect(card.locator(".a2ui table")).to_contain_text("ship it")
        await expect(card.locator(".a2ui form")).to_have_count(0)
        await seen.shot("approvals")
        seen.assert_clean()
        await page.close()


async def test_a_hostile_document_stays_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, browser: Browser
) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    module = write_manifest(
        tmp_path / "hostile", "hostile", kind="python", entry="hostile:Hostile", tools=True
    )
    (module / "hostile.py").write_text(HOSTILE)
    config = write_engine_config(tmp_path / "engine.toml", [module], control_section())
    async with running_plane(config) as plane:
        seen = await watched(browser, DESKTOP, "a2ui-hostile")
        page = seen.page
        await page.goto(f"{plane.client.base_url}/#token={TOKEN}")
        await page.goto(f"{plane.client.base_url}/#/tools")
        card = page.locator('[data-tool="hostile.page"]')
        await card.get_by_role("button", name="Call").click()
        document = card.locator(".a2ui")
        await expect(document).to_contain_text("<script>window.pwned=3</script>")
        await expect(document.locator("strong").first).to_have_text("bold")
        await expect(document).to_contain_text("<img src=x")
        assert 0 == await document.locator("img, script, svg, i, b").count()
        assert ["https://example.org"] == await document.locator("a").evaluate_all(
            "links => links.map(a => a.getAttribute('href'))"
        )
        assert None is await page.evaluate("window.pwned")
        await seen.shot("hostile")
        seen.assert_clean()
        await page.close()
