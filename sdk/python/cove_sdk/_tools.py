"""Tool registry: ``@tool`` maps a tool name to the author's function.

The engine validates the arguments against ``schema`` before the module is
called, so a tool function receives them as keyword arguments that already
fit; what it returns is sent back as JSON.
"""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    schema: dict[str, Any]
    fn: Callable[..., Any]


TOOLS: dict[str, Tool] = {}


def tool(
    name: str, description: str, schema: dict[str, Any] | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``fn(**arguments)`` as the tool ``name``; ``schema``: JSON Schema of the arguments."""
    if not _NAME.match(name):
        raise ValueError(f"tool name {name!r}: use 1-64 of A-Z a-z 0-9 _ -")
    if name in TOOLS:
        raise ValueError(f"tool {name!r} is registered twice")
    full = schema if schema is not None else {"type": "object", "properties": {}}
    json.dumps(full)  # fails now, at build time, if the schema is not JSON

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        TOOLS[name] = Tool(name, description, full, fn)
        return fn

    return register
