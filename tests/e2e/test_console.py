"""The web console in a real headless Chromium (Debian's, driven by Playwright), at 1280 px and 390 px.

An operator's session on a real engine: the overview with its chart and health,
a module killed by a poison event, skipped and revived from its row, the
trajectory explorer with its filters, paging and host calls, a tool called
from a form made from its schema, hooks and the outbox. Every page load is
checked for console errors and failed requests; screenshots go to
``.cove/artifacts/console/`` (the path is printed).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from tests.helpers.control import (
    AUTH,
    TOKEN,
    TOKEN_ENV,
    Plane,
    control_section,
    flaky_module,
    running_plane,
)
from tests.helpers.engine import wait_until
from tests.helpers.modules import (
    ASSETS,
    REPO,
    native_counter,
    write_engine_config,
    write_manifest,
)
from tests.integration.test_outbox_cli import DEAD_TRANSPORT

ARTIFACTS = REPO / ".cove" / "artifacts" / "console"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
VIEWPORTS = pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])


@dataclass
class Watched:
    """A page, and every console error and failed request it had."""

    page: Page
    name: str
    problems: list[str] = field(default_factory=list)

    async def shot(self, step: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{self.name}-{step}.png"
        await self.page.screenshot(path=str(path), full_page=True)
        print(f"screenshot: {path}")

    def assert_clean(self) -> None:
        assert [] == self.problems


async def watched(browser: Browser, viewport: dict[str, int], name: str) -> Watched:
    page = await browser.new_page(viewport=viewport)  # type: ignore[arg-type]
    seen = Watched(page, f"{name}-{viewport['width']}")
    page.on("console", lambda m: seen.problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen.problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: seen.problems.append(f"failed: {r.url} {r.failure}"))
    return seen


@pytest.fixture
async def plane(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Plane]:
    """flaky (dies on a poison event) and nt (serves tools), with the control plane."""
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    mode = tmp_path / "mode"
    mode.write_text("poison")
    flaky = flaky_module(tmp_path, "flaky", mode, restart={"max_failures": 1})
    tools = write_manifest(
        tmp_path / "nt",
        "nt",
        kind="python",
        entry="tools:Tools",
        required=["store"],
        tools=True,
        subscriptions=[{"kind": "custom", "name": "nt.never"}],
    )
    (tools / "tools.py").write_text((ASSETS / "native_tools" / "tools.py").read_text())
    config = write_engine_config(tmp_path / "engine.toml", [flaky, tools], control_section())
    async with running_plane(config) as running:
        yield running


async def _emit(plane: Plane, name: str, payload: str = "") -> str:
    answer = await plane.client.post(
        "/v1/events", json={"name": name, "payload": payload}, headers=AUTH
    )
    return str(answer.json()["id"])


def _open(plane: Plane, where: str = "") -> str:
    return (
        f"{plane.client.base_url}/#token={TOKEN}"
        if not where
        else f"{plane.client.base_url}/{where}"
    )


@VIEWPORTS
async def test_a_poison_event_is_seen_skipped_and_the_module_recovers_from_its_row(
    plane: Plane, browser: Browser, viewport: dict[str, int]
) -> None:
    await _emit(plane, "probe.warmup")
    await wait_until(lambda: plane.engine.runners["flaky"].stats.handled == 1)
    seen = await watched(browser, viewport, "overview")
    page = seen.page
    await page.goto(_open(plane))
    assert TOKEN not in page.url
    row = page.locator('#modules tr[data-module="flaky"]')
    await expect(row.locator("[data-state]")).to_have_text("running")
    # The chart is drawn at once from the stream's history, with its legend.
    await expect(page.locator("#chart-all canvas")).to_be_visible()
    await expect(page.locator("#chart-all .u-legend")).to_contain_text("events/s")
    await expect(page.locator("#chart-all .u-legend")).to_contain_text("failures/s")
    await seen.shot("1-running")

    poison = await _emit(plane, "probe.bad", "poison")
    await expect(row.locator("[data-state]")).to_have_text("dead")
    await expect(page.locator("#engine-status")).to_have_text("degraded")
    await expect(page.locator("#problems")).to_contain_text("module flaky is dead")
    await expect(row.locator(".last-error")).to_contain_text(poison)
    await expect(row.locator(".last-error")).to_contain_text("this event poisons the module")
    await seen.shot("2-dead")

    await row.locator('[data-action="skip"]').click()
    await expect(row.locator(".confirm")).to_contain_text(f"Skip event {poison}")
    await row.get_by_role("button", name="Confirm").click()
    await expect(row.locator("[data-state]")).to_have_text("running")
    await _emit(plane, "probe.after")
    await expect(row.locator(".last-error .badge")).to_have_text("recovered")
    await expect(page.locator("#engine-status")).to_have_text("ok")
    await seen.shot("3-recovered")
    assert 1 == plane.engine.runners["flaky"].stats.skipped
    if viewport is PHONE:  # cards, not a table wider than the phone
        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    seen.assert_clean()
    await page.close()


@VIEWPORTS
async def test_an_action_refused_shows_its_error_beside_the_button(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, browser: Browser, viewport: dict[str, int]
) -> None:
    """With the read-only token the page shows everything; a restart is refused, right there."""
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    monkeypatch.setenv("COVE_TEST_READ_TOKEN", "read-only")
    mode = tmp_path / "mode"
    module = flaky_module(tmp_path, "flaky", mode)
    section = control_section().replace(
        "\n[metrics]", 'read_token_env = "COVE_TEST_READ_TOKEN"\n\n[metrics]'
    )
    config = write_engine_config(tmp_path / "engine.toml", [module], section)
    async with running_plane(config) as plane:
        seen = await watched(browser, viewport, "refused")
        page = seen.page
        await page.goto(f"{plane.client.base_url}/#token=read-only")
        await page.goto(f"{plane.client.base_url}/#/module/flaky")
        await expect(page.locator("#module-state")).to_have_text("running")
        actions = page.locator('[data-actions="flaky"]')
        await actions.locator('[data-action="restart"]').click()
        button = actions.get_by_role("button", name="Confirm")
        await button.click()
        error = actions.locator(".action-error")
        await expect(error).to_contain_text("Restart failed")
        await expect(error).to_contain_text("bearer token")
        near, far = await button.bounding_box(), await error.bounding_box()
        assert near is not None and far is not None
        assert abs(far["y"] - near["y"]) < 200  # beside the button, not at the page's end
        await seen.shot("error")
        await page.close()
        assert "running" == plane.engine.runners["flaky"].state.value
        assert 0 == plane.engine.runners["flaky"].stats.restarts


@VIEWPORTS
async def test_the_trajectory_explorer_filters_pages_and_shows_host_calls(
    plane: Plane, browser: Browser, viewport: dict[str, int]
) -> None:
    for _ in range(55):
        await _emit(plane, "probe.ok")
    await _emit(plane, "probe.bad", "poison")
    await wait_until(lambda: plane.engine.runners["flaky"].state.value == "dead")
    await wait_until(lambda: plane.engine.runners["flaky"].stats.handled == 55)
    assert plane.engine.trajectories is not None
    plane.engine.trajectories.flush()
    seen = await watched(browser, viewport, "trajectories")
    page = seen.page
    await page.goto(_open(plane))
    await page.goto(_open(plane, "#/trajectories"))
    rows = page.locator("#trajectories tbody tr")
    await expect(rows).to_have_count(50)
    await page.locator("#older").click()
    await expect(rows).to_have_count(6)
    await expect(page.locator(".pager span")).to_have_text("page 2")
    await page.locator("#newer").click()
    await expect(rows).to_have_count(50)

    await page.locator('#trajectory-filters select[name="outcome"]').select_option("failed")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("this event poisons the module")
    await rows.first.click()
    detail = page.locator("#trajectory-detail")
    await expect(detail).to_contain_text("this event poisons the module")
    await expect(detail.locator("#host-calls tbody tr").first).to_contain_text("store.get")
    await seen.shot("detail")
    seen.assert_clean()
    await page.close()


@VIEWPORTS
async def test_a_tool_is_called_from_a_form_made_from_its_schema(
    plane: Plane, browser: Browser, viewport: dict[str, int]
) -> None:
    seen = await watched(browser, viewport, "tools")
    page = seen.page
    await page.goto(_open(plane))
    await page.goto(_open(plane, "#/tools"))
    card = page.locator('[data-tool="nt.greet"]')
    await card.get_by_label("who").fill("ana")
    await card.get_by_role("button", name="Call").click()
    await expect(card.locator(".tool-result")).to_contain_text("hello ana")
    await seen.shot("result")
    await wait_until(lambda: plane.engine.runners["nt"].stats.handled == 1)
    seen.assert_clean()
    await card.get_by_label("who").fill("")
    # The form refuses an empty required field itself; past that, the tool's own refusal
    # shows beside the button.
    assert not await card.get_by_label("who").evaluate("input => input.checkValidity()")
    await card.get_by_label("who").evaluate("input => input.removeAttribute('required')")
    await card.get_by_role("button", name="Call").click()
    await expect(card.locator(".action-error")).to_contain_text("'who' is a required property")
    await page.close()


async def test_hooks_sources_and_outbox_are_shown(plane: Plane, browser: Browser) -> None:
    seen = await watched(browser, DESKTOP, "system")
    page = seen.page
    await page.goto(_open(plane))
    await page.goto(_open(plane, "#/system"))
    await expect(page.locator("main")).to_contain_text("No module registers a hook.")
    await expect(page.locator("main")).to_contain_text("Nothing waiting to be delivered.")
    await expect(page.locator("main")).to_contain_text("No dead letters.")
    await seen.shot("page")
    seen.assert_clean()
    await page.close()


async def test_the_state_browser_reads_a_value(plane: Plane, browser: Browser) -> None:
    await _emit(plane, "probe.ok")
    await wait_until(lambda: plane.engine.runners["flaky"].stats.handled == 1)
    seen = await watched(browser, DESKTOP, "state")
    page = seen.page
    await page.goto(_open(plane))
    await page.goto(_open(plane, "#/module/flaky"))
    await page.locator("#state-prefix").fill("co")
    await page.get_by_role("button", name="List keys").click()
    await page.get_by_role("button", name="count").click()
    await expect(page.locator("#state-value")).to_have_text("1")
    await asyncio.sleep(0)
    seen.assert_clean()
    await page.close()


async def test_a_dead_letter_is_shown_and_dropped_from_the_system_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, browser: Browser
) -> None:
    """A send to a closed port dies; the page lists it with its error, and Drop removes it."""
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    module = native_counter(tmp_path, "sender", "chat")
    config = write_engine_config(
        tmp_path / "engine.toml", [module], DEAD_TRANSPORT + control_section()
    )
    async with running_plane(config) as plane:
        await _emit(plane, "probe.tick", "{}")
        store = plane.engine.store
        await wait_until(lambda: len(store.dead_letters(None, 10)) == 1, what="dead letter")
        seen = await watched(browser, DESKTOP, "dead-letters")
        page = seen.page
        await page.goto(_open(plane))
        await page.goto(_open(plane, "#/system"))
        row = page.locator("#dead-letters tbody tr")
        await expect(row).to_have_count(1)
        await expect(row).to_contain_text("sender")
        await expect(row).to_contain_text("chat")
        await expect(page.locator('#outbox tr[data-module="sender"]')).to_contain_text("1")
        await seen.shot("listed")
        await row.get_by_role("button", name="Drop").click()
        await expect(row.locator(".confirm")).to_contain_text("for good?")
        await row.get_by_role("button", name="Confirm").click()
        await expect(page.locator("main")).to_contain_text("dropped: 1")
        await expect(page.locator("main")).to_contain_text("No dead letters.")
        assert [] == store.dead_letters(None, 10)
        seen.assert_clean()
        await page.close()


async def test_a_dead_module_is_revived_from_its_page_once_its_cause_is_fixed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, browser: Browser
) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    mode = tmp_path / "mode"
    mode.write_text("always")
    module = flaky_module(tmp_path, "flaky", mode, restart={"max_failures": 1})
    config = write_engine_config(tmp_path / "engine.toml", [module], control_section())
    async with running_plane(config) as plane:
        await _emit(plane, "probe.bad")
        await wait_until(lambda: plane.engine.runners["flaky"].state.value == "dead")
        seen = await watched(browser, DESKTOP, "revive")
        page = seen.page
        await page.goto(_open(plane))
        await page.goto(_open(plane, "#/module/flaky"))
        await expect(page.locator("#module-state")).to_have_text("dead")
        mode.write_text("ok")
        actions = page.locator('[data-actions="flaky"]')
        await actions.locator('[data-action="revive"]').click()
        await actions.get_by_role("button", name="Confirm").click()
        await expect(page.locator("#module-state")).to_have_text("running")
        await expect(actions.locator(".action-done")).to_have_text("Revive done")
        await expect(page.locator('#recent tr[data-outcome="ok"]')).to_have_count(1)
        await expect(page.locator("#last-error .badge")).to_have_text("recovered")
        seen.assert_clean()
        await page.close()
