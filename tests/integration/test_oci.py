"""OCI sources and ``cove module push/pull`` against a real registry (Debian's
docker-registry, started on loopback by the test)."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cove._supply._fetch import FetchLimits
from cove._supply._resolve import Resolver
from cove._supply._store import ContentStore, sha256_pin
from cove.errors import FetchError
from tests.helpers.engine import (
    PROBE_CAPABILITIES,
    probe_event,
    running_engine,
    state_json,
    wait_until,
)
from tests.helpers.modules import write_engine_config, write_manifest
from tests.helpers.oci_registry import PASSWORD, USER, local_registry
from tests.helpers.wat import wat_component
from tests.integration.test_supply import fetched_probe, store_section, variant


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[str]:
    with local_registry(tmp_path / "registry") as address:
        yield address


def cove_cli(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``cove`` in a subprocess whose per-user cache (and so content store) is the test's."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("COVE_")}
    env = base | {"COVE_CACHE_DIR": str(tmp_path / "user-cache"), "COLUMNS": "300"} | (env or {})
    return subprocess.run(
        [sys.executable, "-m", "cove", *args], env=env, capture_output=True, text=True, timeout=120
    )


def _resolver(tmp_path: Path) -> Resolver:
    return Resolver(ContentStore(tmp_path / "store"), FetchLimits(1 << 30, 10.0))


def _pushed(tmp_path: Path, registry: str, name: str, wasm: Path, tag: str) -> str:
    module = write_manifest(tmp_path / f"{name}-{tag}", name, component=wasm)
    reference = f"oci://{registry}/cove/{name}:{tag}"
    pushed = cove_cli(tmp_path, "module", "push", str(module), reference)
    assert 0 == pushed.returncode, pushed.stderr
    return reference


def test_push_then_pull_through_the_cli_gives_the_module_back(
    tmp_path: Path, registry: str
) -> None:
    wasm = wat_component("chain_only")
    module = write_manifest(tmp_path / "chain", "chain", component=wasm)
    pin = sha256_pin(wasm.read_bytes())
    pushed = cove_cli(tmp_path, "module", "push", str(module), f"oci://{registry}/cove/chain:1")
    pulled = cove_cli(
        tmp_path, "module", "pull", f"oci://{registry}/cove/chain:1", "--into", str(tmp_path / "p")
    )
    assert 0 == pushed.returncode, pushed.stderr
    assert f"component {pin}" in pushed.stdout
    assert f"oci://{registry}/cove/chain@sha256:" in pushed.stdout
    assert 0 == pulled.returncode, pulled.stderr
    assert (tmp_path / "p" / "cove.toml").read_text() == (module / "cove.toml").read_text()
    assert (tmp_path / "p" / wasm.name).read_bytes() == wasm.read_bytes()
    stored = tmp_path / "user-cache" / "store" / "sha256" / pin.removeprefix("sha256:")
    assert stored.read_bytes() == wasm.read_bytes()


def test_push_refuses_a_component_its_manifest_does_not_pin(tmp_path: Path, registry: str) -> None:
    module = write_manifest(tmp_path / "chain", "chain", component=wat_component("chain_only"))
    (module / "chain_only.wasm").write_bytes(b"\0asm rebuilt without a new pin")
    pushed = cove_cli(tmp_path, "module", "push", str(module), f"oci://{registry}/cove/chain:1")
    assert 1 == pushed.returncode
    assert "module.sha256" in pushed.stderr and "pins" in pushed.stderr


def test_a_pull_of_a_missing_tag_names_it(tmp_path: Path, registry: str) -> None:
    pulled = cove_cli(tmp_path, "module", "pull", f"oci://{registry}/cove/none:9")
    assert 1 == pulled.returncode
    assert f"pull of oci://{registry}/cove/none:9 failed: no such manifest (9)" in " ".join(
        pulled.stderr.split()
    )


def test_an_oci_source_gives_the_layer_whose_digest_is_the_pin_by_tag_and_by_digest(
    tmp_path: Path, registry: str
) -> None:
    wasm = wat_component("chain_only")
    pin = sha256_pin(wasm.read_bytes())
    module = write_manifest(tmp_path / "chain", "chain", component=wasm)
    pushed = cove_cli(tmp_path, "module", "push", str(module), f"oci://{registry}/cove/chain:1")
    digest = pushed.stdout.split("@")[-1].strip(" )\n")
    assert (
        _resolver(tmp_path / "a").read(pin, [f"oci://{registry}/cove/chain:1"]) == wasm.read_bytes()
    )
    by_digest = f"oci://{registry}/cove/chain@{digest}"
    assert _resolver(tmp_path / "b").read(pin, [by_digest]) == wasm.read_bytes()


def test_a_wrong_tag_or_digest_is_named_and_the_next_source_is_tried(
    tmp_path: Path, registry: str
) -> None:
    wasm, other = wat_component("chain_only"), wat_component("foreign_import")
    pin, other_pin = sha256_pin(wasm.read_bytes()), sha256_pin(other.read_bytes())
    good = _pushed(tmp_path, registry, "chain", wasm, "1")
    moved = _pushed(tmp_path, registry, "chain", other, "2")  # a tag now on another build
    absent = f"oci://{registry}/cove/chain:9"
    bad_digest = f"oci://{registry}/cove/chain@sha256:{'0' * 64}"
    with pytest.raises(FetchError) as caught:
        _resolver(tmp_path / "a").read(pin, [moved, absent, bad_digest])
    message = str(caught.value)
    assert caught.value.mismatch
    assert f"{moved}: has no layer {pin} (its layers: " in message and other_pin in message
    assert f"{absent}: no such manifest (9)" in message
    assert f"{bad_digest}: no such manifest (sha256:{'0' * 64})" in message
    assert _resolver(tmp_path / "b").read(pin, [absent, good]) == wasm.read_bytes()


def test_a_stopped_registry_falls_through_to_the_next_source(tmp_path: Path) -> None:
    wasm = wat_component("chain_only")
    pin = sha256_pin(wasm.read_bytes())
    with local_registry(tmp_path / "registry") as address:
        reference = _pushed(tmp_path, address, "chain", wasm, "1")
    with pytest.raises(FetchError, match=f"{reference}: ConnectionError"):
        _resolver(tmp_path / "a").read(pin, [reference])
    assert _resolver(tmp_path / "b").read(pin, [reference, str(wasm)]) == wasm.read_bytes()


async def test_an_engine_runs_a_module_fetched_from_the_registry(
    tmp_path: Path, registry: str, probe_wasm: Path
) -> None:
    source = write_manifest(
        tmp_path / "src", "probe", component=probe_wasm, optional=PROBE_CAPABILITIES
    )
    reference = f"oci://{registry}/cove/probe:0.1.0"
    pushed = await asyncio.to_thread(cove_cli, tmp_path, "module", "push", str(source), reference)
    assert 0 == pushed.returncode, pushed.stderr
    wasm = await asyncio.to_thread(probe_wasm.read_bytes)
    missing = f"oci://{registry}/cove/probe:0.0.9"
    module = fetched_probe(tmp_path / "probe", probe_wasm, sha256_pin(wasm), missing, reference)
    config = write_engine_config(tmp_path / "engine.toml", [module], store_section(tmp_path))
    async with running_engine(config) as engine:
        await engine.publish([probe_event("count") for _ in range(2)])
        await wait_until(lambda: state_json(engine, "probe", "count") == 2, what="2 counted")
        assert {} == engine.load_errors
    # another build under the pinned tag: refused with both hashes, after the store is gone
    tampered = tmp_path / "tampered" / "probe.wasm"
    tampered.parent.mkdir()
    tampered.write_bytes(variant(wasm, "tampered"))
    _pushed(tmp_path, registry, "probe", tampered, "0.1.0")
    await asyncio.to_thread(
        lambda: [p.unlink() for p in (tmp_path / "store").rglob("*") if p.is_file()]
    )
    async with running_engine(config) as engine:
        (error,) = engine.load_errors.values()
    assert f"{reference}: has no layer {sha256_pin(wasm)} (its layers: " in error
    assert sha256_pin(variant(wasm, "tampered")) in error


def test_a_layer_over_the_size_cap_is_not_downloaded(tmp_path: Path, registry: str) -> None:
    wasm = wat_component("chain_only")
    size = len(wasm.read_bytes())
    reference = _pushed(tmp_path, registry, "chain", wasm, "1")
    small = Resolver(ContentStore(tmp_path / "store"), FetchLimits(size - 1, 10.0))
    with pytest.raises(FetchError) as caught:
        small.read(sha256_pin(wasm.read_bytes()), [reference])
    assert f"{reference}: {size} bytes, over [fetch] max_size ({size - 1} bytes)" in str(
        caught.value
    )


def test_a_registry_that_needs_credentials_gets_those_of_the_docker_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wasm = wat_component("chain_only")
    pin = sha256_pin(wasm.read_bytes())
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    with local_registry(tmp_path / "registry", auth=True) as address:
        reference = f"oci://{address}/cove/chain:1"
        with pytest.raises(FetchError) as caught:
            _resolver(tmp_path / "a").read(pin, [reference])
        docker = tmp_path / "home" / ".docker" / "config.json"
        docker.parent.mkdir(parents=True)
        token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        docker.write_text(json.dumps({"auths": {address: {"auth": token}}}))
        module = write_manifest(tmp_path / "chain", "chain", component=wasm)
        env_home = {"HOME": str(tmp_path / "home")}
        pushed = cove_cli(tmp_path, "module", "push", str(module), reference, env=env_home)
        fetched = _resolver(tmp_path / "b").read(pin, [reference])
    assert f"{reference}: {address} asks for credentials (HTTP basic)" in str(caught.value)
    assert PASSWORD not in str(caught.value)
    assert 0 == pushed.returncode, pushed.stderr
    assert fetched == wasm.read_bytes()
