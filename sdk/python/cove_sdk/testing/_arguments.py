"""MockHost's check of a tool call's arguments against the tool's JSON Schema.

The engine refuses a call whose arguments do not fit before the guest runs
(``jsonschema``, draft 2020-12); MockHost does the same, with the same
wording, so a test sees the error an agent would. It runs on the host side
only (never inside a guest), so ``jsonschema`` is imported here, when a
tool is called.
"""

from typing import Any

from .._errors import HostError


def check_arguments(tool: str, schema: dict[str, Any], arguments: Any) -> None:
    """Raise ``HostError('invalid-input', "tool 'm.t': argument 'a': …")`` when they do not fit."""
    try:
        from jsonschema import Draft202012Validator
    except ImportError:
        raise ImportError(
            "MockHost.call_tool checks arguments with jsonschema: pip install 'jsonschema>=4.18'"
        ) from None
    error = next(iter(Draft202012Validator(schema).iter_errors(arguments)), None)
    if error is None:
        return
    where = ".".join(str(p) for p in error.absolute_path)
    what = f"argument {where!r}" if where else "arguments"
    raise HostError("invalid-input", f"tool {tool!r}: {what}: {error.message}")
