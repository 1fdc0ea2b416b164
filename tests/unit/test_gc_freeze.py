"""What the engine holds once started is moved out of the cyclic collector's reach, garbage first."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from cove import load_config
from cove._app import App
from cove._cli import _run
from cove._gc import freeze_startup_objects


@pytest.fixture(autouse=True)
def _unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_garbage_is_collected_and_the_survivors_frozen() -> None:
    kept = _Cycle()
    dropped = weakref.ref(_Cycle())  # a cycle nobody holds: garbage for the collector
    freeze_startup_objects()
    assert dropped() is None
    assert gc.get_freeze_count() > 0
    assert kept.me is kept


def test_cove_run_freezes_once_the_engine_has_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "engine.toml"
    config.write_text(f'data_dir = "{tmp_path}/data"\nmodules = []\n')
    app = App(load_config(config))
    started: list[bool] = []
    monkeypatch.setattr(_run, "freeze_startup_objects", lambda: started.append(app.engine.started))
    asyncio.run(_run._serve(app, 0.1))
    assert started == [True]
