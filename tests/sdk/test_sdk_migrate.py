"""``@on_migrate`` under MockHost: a migration run against the mock state, all or nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from cove_sdk.testing import MockHost

from tests.helpers.modules import ASSETS, write_manifest


def _host(tmp_path: Path, migration: str, state: dict[str, object]) -> MockHost:
    module = tmp_path / "migrating"
    write_manifest(
        module,
        "migrating",
        optional=["store", "config"],
        config={"migration": migration, "tag": "v2"},
        migrate=True,
    )
    shutil.copy(ASSETS / "migrating" / "app.py", module / "app.py")
    return MockHost(module, state=state)


def test_a_migration_renames_keys_and_changes_the_value_format(tmp_path: Path) -> None:
    host = _host(tmp_path, "rename", {"item:a": 1, "item:b": 2, "other": True})
    host.migrate("0.1.0")
    assert {
        "entry:a": {"n": 1, "from": "0.1.0"},
        "entry:b": {"n": 2, "from": "0.1.0"},
        "other": True,
    } == host.state


def test_a_failing_migration_keeps_none_of_its_writes(tmp_path: Path) -> None:
    host = _host(tmp_path, "fail", {"item:a": 1})
    with pytest.raises(RuntimeError, match="fails on purpose"):
        host.migrate("0.1.0")
    assert {"item:a": 1} == host.state
