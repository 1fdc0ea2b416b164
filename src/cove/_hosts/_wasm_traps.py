"""What a guest's trap or bad export value means, as one of cove's errors.

Design note: wasmtime reports a blown limit only as trap text, so the text is
read once here: fuel, the epoch deadline and memory become ``LimitExceededError``
(the runner counts them as such), anything else a ``ModuleFailedError`` whose
message is the trap's last line, clipped as any guest text is.
"""

from __future__ import annotations

import json

from .._capabilities._bounds import guest_error
from .._capabilities._grants import Limits
from ..errors import LimitExceededError, ModuleFailedError
from ._base import ToolSpec


def trap_error(module: str, what: str, text: str, limits: Limits) -> ModuleFailedError:
    """The error for ``what`` (a call's name) trapping with ``text``."""
    if "all fuel consumed" in text:
        return LimitExceededError(module, "fuel", f"{what} used more than {limits.fuel} fuel")
    if "interrupt" in text:
        return LimitExceededError(
            module, "deadline", f"{what} ran longer than {limits.timeout_ms} ms"
        )
    if "exceeds memory limits" in text:
        return LimitExceededError(
            module,
            "memory",
            f"{what} needs more than {limits.memory_bytes} bytes of memory ({_trap_summary(text)})",
        )
    return ModuleFailedError(module, f"{what} trapped: {_trap_summary(text)}")


def tool_spec(module: str, spec: tuple[str, str, str]) -> ToolSpec:
    """A ``tool-spec`` record; a schema that is not a JSON object fails the init."""
    name, description, input_schema = spec
    try:
        schema = json.loads(input_schema)
    except json.JSONDecodeError as exc:
        raise ModuleFailedError(module, f"tool {name!r}: input-schema is not JSON: {exc}") from None
    if not isinstance(schema, dict):
        raise ModuleFailedError(module, f"tool {name!r}: input-schema is not a JSON object")
    return ToolSpec(name, description, schema)


def _trap_summary(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in reversed(lines):
        if line.startswith("wasm trap:"):
            return guest_error(line.removeprefix("wasm trap:").strip())
    return guest_error(lines[-1]) if lines else "unknown trap"
