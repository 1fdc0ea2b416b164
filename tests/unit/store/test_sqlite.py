"""What only the SQLite backend has: a file path (the shared contract is test_store.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cove._store._sqlite import SqliteStore
from cove.errors import StoreError


def test_unopenable_path_is_a_store_error(tmp_path: Path) -> None:
    """A path that cannot be a database names the path."""
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(StoreError, match="cannot open the store") as info:
        SqliteStore(tmp_path / "dir.db")
    assert str(tmp_path / "dir.db") in str(info.value)
