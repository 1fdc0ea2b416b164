"""The build world of a tool module: [tools] enabled adds the tool-provider export."""

from __future__ import annotations

import re

from cove._build._world import BUILD_WORLD, module_world
from tests.helpers.fakes import manifest


def build_world(text: str) -> str:
    match = re.search(rf"^world {BUILD_WORLD} \{{\n(.*?)^\}}\n", text, re.S | re.M)
    assert match is not None
    return match.group(1)


def test_tools_enabled_exports_the_tool_provider() -> None:
    plain = module_world(manifest(kind="wasm"))
    tools = module_world(manifest(kind="wasm", tools={"enabled": True}))
    assert "export tool-provider;" not in build_world(plain)
    assert "export tool-provider;" in build_world(tools)
    assert "interface tool-provider {" in tools  # host.wit is kept whole above it
