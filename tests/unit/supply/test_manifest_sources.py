"""``[module] sources``: a wasm component given by its pin and where it may be fetched."""

from __future__ import annotations

from pathlib import Path

import pytest

from cove._manifest import load_manifest
from cove._supply._component import read_component
from cove._supply._fetch import FetchLimits
from cove._supply._resolve import Resolver
from cove._supply._store import ContentStore, sha256_pin
from cove.errors import ComponentFetchError, HashMismatchError, ManifestError

COMPONENT = b"\0asm pinned component"
PIN = sha256_pin(COMPONENT)


def _module(tmp_path: Path, *lines: str) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    head = ["[module]", 'name = "fetched"', 'kind = "wasm"']
    (tmp_path / "cove.toml").write_text("\n".join(head + list(lines)) + "\n")
    return tmp_path


def _resolver(tmp_path: Path) -> Resolver:
    return Resolver(ContentStore(tmp_path / "store"), FetchLimits(1 << 20, 5.0))


def test_sources_alone_give_the_component_paths_relative_to_the_manifest(tmp_path: Path) -> None:
    module = _module(
        tmp_path / "m", f'sha256 = "{PIN}"', 'sources = ["oci://r.example/c:1", "dist/c.wasm"]'
    )
    manifest = load_manifest(module)
    assert manifest.component_sources == ["oci://r.example/c:1", str(module / "dist" / "c.wasm")]


def test_component_is_the_first_source(tmp_path: Path) -> None:
    manifest = load_manifest(
        _module(tmp_path, 'component = "c.wasm"', f'sha256 = "{PIN}"', 'sources = ["https://x/c"]')
    )
    assert manifest.component_sources == [str(tmp_path / "c.wasm"), "https://x/c"]


def test_sources_without_a_pin_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r"(?s)cove.toml.*`sources` need `sha256`"):
        load_manifest(_module(tmp_path, 'sources = ["https://x/c.wasm"]'))


def test_an_unknown_scheme_is_refused_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r"'ftp://x/c.wasm': scheme 'ftp' is none of"):
        load_manifest(_module(tmp_path, f'sha256 = "{PIN}"', 'sources = ["ftp://x/c.wasm"]'))


def test_a_wasm_module_needs_a_component_or_sources(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r"needs `component`.* or `sources`"):
        load_manifest(_module(tmp_path, f'sha256 = "{PIN}"'))


def test_a_component_read_through_sources_lands_in_the_store(tmp_path: Path) -> None:
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "c.wasm").write_bytes(COMPONENT)
    manifest = load_manifest(_module(tmp_path, f'sha256 = "{PIN}"', 'sources = ["dist/c.wasm"]'))
    resolver = _resolver(tmp_path)
    assert read_component(manifest, resolver) == COMPONENT
    assert resolver.store.get(PIN) == COMPONENT


def test_failures_are_the_modules_load_errors(tmp_path: Path) -> None:
    (tmp_path / "wrong.wasm").write_bytes(b"other bytes")
    wrong = load_manifest(_module(tmp_path, f'sha256 = "{PIN}"', 'sources = ["wrong.wasm"]'))
    with pytest.raises(HashMismatchError, match=r"module 'fetched': .*wrong.wasm gave sha256:"):
        read_component(wrong, _resolver(tmp_path))
    gone = load_manifest(_module(tmp_path, f'sha256 = "{PIN}"', 'sources = ["gone.wasm"]'))
    with pytest.raises(ComponentFetchError, match=r"gone.wasm: cannot read it"):
        read_component(gone, _resolver(tmp_path))
