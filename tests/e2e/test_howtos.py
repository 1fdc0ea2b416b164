"""Every how-to is a working module: its files are written out, its manifest and fixture load, its tests pass.

A block whose info string names a path (```python app.py) is a file of the
module; nothing is built, so the tests run on MockHost.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from cove._manifest import load_manifest
from cove._manifest_subscriptions import TickSubscription
from cove._mock._fixture import fixture_events, load_fixture
from tests.helpers.modules import REPO

HOWTOS = sorted((REPO / "docs" / "howto").glob("*.md"))
_FILE_BLOCK = re.compile(r"^```\w+ (?P<path>[\w./-]+)\n(?P<body>.*?)^```$", re.S | re.M)
KINDS = ("blocks", "logs", "ticks", "messages", "webhooks", "custom-events")
MODULES = (*KINDS, "chain-calls")  # how-tos that are a module


def module_files(doc: Path) -> dict[str, str]:
    return {m["path"]: m["body"] for m in _FILE_BLOCK.finditer(doc.read_text())}


def test_there_is_a_howto_per_event_kind() -> None:
    assert set(KINDS) <= {doc.stem for doc in HOWTOS}


@pytest.mark.parametrize("name", MODULES)
def test_the_howto_module_works(tmp_path: Path, name: str) -> None:
    files = module_files(REPO / "docs" / "howto" / f"{name}.md")
    assert {"cove.toml", "app.py", "tests/test_app.py"} <= set(files)
    for path, body in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(body)
    manifest = load_manifest(tmp_path)
    fixtures = [tmp_path / p for p in files if p.startswith("fixtures/")]
    assert fixtures, "each how-to shows a fixture for cove run --mock"
    for fixture in fixtures:
        ticks = [s.label for s in manifest.subscription if isinstance(s, TickSubscription)]
        assert fixture_events(load_fixture(fixture), fixture, manifest.name, ticks)
    command = [sys.executable, "-m", "cove", "test", str(tmp_path), "-q"]
    proc = subprocess.run(command, capture_output=True, text=True)
    assert 0 == proc.returncode, proc.stdout + proc.stderr
