"""Many modules of one component file: the file is read and hashed once, and a changed
file is read and checked again (its pin still refuses other bytes)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cove._manifest import load_manifest
from cove._supply._component import read_component
from cove._supply._fetch import FetchLimits
from cove._supply._resolve import Resolver
from cove._supply._store import ContentStore, sha256_pin
from cove.errors import HashMismatchError

COMPONENT = b"\0asm one component shared by many modules"


def _module(root: Path, name: str, pin: str) -> Path:
    directory = root / name
    directory.mkdir(parents=True)
    (directory / "cove.toml").write_text(
        f'[module]\nname = "{name}"\nkind = "wasm"\ncomponent = "../shared.wasm"\n'
        f'sha256 = "{pin}"\n'
    )
    return directory


def _resolver(tmp_path: Path) -> Resolver:
    return Resolver(ContentStore(tmp_path / "store"), FetchLimits(1 << 20, 5.0))


def test_modules_of_one_file_get_the_same_bytes_read_once(tmp_path: Path) -> None:
    (tmp_path / "shared.wasm").write_bytes(COMPONENT)
    a, b = (load_manifest(_module(tmp_path, n, sha256_pin(COMPONENT))) for n in ("a", "b"))
    first = read_component(a, _resolver(tmp_path))
    assert first == COMPONENT
    assert read_component(b, _resolver(tmp_path)) is first


def test_a_rewritten_file_is_checked_again(tmp_path: Path) -> None:
    shared = tmp_path / "shared.wasm"
    shared.write_bytes(COMPONENT)
    a = load_manifest(_module(tmp_path, "a", sha256_pin(COMPONENT)))
    read_component(a, _resolver(tmp_path))
    shared.write_bytes(COMPONENT[::-1])  # same size, other bytes
    stat = shared.stat()
    os.utime(shared, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    with pytest.raises(HashMismatchError, match=r"shared\.wasm has sha256:"):
        read_component(a, _resolver(tmp_path))


def test_another_pin_on_the_same_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "shared.wasm").write_bytes(COMPONENT)
    good = load_manifest(_module(tmp_path, "good", sha256_pin(COMPONENT)))
    stale = load_manifest(_module(tmp_path, "stale", sha256_pin(b"an older build")))
    read_component(good, _resolver(tmp_path))
    with pytest.raises(HashMismatchError, match="pins sha256:"):
        read_component(stale, _resolver(tmp_path))
