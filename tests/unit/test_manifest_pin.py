"""cove._manifest.read_pinned_component: a component runs only if it is the pinned one."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from cove._manifest import load_manifest, read_pinned_component, sha256_pin
from cove.errors import HashMismatchError

COMPONENT = b"\0asm not really a component"


def module_dir(tmp_path: Path, pin: str | None) -> Path:
    lines = ["[module]", 'name = "pinned"', 'kind = "wasm"', 'component = "build/pinned.wasm"']
    if pin is not None:
        lines.append(f'sha256 = "{pin}"')
    (tmp_path / "cove.toml").write_text("\n".join(lines) + "\n")
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "pinned.wasm").write_bytes(COMPONENT)
    return tmp_path


def test_sha256_pin_is_prefixed_hex_digest() -> None:
    """The pin format is ``sha256:<64 hex>``."""
    assert "sha256:" + hashlib.sha256(b"abc").hexdigest() == sha256_pin(b"abc")


def test_matching_pin_returns_the_bytes(tmp_path: Path) -> None:
    """The component's bytes come back when the hash matches the pin."""
    manifest = load_manifest(module_dir(tmp_path, sha256_pin(COMPONENT)))
    assert COMPONENT == read_pinned_component(manifest)


def test_mismatch_names_the_file_and_both_hashes(tmp_path: Path) -> None:
    """A different component is refused; the message says what was found and what is pinned."""
    wrong = sha256_pin(b"something else")
    manifest = load_manifest(module_dir(tmp_path, wrong))
    with pytest.raises(HashMismatchError) as info:
        read_pinned_component(manifest)
    message = str(info.value)
    assert "pinned" == info.value.module
    assert "pinned.wasm" in message
    assert str(tmp_path.resolve() / "cove.toml") in message
    assert sha256_pin(COMPONENT) in message
    assert wrong in message


def test_missing_pin_suggests_the_right_value(tmp_path: Path) -> None:
    """Without ``module.sha256`` the error says exactly which line to add."""
    manifest = load_manifest(module_dir(tmp_path, None))
    with pytest.raises(HashMismatchError) as info:
        read_pinned_component(manifest)
    message = str(info.value)
    assert "module.sha256 is missing" in message
    assert f"sha256 = '{sha256_pin(COMPONENT)}'" in message
    assert str(tmp_path.resolve() / "cove.toml") in message


def test_missing_component_file_names_the_path(tmp_path: Path) -> None:
    """A pin without a file behind it is refused and names the path it tried."""
    manifest = load_manifest(module_dir(tmp_path, sha256_pin(COMPONENT)))
    manifest.component_path.unlink()
    with pytest.raises(HashMismatchError) as info:
        read_pinned_component(manifest)
    assert "cannot read component" in str(info.value)
    assert str(manifest.component_path) in str(info.value)
