"""Components given by pin and sources, on a real engine: fetched over a real local HTTP
server, kept in the content store (a start works offline from it), refused on a mismatch
with both hashes named while the other modules run; a load through ``POST /v1/modules`` and
``cove module reload`` resolve the same way."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from cove._supply._store import sha256_pin
from tests.helpers.control import TOKEN, TOKEN_ENV, control_section, running_plane
from tests.helpers.engine import (
    PROBE_CAPABILITIES,
    probe_event,
    running_engine,
    state_json,
    wait_until,
)
from tests.helpers.http_server import local_http_server
from tests.helpers.modules import write_engine_config, write_manifest
from tests.integration.test_cli_control import cove


def variant(wasm: bytes, tag: str) -> bytes:
    """The same component with a custom section appended: another pin, the same code."""
    name = b"cove-test"
    payload = bytes([len(name)]) + name + tag.encode()
    assert len(payload) < 128  # one-byte LEB128 size
    return wasm + b"\x00" + bytes([len(payload)]) + payload


def fetched_probe(directory: Path, probe_wasm: Path, pin: str, *sources: str) -> Path:
    """The probe module with no local component: only its pin and ``sources``."""
    write_manifest(directory, "probe", component=probe_wasm, optional=PROBE_CAPABILITIES)
    (directory / probe_wasm.name).unlink()
    manifest = directory / "cove.toml"
    lines = [
        line
        for line in manifest.read_text().splitlines()
        if not line.startswith(("component =", "sha256 ="))
    ]
    at = lines.index('kind = "wasm"') + 1
    lines[at:at] = [f'sha256 = "{pin}"', f"sources = {list(sources)!r}".replace("'", '"')]
    manifest.write_text("\n".join(lines) + "\n")
    return directory


def store_section(tmp_path: Path) -> str:
    return f'\n[fetch]\nstore = "{tmp_path / "store"}"\ntimeout = "10s"\n'


async def test_a_fetched_module_runs_and_starts_again_offline_from_the_store(
    tmp_path: Path, probe_wasm: Path
) -> None:
    wasm = await asyncio.to_thread(probe_wasm.read_bytes)
    pin = sha256_pin(wasm)
    with local_http_server({"/probe.wasm": (200, {}, wasm)}) as server:
        module = fetched_probe(tmp_path / "probe", probe_wasm, pin, server.url("/probe.wasm"))
        config = write_engine_config(tmp_path / "engine.toml", [module], store_section(tmp_path))
        async with running_engine(config) as engine:
            await engine.publish([probe_event("count") for _ in range(3)])
            await wait_until(lambda: state_json(engine, "probe", "count") == 3, what="3 counted")
    assert ["/probe.wasm"] == server.hits  # compiled and loaded from one fetch
    assert (tmp_path / "store" / "sha256" / pin.removeprefix("sha256:")).read_bytes() == wasm
    # The server is gone: the next start takes the component from the store.
    async with running_engine(config) as engine:
        await engine.publish([probe_event("count")])
        await wait_until(lambda: state_json(engine, "probe", "count") == 4, what="4 counted")
        assert {} == engine.load_errors


async def test_a_mismatch_refuses_the_module_naming_both_hashes_and_the_others_run(
    tmp_path: Path, probe_wasm: Path
) -> None:
    wasm = await asyncio.to_thread(probe_wasm.read_bytes)
    pin, served = sha256_pin(wasm), variant(wasm, "tampered")
    with local_http_server({"/probe.wasm": (200, {}, served)}) as server:
        url = server.url("/probe.wasm")
        bad = fetched_probe(tmp_path / "bad", probe_wasm, pin, url)
        good = write_manifest(
            tmp_path / "good", "good", component=probe_wasm, optional=PROBE_CAPABILITIES
        )
        config = write_engine_config(tmp_path / "engine.toml", [bad, good], store_section(tmp_path))
        async with running_engine(config) as engine:
            await engine.publish([probe_event("count")])
            await wait_until(lambda: state_json(engine, "good", "count") == 1, what="good ran")
            (error,) = engine.load_errors.values()
    assert "probe" not in engine.runners
    assert f"{url} gave {sha256_pin(served)}, not the pinned {pin}" in error
    assert not (tmp_path / "store" / "sha256" / pin.removeprefix("sha256:")).exists()


async def test_a_load_through_the_api_and_a_reload_through_the_cli_resolve_alike(
    tmp_path: Path, probe_wasm: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    wasm = await asyncio.to_thread(probe_wasm.read_bytes)
    v2 = variant(wasm, "v2")
    routes = {"/v1.wasm": (200, {}, wasm), "/v2.wasm": (200, {}, v2)}
    with local_http_server(routes) as server:
        module = fetched_probe(
            tmp_path / "probe", probe_wasm, sha256_pin(wasm), server.url("/v1.wasm")
        )
        config = write_engine_config(
            tmp_path / "engine.toml",
            [],
            store_section(tmp_path)
            + control_section(metrics=False)
            + f'load_dirs = ["{tmp_path}"]\n',
        )
        async with running_plane(config) as plane:
            auth = plane.auth()
            loaded = await plane.client.post(
                "/v1/modules", json={"path": str(module)}, headers=auth
            )
            fetched_probe(module, probe_wasm, sha256_pin(v2), server.url("/v2.wasm"))
            bump = module / "cove.toml"
            bump.write_text(bump.read_text().replace('version = "0.1.0"', 'version = "0.2.0"'))
            reloaded = await cove(plane, "module", "reload", "probe")
            listed = (await plane.client.get("/v1/modules/probe", headers=auth)).json()
            pin3 = sha256_pin(variant(wasm, "v3"))
            fetched_probe(module, probe_wasm, pin3, server.url("/v2.wasm"))
            refused = await cove(plane, "module", "reload", "probe")
            after = (await plane.client.get("/v1/modules/probe", headers=auth)).json()
    assert 201 == loaded.status_code, loaded.text
    assert ["/v1.wasm", "/v2.wasm", "/v2.wasm"] == server.hits
    assert 0 == reloaded.code, reloaded.err
    assert ("running", "0.2.0") == (listed["state"], listed["version"])
    assert 1 == refused.code
    assert f"gave {sha256_pin(v2)}, not the pinned {pin3}" in " ".join(refused.err.split())
    assert ("running", "0.2.0") == (after["state"], after["version"])


async def test_a_source_that_fails_at_start_is_tried_once_not_again_by_the_load(
    tmp_path: Path, probe_wasm: Path
) -> None:
    """The compile phase fetches every module at once; its failure is the load's refusal,
    so a stalled source costs one timeout at start, not two."""
    # a pin nothing has compiled yet, so the compile phase does fetch it
    wasm = variant(await asyncio.to_thread(probe_wasm.read_bytes), uuid.uuid4().hex)
    stalled = frozenset({"/slow.wasm"})
    with local_http_server({"/slow.wasm": (200, {}, wasm)}, stalled=stalled) as server:
        module = fetched_probe(
            tmp_path / "probe", probe_wasm, sha256_pin(wasm), server.url("/slow.wasm")
        )
        extra = store_section(tmp_path).replace('timeout = "10s"', 'timeout = "1s"')
        config = write_engine_config(tmp_path / "engine.toml", [module], extra)
        async with running_engine(config) as engine:
            (error,) = engine.load_errors.values()
        server.release.set()
    assert ["/slow.wasm"] == server.hits
    assert f"{server.url('/slow.wasm')}: timed out ([fetch] timeout 1s)" in error
