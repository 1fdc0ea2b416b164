"""A native module for the file-view tests: writes the state keys an event names, has a tool
and an identity, so every part of its tree has something in it."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from cove import Event
from cove._events import Custom
from tests.helpers.control import TOKEN_ENV, control_section
from tests.helpers.keys import PASSPHRASE, write_keystore
from tests.helpers.modules import write_engine_config, write_manifest

PASS_ENV = "COVE_TEST_FILES_PASS"
ODD_KEYS = ["a/b", "..", ".", "", "100%", "sp ace?#x", "ünï\ncode", "/lead", "x//y"]
"""Keys that are no plain path segment: slashes, dots, percent, spaces, newlines, unicode."""

PLUGIN = """
import base64
import json

from cove import Plugin
from cove.plugin import SetState, ToolResult, tool


class Files(Plugin):
    @tool("echo", "Answers its text.", {
        "type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"],
    })
    def echo(self, ctx, text):
        return text

    @tool("put", "Sets one state key to a JSON value.", {
        "type": "object", "properties": {"key": {"type": "string"}, "value": {}},
        "required": ["key", "value"],
    })
    def put(self, ctx, key, value):
        return ToolResult(key, (SetState(key, value),))

    def handle_event(self, event, ctx):
        writes = json.loads(event.payload.payload)
        actions = [SetState(key, value) for key, value in writes.get("json", {}).items()]
        for key, value in writes.get("bytes", {}).items():
            actions.append(SetState(key, base64.b64decode(value)))
        return actions
"""


def files_config(tmp_path: Path, *, token: bool = True, read_token: bool = False) -> Path:
    """An engine with the ``files`` module and a control plane (its token in ``TOKEN_ENV``)."""
    module = write_manifest(
        tmp_path / "files", "files", kind="python", entry="files:Files",
        required=["store", "identity"], tools=True, config={"greeting": "hi"},
        subscriptions=[{"kind": "custom", "name": "files.*"}],
    )  # fmt: skip
    (module / "files.py").write_text(PLUGIN)
    keystore = write_keystore(tmp_path / "keys" / "files.json")
    extra = control_section(token=token, metrics=False)
    if read_token:
        extra += 'read_token_env = "COVE_TEST_READ_TOKEN"\n'
    extra += f'\n[identity.modules.files]\nkeystore = "{keystore}"\npassphrase_env = "{PASS_ENV}"\n'
    return write_engine_config(tmp_path / "engine.toml", [module], extra)


def write_event(
    json_values: dict[str, object], byte_values: dict[str, bytes] | None = None
) -> Event:
    """A ``files.write`` event: the module sets each key (JSON values, then raw bytes)."""
    raw = {k: base64.b64encode(v).decode() for k, v in (byte_values or {}).items()}
    return Event(Custom("files.write", "", json.dumps({"json": json_values, "bytes": raw})))


__all__ = ["ODD_KEYS", "PASSPHRASE", "PASS_ENV", "TOKEN_ENV", "files_config", "write_event"]
