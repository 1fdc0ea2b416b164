"""Hostile text: nothing a guest sends is read as rich markup by `cove run`'s printers."""

from __future__ import annotations

from pathlib import Path

import pytest

from cove import Engine, ModuleState, load_config
from cove._cli._run import _print_trajectory
from tests.helpers.engine import wait_until
from tests.helpers.modules import write_engine_config
from tests.helpers.security import op_event, probe_module

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
