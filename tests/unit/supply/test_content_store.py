"""The content store: blobs by sha256, atomic writes, verified reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from cove._supply._store import ContentStore, sha256_pin


def test_a_stored_blob_reads_back_by_its_pin(tmp_path: Path) -> None:
    store = ContentStore(tmp_path)
    data = b"\0asm component bytes"
    pin = sha256_pin(data)
    path = store.put(pin, data)
    assert path == tmp_path / "sha256" / pin.removeprefix("sha256:")
    assert store.get(pin) == data
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left


def test_an_absent_blob_is_none(tmp_path: Path) -> None:
    assert ContentStore(tmp_path).get(sha256_pin(b"never stored")) is None


def test_a_damaged_blob_is_dropped_not_returned(tmp_path: Path) -> None:
    store = ContentStore(tmp_path)
    data = b"the real bytes"
    pin = sha256_pin(data)
    store.put(pin, data).write_bytes(b"flipped on disk")
    assert store.get(pin) is None
    assert not store.path(pin).exists()


def test_bytes_that_are_not_the_pinned_ones_are_refused(tmp_path: Path) -> None:
    store = ContentStore(tmp_path)
    with pytest.raises(ValueError, match=sha256_pin(b"other")):
        store.put(sha256_pin(b"pinned"), b"other")
    assert not (tmp_path / "sha256").exists()


def test_a_pin_that_is_not_sha256_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a sha256 pin"):
        ContentStore(tmp_path).path("md5:abc")
