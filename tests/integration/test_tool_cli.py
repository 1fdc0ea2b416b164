"""``cove tool list|call`` against a real engine serving the shipped unit_converter example."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.control import TOKEN, TOKEN_ENV, control_section, running_plane
from tests.helpers.engine import state_json, wait_until
from tests.helpers.modules import example_module, write_engine_config
from tests.integration.test_cli_control import cove

pytestmark = pytest.mark.slow


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    module = example_module("unit_converter", tmp_path / "unit_converter")
    return write_engine_config(tmp_path / "engine.toml", [module], control_section())


async def test_tool_list_shows_names_arguments_and_descriptions(config: Path) -> None:
    async with running_plane(config) as plane:
        await wait_until(lambda: len(plane.engine.tools.all()) == 2, what="tools listed")
        table = await cove(plane, "tool", "list")
        assert table.code == 0, table.err
        assert "unit_converter.convert" in table.out
        assert "value, from, to" in table.out
        listed = json.loads((await cove(plane, "tool", "list", "--json")).out)
        assert [t["name"] for t in listed["tools"]] == [
            "unit_converter.convert",
            "unit_converter.stats",
        ]


async def test_tool_call_converts_and_counts_in_state(config: Path) -> None:
    async with running_plane(config) as plane:
        await wait_until(lambda: len(plane.engine.tools.all()) == 2, what="tools listed")
        miles = await cove(
            plane, "tool", "call", "unit_converter.convert", '{"value": 10, "from": "km"}',
            "--arg", "to=mi",
        )  # fmt: skip
        assert miles.code == 0, miles.err
        assert json.loads(miles.out) == {"value": 6.2137119224, "unit": "mi"}
        boiling = await cove(
            plane, "tool", "call", "unit_converter.convert",
            "-a", "value=100", "-a", "from=C", "-a", "to=F",
        )  # fmt: skip
        assert json.loads(boiling.out) == {"value": 212.0, "unit": "F"}
        assert state_json(plane.engine, "unit_converter", "count:length") == 1
        stats = await cove(plane, "tool", "call", "unit_converter.stats")
        assert json.loads(stats.out)["temperature"] == 1


async def test_tool_call_errors_exit_1_and_name_the_problem(config: Path) -> None:
    async with running_plane(config) as plane:
        await wait_until(lambda: len(plane.engine.tools.all()) == 2, what="tools listed")
        mixed = await cove(
            plane, "tool", "call", "unit_converter.convert", "-a", "value=1", "-a", "from=kg",
            "-a", "to=m",
        )  # fmt: skip
        assert mixed.code == 1
        assert "cannot convert kg (mass) to m" in mixed.err
        assert state_json(plane.engine, "unit_converter", "count:mass") is None
        bad = await cove(plane, "tool", "call", "unit_converter.convert", '{"value": "x"}')
        assert bad.code == 1
        assert "unit_converter.convert" in bad.err and "'value'" in bad.err
        no_token = await cove(plane, "tool", "call", "unit_converter.stats", token=None)
        assert no_token.code == 4
