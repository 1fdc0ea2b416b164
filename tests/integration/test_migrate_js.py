"""State migration of a JavaScript guest (componentize-js): the ``migrator`` export works from
JavaScript too; its writes commit with the new version, or (it throws) none of them."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from cove._build._js_guest import build_js
from cove._cli._build import write_pin
from cove._manifest import load_manifest
from cove.errors import CoveError
from tests.helpers.engine import running_engine
from tests.helpers.modules import ASSETS, CACHE, REPO, write_engine_config, write_manifest
from tests.integration.test_migrate_wasm import seed, state_of, tagged

pytestmark = pytest.mark.slow  # componentize-js takes ~30 s when its build is not cached


def js_guest(tmp_path: Path, version: str, migration: str, tag: str) -> Path:
    directory = write_manifest(
        tmp_path / "migrating",
        "migrating",
        required=["config", "store"],
        config={"migration": migration, "tag": tag},
        migrate=True,
    )
    manifest = directory / "cove.toml"
    text = manifest.read_text().replace('version = "0.1.0"', f'version = "{version}"')
    pin = f'component = "migrating.wasm"\nsha256 = "sha256:{"0" * 64}"'
    manifest.write_text(text.replace('kind = "wasm"', f'kind = "wasm"\n{pin}'))
    shutil.copy(ASSETS / "js_migrating" / "app.js", directory / "app.js")
    write_pin(manifest, build_js(load_manifest(directory), CACHE / "builds").sha256)
    return directory


@pytest.fixture(autouse=True)
def _npm_tools(monkeypatch: pytest.MonkeyPatch) -> None:
    # Outside the repository, the repository's npm tools are found through PATH.
    monkeypatch.setenv("PATH", f"{REPO / 'node_modules' / '.bin'}{os.pathsep}{os.environ['PATH']}")


async def test_a_js_guest_migrates_its_state_at_a_reload(tmp_path: Path) -> None:
    seed(tmp_path, {"item:a": 1})
    module = js_guest(tmp_path, "0.1.0", "rename", "v1")
    config = write_engine_config(tmp_path / "engine.toml", [module])
    async with running_engine(config) as engine:
        before = await tagged(engine, "before")
        js_guest(tmp_path, "0.2.0", "rename", "v2")
        await engine.reload("migrating")
        after = await tagged(engine, "after")
        state = state_of(engine)
    assert ("v1", "v2") == (before, after)
    assert {"n": 1, "from": "0.1.0"} == state["entry:a"]
    assert "item:a" not in state


async def test_a_js_migration_that_throws_rolls_back(tmp_path: Path) -> None:
    seed(tmp_path, {"item:a": 1})
    module = js_guest(tmp_path, "0.1.0", "rename", "v1")
    config = write_engine_config(tmp_path / "engine.toml", [module])
    async with running_engine(config) as engine:
        await tagged(engine, "before")
        before = state_of(engine)
        js_guest(tmp_path, "0.2.0", "fail", "v2")
        with pytest.raises(CoveError, match=r"from 0\.1\.0 to 0\.2\.0 failed"):
            await engine.reload("migrating")
        after = await tagged(engine, "after")
        state = {k: v for k, v in state_of(engine).items() if k != "by:after"}
    assert "v1" == after
    assert before == state
