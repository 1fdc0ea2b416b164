"""Hostile text: nothing a guest sends is read as rich markup by `cove run`'s printers."""

from __future__ import annotations

from pathlib import Path

import pytest

from cove import Engine, ModuleState, load_config
from cove._cli._run import _print_trajectory
from tests.helpers.control import TOKEN, TOKEN_ENV, control_section, running_plane
from tests.helpers.engine import wait_until
from tests.helpers.modules import toml_value, write_engine_config, write_manifest
from tests.helpers.security import op_event, probe_module
from tests.integration.test_cli_control import cove

MARKUP = "[/] closing nothing [/red] and [bold]bold?"


async def test_markup_in_a_handler_error_is_printed_as_text_and_the_module_lives_on(
    tmp_path: Path, hostile_wasm: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The trace printer of `cove run` once raised rich's MarkupError on the runner's
    thread: the module was left stopped, never dead, never retried."""
    module = probe_module(tmp_path, hostile_wasm, "marker", restart={"max_failures": 2})
    config = load_config(write_engine_config(tmp_path / "engine.toml", [module]))
    engine = Engine(config, on_trajectory=_print_trajectory)
    await engine.start()
    try:
        await engine.publish([op_event("marker", "raise", text=MARKUP)])
        runner = engine.runners["marker"]
        await wait_until(lambda: runner.state == ModuleState.DEAD, what="dead after 2 failures")
        assert 2 == runner.stats.failed
    finally:
        await engine.stop(drain_seconds=2)
    assert f"ValueError: {MARKUP}" in capsys.readouterr().out


_MARKUP_TOOLS = """
from cove.plugin import Plugin, PluginContext, tool

MARKUP = {markup!r}


class Tools(Plugin):
    @tool("echo", MARKUP, {{"type": "object", "properties": {{MARKUP: {{"type": "string"}}}}}})
    def echo(self, ctx: PluginContext, **arguments: str) -> str:
        return ""
"""


async def test_markup_in_a_manifest_or_a_tool_spec_is_listed_as_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`cove module list` and `cove tool list` read a module's version, a tool's
    description and its argument names as rich markup: the listing failed."""
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    module = write_manifest(
        tmp_path / "marked", "marked", kind="python", entry="tools:Tools", tools=True
    )
    (module / "tools.py").write_text(_MARKUP_TOOLS.format(markup=MARKUP))
    manifest = module / "cove.toml"
    manifest.write_text(manifest.read_text().replace('"0.1.0"', toml_value(MARKUP)))
    config = write_engine_config(tmp_path / "engine.toml", [module], control_section())
    async with running_plane(config) as plane:
        await wait_until(lambda: len(plane.engine.tools.all()) == 1, what="the tool listed")
        modules = await cove(plane, "module", "list")
        tools = await cove(plane, "tool", "list")
        loaded = await cove(plane, "module", "restart", "marked")
    assert (0, "") == (modules.code, modules.err)
    assert MARKUP in modules.out
    assert (0, "") == (tools.code, tools.err)
    assert MARKUP in tools.out
    assert f"{MARKUP}?" in tools.out  # the argument, optional
    assert (0, "") == (loaded.code, loaded.err)
    assert MARKUP in loaded.out


_MARKUP_RAISES = """
from cove.plugin import Plugin


class Raises(Plugin):
    def handle_event(self, event, ctx):
        raise RuntimeError({markup!r})
"""


async def test_markup_in_a_dead_modules_error_is_shown_as_text_by_cove_health(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`cove health` printed a module's last error inside its own markup: rich read the
    error's brackets as tags and the command failed instead of reporting."""
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    module = write_manifest(
        tmp_path / "marked",
        "marked",
        kind="python",
        entry="raises:Raises",
        subscriptions=[{"kind": "custom", "name": "marked.*"}],
        restart={"max_failures": 1},
    )
    (module / "raises.py").write_text(_MARKUP_RAISES.format(markup=MARKUP))
    config = write_engine_config(tmp_path / "engine.toml", [module], control_section())
    async with running_plane(config) as plane:
        await plane.engine.publish([op_event("marked", "any")])
        runner = plane.engine.runners["marked"]
        await wait_until(lambda: runner.state == ModuleState.DEAD, what="dead")
        told = await cove(plane, "health")
    assert (1, "") == (told.code, told.err)  # degraded, and said so
    assert f"RuntimeError: {MARKUP}" in told.out
