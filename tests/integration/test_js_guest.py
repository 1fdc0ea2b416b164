"""A JavaScript guest (componentize-js) on the same engine: the contract is language-neutral."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from cove._cli._main import cli
from tests.helpers.modules import CACHE, REPO


@pytest.mark.slow
def test_the_js_counter_example_counts_and_emits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Built by `cove run --mock` (componentize-js, cached), then run on a local engine."""
    module = tmp_path / "js_counter"
    shutil.copytree(
        REPO / "examples" / "js_counter", module, ignore=shutil.ignore_patterns("*.wasm")
    )
    monkeypatch.setenv("COVE_BUILD_CACHE", str(CACHE / "builds"))
    # Outside the repository, the repository's npm tools are found through PATH.
    monkeypatch.setenv("PATH", f"{REPO / 'node_modules' / '.bin'}{os.pathsep}{os.environ['PATH']}")
    fixture = module / "fixtures" / "readings.toml"
    result = CliRunner().invoke(cli, ["run", "--mock", str(fixture), "--module", str(module)])
    assert 0 == result.exit_code, result.output
    lines = [line.strip() for line in result.output.splitlines()]
    assert "state  count: (unset) → 1" in lines  # a not-found host error, caught in JS
    assert "state  sum: 2 → 5.5" in lines
    assert "log    info: threshold reached" in lines
    assert 'emit   counter.threshold {"count":3,"sum":6.5,"event":"fixture-3"}' in lines
    assert "done: 3 handled, 0 failed, 0 not subscribed" in lines
    assert f'sha256 = "sha256:{"0" * 64}"' not in (module / "cove.toml").read_text()
