"""Generate docs/reference/sdk.md, the Python guest SDK's reference, from its docstrings.

Signatures come from ``inspect`` and the text from each docstring, so the
page says what the code says; ``HostError``'s docstring must name every
``error-kind`` of the WIT package (the script refuses otherwise).
``tests/unit/test_docs_sdk_reference.py`` fails when the committed page differs.

Run: .venv/bin/python scripts/gen_sdk_reference.py [--check]
"""

from __future__ import annotations

import argparse
import inspect
import re
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import cove_sdk
from cove_sdk import alarms, chain, identity, messages, testing, ui

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "reference" / "sdk.md"
HOST_WIT = ROOT / "src" / "cove" / "wit" / "host.wit"

INTRO = """\
# Reference: the Python guest SDK (`cove_sdk`)

Generated from the SDK's docstrings by `scripts/gen_sdk_reference.py`; do
not edit by hand. How-tos: [quickstart](../quickstart.md),
[testing](../howto/testing.md); the host interfaces behind these calls:
[wit.md](wit.md).
"""

# (title, module, names): the order of the page.
SECTIONS: list[tuple[str, ModuleType, list[str]]] = [
    (
        "Handlers",
        cove_sdk,
        ["on_event", "on_block", "on_log", "on_tick", "on_message", "on_webhook", "on_init"],
    ),
    ("HTTP", cove_sdk, ["fetch", "Response"]),
    ("State, messages, events, logs, config", cove_sdk, ["state", "send", "emit", "log", "config"]),
    ("Typed config", cove_sdk, ["load_config", "ConfigError"]),
    ("Errors", cove_sdk, ["HostError"]),
    ("Tools, hooks and migration", cove_sdk, ["tool", "hook", "Veto", "on_migrate"]),
    # chain re-exports HostError (documented above) and the Block alias
    ("`cove_sdk.chain`", chain, [n for n in chain.__all__ if n not in ("Block", "HostError")]),
    (
        "`cove_sdk.identity`",
        identity,
        ["address", "sign_message", "sign_typed_data", "send_transaction"],
    ),
    (
        "`cove_sdk.alarms` (see [agents.md](../agents.md#hibernation-and-alarms))",
        alarms,
        ["schedule", "fired", "EVENT"],
    ),
    (
        "`cove_sdk.messages` (send confirmations, see [sources.md](../sources.md))",
        messages,
        ["sent", "Sent"],
    ),
    (
        "`cove_sdk.ui` (A2UI documents, see [a2ui.md](../a2ui.md))",
        ui,
        [
            "document",
            "text",
            "markdown",
            "kv",
            "items",
            "table",
            "chart",
            "field",
            "button",
            "form",
            "submission",
            "Submission",
        ],
    ),
    (
        "`cove_sdk.testing`",
        testing,
        [
            "MockHost",
            "MockHostError",
            "Sent",
            "Emitted",
            "LogRecord",
            "Request",
            "MockChain",
            "RpcRequest",
            "SentTransaction",
        ],
    ),
]


def _clean(text: str) -> str:
    """Annotations as an author writes them: no module paths."""
    text = re.sub(r"\bcove_sdk(?:\.\w+)*\.(\w+)", r"\1", text)
    text = re.sub(r"\b(?:typing|collections\.abc|builtins|pathlib)\.", "", text)
    return text.replace("NoneType", "None").replace("~", "")


def _doc(obj: Any, name: str) -> str:
    if not obj.__doc__:
        raise SystemExit(f"{name} has no docstring; the SDK reference is made from them")
    return inspect.cleandoc(obj.__doc__)


def _signature(obj: Callable[..., Any], drop_self: bool = False) -> str:
    signature = inspect.signature(obj, eval_str=True)
    if drop_self:
        params = list(signature.parameters.values())[1:]
        signature = signature.replace(parameters=params)
    return _clean(str(signature))


def _handler_alias(name: str, obj: Any) -> str | None:
    """``on_block`` and friends are ``on_event("block")``: say so."""
    if getattr(obj, "__qualname__", "") != "on_event.<locals>.register":
        return None
    kind = inspect.getclosurevars(obj).nonlocals["kind"]
    return f'### `@{name}`\n\n`@on_event("{kind}")`: `fn(event, meta)` for each `{kind}` event.\n'


def _function(name: str, obj: Any) -> str:
    return f"### `{name}{_signature(obj)}`\n\n{_doc(obj, name)}\n"


def _members(cls: type) -> list[str]:
    out = []
    for member, value in vars(cls).items():
        where = f"{cls.__name__}.{member}"
        if member.startswith("_"):
            continue
        if isinstance(value, property):
            out.append(f"#### `.{member}` (property)\n\n{_doc(value, where)}\n")
        elif inspect.isfunction(value):
            signature = _signature(value, drop_self=True)
            out.append(f"#### `.{member}{signature}`\n\n{_doc(value, where)}\n")
    return out


def _class(name: str, cls: type) -> str:
    init = vars(cls).get("__init__")
    arguments = _signature(init, drop_self=True).removesuffix(" -> None") if init else ""
    heading = f"### class `{name}{arguments}`"
    if issubclass(cls, BaseException):
        heading = f"### exception `{name}`"
    return "\n".join([heading, "", _doc(cls, name), "", *_members(cls)])


def _instance(name: str, obj: Any) -> str:
    return "\n".join([f"### `{name}`", "", _doc(type(obj), name), "", *_members(type(obj))])


def _entry(name: str, obj: Any) -> str:
    alias = _handler_alias(name, obj)
    if alias is not None:
        return alias
    if inspect.isclass(obj):
        return _class(name, obj)
    if inspect.isfunction(obj):
        return _function(name, obj)
    return _instance(name, obj)


def _error_kinds() -> list[str]:
    found = re.search(r"enum error-kind \{(.*?)\}", HOST_WIT.read_text(), re.S)
    assert found is not None, f"{HOST_WIT}: no enum error-kind"
    lines = (line.strip().rstrip(",") for line in found.group(1).splitlines())
    return [line for line in lines if line and not line.startswith("//")]


def render() -> str:
    doc = _doc(cove_sdk.HostError, "HostError")
    missing = [kind for kind in _error_kinds() if f"``{kind}``" not in doc]
    if missing:
        raise SystemExit(f"HostError's docstring does not describe the error kinds {missing}")
    parts = [INTRO]
    for title, module, names in SECTIONS:
        parts.append(f"## {title}\n")
        parts.extend(_entry(name, getattr(module, name)) for name in names)
    text = "\n".join(parts)
    return re.sub(r"\n{3,}", "\n\n", text).rstrip() + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the page is out of date")
    args = parser.parse_args()
    text = render()
    if args.check:
        if not PAGE.exists() or PAGE.read_text() != text:
            print(f"{PAGE} is out of date; run scripts/gen_sdk_reference.py", file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(text)
    print(f"wrote {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
