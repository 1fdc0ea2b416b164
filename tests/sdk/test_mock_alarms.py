"""MockHost runs tests/assets/alarm_probe's alarms as the engine does: set with the event's
commit, none from a failed event, limit-exceeded past [resources] alarms, fired when due."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from cove_sdk.testing import MockHost

from tests.helpers.modules import ASSETS

MANIFEST = """\
[module]
name = "al"
version = "0.1.0"
kind = "wasm"
component = "al.wasm"

[capabilities]
required = ["store", "alarms"]

[resources]
alarms = 2

[[subscription]]
kind = "custom"
name = "probe.*"

[[subscription]]
kind = "custom"
name = "cove.alarm"
"""


def _host(tmp_path: Path) -> MockHost:
    root = tmp_path / "al"
    root.mkdir()
    shutil.copy(ASSETS / "alarm_probe" / "app.py", root / "app.py")
    (root / "cove.toml").write_text(MANIFEST)
    return MockHost(root)


def test_an_alarm_fires_once_when_due(tmp_path: Path) -> None:
    host = _host(tmp_path)
    host.custom("probe.op", {"op": "set", "delay_ms": 1000, "tag": "t"})
    assert len(host.alarms.pending) == 1
    assert host.fire_alarms() == 0  # not due yet
    host.advance(1000)
    assert host.fire_alarms() == 1
    assert host.state["fired"] == 1
    assert host.state["last"] == {"n": 0, "tag": "t"}
    assert host.fire_alarms() == 0
    assert host.alarms.pending == []


def test_a_failed_event_sets_no_alarm(tmp_path: Path) -> None:
    host = _host(tmp_path)
    with pytest.raises(RuntimeError, match="after setting an alarm"):
        host.custom("probe.op", {"op": "set_then_fail", "delay_ms": 10})
    assert host.alarms.pending == []


def test_past_the_limit_is_limit_exceeded(tmp_path: Path) -> None:
    host = _host(tmp_path)
    host.custom("probe.op", {"op": "set", "delay_ms": 10, "n": 3})
    assert host.state["scheduled"] == 2
    assert host.state["error"] == "limit-exceeded"
