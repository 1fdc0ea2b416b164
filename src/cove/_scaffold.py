"""Templates for ``cove new``: a module that builds and passes its test as generated."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from .errors import ScaffoldError

Lang = Literal["python", "javascript", "native"]
LANGS: tuple[Lang, ...] = ("python", "javascript", "native")
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
# `cove build` replaces this with the component's real sha256.
UNPINNED = "sha256:" + "0" * 64


_COMMON_MANIFEST = """\
[capabilities]
required = ["store", "messaging"]

[config]
greeting = "hello"

[[subscription]]
kind = "message"
"""

# The manifest of a wasm module after its header comment (Python and JavaScript alike).
_WASM_MANIFEST = (
    """\
[module]
name = "{name}"
version = "0.1.0"
kind = "wasm"
description = "Replies to messages and counts them"
component = "{name}.wasm"
sha256 = "{unpinned}"  # `cove build` writes the real pin

"""
    + _COMMON_MANIFEST
)

_PYTHON = {
    "cove.toml": """\
# {name}: a cove module written in Python and compiled to a wasm component.
# It replies to every chat message and counts them in its state.
"""
    + _WASM_MANIFEST,
    "app.py": '''\
"""{name}: replies to every message and counts them."""

from dataclasses import dataclass

from cove_sdk import WitWorld, load_config, log, on_init, on_message, send, state

__all__ = ["WitWorld"]


@dataclass
class Settings:
    """The module's [config] table; checked when the module starts."""

    greeting: str = "hello"


settings = Settings()


@on_init
def setup():
    global settings
    settings = load_config(Settings)


@on_message
def reply(message, meta):
    count = state.incr("messages")
    text = f"{{settings.greeting}}, {{message.sender}}! (message #{{count}})"
    send(message.transport, message.sender, text)
    log("replied", to=message.sender, count=count)
''',
    "tests/test_app.py": '''\
"""Runs the module's handlers natively with MockHost: no wasm, no engine."""

from pathlib import Path

from cove_sdk.testing import MockHost, Sent

MODULE = Path(__file__).resolve().parent.parent


def test_replies_and_counts():
    host = MockHost(MODULE)
    host.message("hi", sender="alice")
    host.message("again", sender="alice")
    assert host.sent[-1] == Sent("console", "alice", "hello, alice! (message #2)")
    assert host.state == {{"messages": 2}}


def test_greeting_comes_from_config():
    host = MockHost(MODULE, config={{"greeting": "ahoy"}})
    host.message("hi", sender="bob")
    assert host.sent == [Sent("console", "bob", "ahoy, bob! (message #1)")]
''',
    "fixtures/hello.toml": """\
# Events for `cove run --mock fixtures/hello.toml`.
[[events]]
kind = "message"
sender = "alice"
body = "hi there"

[[events]]
kind = "message"
sender = "bob"
body = "hello?"
""",
    ".gitignore": "*.wasm\n.cove/\n__pycache__/\n.pytest_cache/\n",
    "README.md": """\
# {name}

A cove module in Python: it replies to every chat message and counts them.

```sh
cove test                              # unit tests (MockHost, no wasm)
cove build                             # compile app.py to {name}.wasm and pin its sha256
cove check                             # validate cove.toml and the component
cove run --mock fixtures/hello.toml    # run it on a local engine, print what it did
```

Edit `app.py` (handlers), `cove.toml` (capabilities, config, subscriptions)
and `fixtures/` (the events `cove run --mock` feeds it).
""",
}

_JAVASCRIPT = {
    "cove.toml": """\
# {name}: a cove module written in JavaScript and compiled to a wasm
# component with componentize-js. It replies to every chat message and
# counts them in its state.
"""
    + _WASM_MANIFEST,
    "app.js": """\
// {name}: replies to every message and counts them.
import {{ get, setMany }} from "cove:host/store@0.1.0";
import {{ send }} from "cove:host/messaging@0.1.0";
import {{ get as configGet }} from "cove:host/config@0.1.0";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function readJson(key, fallback) {{
  try {{
    return JSON.parse(decoder.decode(get(key)));
  }} catch (error) {{
    // A host error arrives as a thrown error carrying the WIT host-error.
    if (error.payload && error.payload.kind === "not-found") return fallback;
    throw error;
  }}
}}

export function init() {{}}

export function handle(meta, event) {{
  if (event.tag !== "message") return;
  const message = event.val;
  const count = readJson("messages", 0) + 1;
  setMany([["messages", encoder.encode(JSON.stringify(count))]]);
  const greeting = configGet("greeting")?.val ?? "hello";
  send(message.transport, message.sender, `${{greeting}}, ${{message.sender}}! (message #${{count}})`, []);
}}
""",
    "tests/test_app.py": '''\
"""Builds the component and runs fixtures/hello.toml on a local engine (cove run --mock)."""

import subprocess
import sys
from pathlib import Path

MODULE = Path(__file__).resolve().parent.parent


def test_replies_and_counts():
    command = [sys.executable, "-m", "cove", "run", "--mock", "fixtures/hello.toml"]
    proc = subprocess.run(command, cwd=MODULE, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "send   console → bob: hello, bob! (message #2)" in proc.stdout
''',
    "fixtures/hello.toml": _PYTHON["fixtures/hello.toml"],
    ".gitignore": "*.wasm\n.cove/\n__pycache__/\n.pytest_cache/\nnode_modules/\n",
    "README.md": """\
# {name}

A cove module in JavaScript: it replies to every chat message and counts them.
It needs componentize-js: `npm install @bytecodealliance/componentize-js @bytecodealliance/jco`.

```sh
cove build                             # compile app.js to {name}.wasm and pin its sha256
cove check                             # validate cove.toml and the component
cove run --mock fixtures/hello.toml    # run it on a local engine, print what it did
cove test                              # the test runs the fixture and checks the replies
```
""",
}

_NATIVE = {
    "cove.toml": """\
# {name}: a native (trusted, in-process) cove plugin.
# It replies to every chat message and counts them in its state.
[module]
name = "{name}"
version = "0.1.0"
kind = "python"
description = "Replies to messages and counts them"
entry = "{module}:{cls}"

"""
    + _COMMON_MANIFEST,
    "{module}.py": '''\
"""{name}: replies to every message and counts them."""

from __future__ import annotations

from collections.abc import Iterable

from cove import Event, Message, Plugin, PluginContext
from cove.plugin import Action, Log, SendMessage, SetState


class {cls}(Plugin):
    def handle_event(self, event: Event, ctx: PluginContext) -> Iterable[Action]:
        message = event.payload
        assert isinstance(message, Message)
        count = ctx.state.get("messages", 0) + 1
        greeting = ctx.config.get("greeting", "hello")
        return [
            SetState("messages", count),
            SendMessage(
                message.transport,
                message.sender,
                f"{{greeting}}, {{message.sender}}! (message #{{count}})",
            ),
            Log("replied", fields={{"to": message.sender}}),
        ]
''',
    "tests/test_{module}.py": '''\
"""Calls the plugin directly: a native plugin returns actions the engine applies."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from cove import Event, Message
from cove.plugin import SendMessage, SetState

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from {module} import {cls}  # noqa: E402


class FakeContext:
    """The parts of PluginContext the plugin reads."""

    def __init__(self, state: dict[str, Any], config: dict[str, Any]) -> None:
        self.module = "{name}"
        self.config = config
        self.state = state


def test_replies_and_counts() -> None:
    event = Event(Message("console", "alice", "{name}", "hi"))
    actions = list({cls}().handle_event(event, FakeContext({{"messages": 1}}, {{}})))
    assert SetState("messages", 2) in actions
    assert SendMessage("console", "alice", "hello, alice! (message #2)") in actions
''',
    ".gitignore": ".cove/\n__pycache__/\n.pytest_cache/\n",
    "README.md": """\
# {name}

A native cove plugin: trusted Python that runs inside the engine process.
It replies to every chat message and counts them.

```sh
cove test     # unit tests
cove check    # validate cove.toml and load the plugin
```
""",
}


def scaffold(name: str, target: Path, lang: Lang = "python") -> list[Path]:
    """Write a new module into ``target`` (absent or empty); returns the files written."""
    if not _NAME.match(name):
        raise ScaffoldError(
            f"{name!r} is not a valid module name: use lower-case letters, digits, '-' "
            "and '_', starting with a letter (at most 63 characters)"
        )
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ScaffoldError(f"{target} already exists and is not empty; pick another name or --dir")
    module = name.replace("-", "_")
    cls = "".join(part.capitalize() for part in re.split(r"[-_]", name))
    values = {"name": name, "module": module, "cls": cls, "unpinned": UNPINNED}
    templates = {"python": _PYTHON, "javascript": _JAVASCRIPT, "native": _NATIVE}[lang]
    written = []
    for path_template, text in templates.items():
        path = target / path_template.format(**values)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.format(**values))
        written.append(path)
    return written
