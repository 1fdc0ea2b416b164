"""`cove run` runs the engine on uvloop where it is installed (it is pinned off Windows)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from cove import load_config
from cove._app import App
from cove._cli import _run
from cove._loop import run


@pytest.mark.skipif(sys.platform == "win32", reason="uvloop is not installed on Windows")
def test_run_uses_uvloop() -> None:
    async def which() -> str:
        return type(asyncio.get_running_loop()).__module__

    assert run(which()).startswith("uvloop")


def test_cove_run_serves_the_engine_through_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "engine.toml"
    config.write_text(f'data_dir = "{tmp_path}/data"\nmodules = []\n')
    loops: list[str] = []
    serve = _run._serve

    async def recorded(app: App, duration: float | None) -> None:
        loops.append(type(asyncio.get_running_loop()).__module__)
        await serve(app, duration)

    monkeypatch.setattr(_run, "_serve", recorded)
    monkeypatch.setattr(_run, "freeze_startup_objects", lambda: None)
    _run.run_engine(App(load_config(config)), 0.1)
    assert loops and loops[0].startswith("uvloop" if sys.platform != "win32" else "asyncio")
