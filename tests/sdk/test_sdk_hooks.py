"""cove_sdk @hook and MockHost.hook: a guest's hooks in plain Python, read-only as in the engine."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import cove_sdk._hooks
import pytest
from cove_sdk import HostError, Veto, hook
from cove_sdk.testing import MockHost, MockHostError

ASSETS = Path(__file__).resolve().parents[1] / "assets"

MANIFEST = """
[module]
name = "hook_probe"
kind = "wasm"
component = "hook_probe.wasm"

[capabilities]
required = ["hooks", "store"]

[[hook]]
point = "before-message"

[[subscription]]
kind = "custom"
name = "tag"
"""

MESSAGE = {"module": "m", "transport": "chat", "recipient": "ops", "body": "hi", "metadata": []}


def module(tmp_path: Path, app: str | None = None) -> Path:
    (tmp_path / "cove.toml").write_text(MANIFEST)
    if app is None:
        shutil.copyfile(ASSETS / "hook_probe" / "app.py", tmp_path / "app.py")
    else:
        (tmp_path / "app.py").write_text(textwrap.dedent(app))
    return tmp_path


def test_a_hook_replaces_the_payload_reading_the_module_state(tmp_path: Path) -> None:
    host = MockHost(module(tmp_path))
    assert host.hook("before-message", MESSAGE)["body"] == "hi [wasm]"
    host.custom("tag", "tagged")
    assert host.hook("before-message", MESSAGE)["body"] == "hi [tagged]"


def test_a_hook_vetoes(tmp_path: Path) -> None:
    host = MockHost(module(tmp_path))
    assert host.hook("before-message", {**MESSAGE, "body": "veto-me"}) == Veto(
        "the wasm hook says no"
    )


def test_a_hook_may_not_write_state(tmp_path: Path) -> None:
    app = """
        from cove_sdk import WitWorld, hook, state

        @hook("before-message")
        def count(payload):
            state.incr("seen")
    """
    host = MockHost(module(tmp_path, app))
    with pytest.raises(HostError, match="denied"):
        host.hook("before-message", MESSAGE)
    assert host.state == {}


def test_an_unregistered_point_is_an_error(tmp_path: Path) -> None:
    host = MockHost(module(tmp_path))
    with pytest.raises(MockHostError, match=r"no @hook\('observer'\)"):
        host.hook("observer", {})


def test_a_point_is_registered_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cove_sdk._hooks, "HOOKS", {})  # no registration left behind

    @hook("engine-start")
    def first(payload: object) -> None:
        return None

    with pytest.raises(ValueError, match="registered twice"):
        hook("engine-start")(first)
