"""The compiled-component cache: one per user, keyed by content, wasmtime and CPU; shared safely."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from cove._cache_dir import compiled_cache_dir, user_cache_dir
from cove._config import EngineConfig
from cove._hosts._wasm_runtime import WASMTIME_VERSION, WasmRuntime, target_tag
from tests.helpers.wat import wat_component


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[WasmRuntime]:
    runtime = WasmRuntime(tmp_path / "compiled", compiler="cranelift")  # tiered: its own file
    yield runtime
    runtime.close()


def test_the_default_cache_is_the_users_not_the_data_dirs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unset ``[wasm] cache_dir``: the platform's per-user cache (XDG on Linux)."""
    monkeypatch.delenv("COVE_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    config = EngineConfig.model_validate({"root": tmp_path, "data_dir": "data"})
    assert tmp_path / "xdg" / "cove" / "compiled" == config.cache_path


def test_cove_cache_dir_moves_it_and_cache_dir_still_overrides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COVE_CACHE_DIR", str(tmp_path / "shared"))
    assert (tmp_path / "shared").resolve() == user_cache_dir()
    assert EngineConfig().cache_path == compiled_cache_dir() == user_cache_dir() / "compiled"
    config = EngineConfig.model_validate({"root": tmp_path, "wasm": {"cache_dir": "mine"}})
    assert tmp_path.resolve() / "mine" == config.cache_path


def test_an_entry_is_named_by_hash_wasmtime_and_cpu(runtime: WasmRuntime) -> None:
    wasm = wat_component("chain_only").read_bytes()
    runtime.load("m", wasm)
    (entry,) = runtime.cache.directory.glob("*.cwasm")
    assert f"-wasmtime{WASMTIME_VERSION}-{target_tag()}.cwasm" in entry.name
    assert [] == list(runtime.cache.directory.glob("*.tmp"))


def test_a_second_load_reads_the_entry_instead_of_compiling(runtime: WasmRuntime) -> None:
    wasm = wat_component("chain_only").read_bytes()
    runtime.load("m", wasm)
    said: list[str] = []
    runtime.load("m", wasm, said.append)
    assert [] == said


@pytest.mark.parametrize("damage", [b"", b"not an artifact", b"\x7fELF" + b"\0" * 64])
def test_a_corrupt_entry_is_compiled_again(runtime: WasmRuntime, damage: bytes) -> None:
    wasm = wat_component("chain_only").read_bytes()
    path = runtime.cache.path_for(wasm)
    path.parent.mkdir(parents=True)
    path.write_bytes(damage)
    said: list[str] = []
    runtime.load("m", wasm, said.append)
    assert said and said[0].startswith("compiling m")
    assert path.stat().st_size > len(damage)


def test_concurrent_first_loads_of_one_component_all_succeed(runtime: WasmRuntime) -> None:
    """Two modules (or processes) compiling the same component at once each write their
    own temporary file; the entry left behind is whole."""
    wasm = wat_component("chain_only").read_bytes()
    errors: list[BaseException] = []

    def load() -> None:
        try:
            runtime.load("m", wasm)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=load) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [] == errors
    assert [] == list(runtime.cache.directory.glob("*.tmp"))
    said: list[str] = []
    runtime.load("m", wasm, said.append)
    assert [] == said


def test_precompile_fills_the_cache_once(runtime: WasmRuntime) -> None:
    """What the engine runs for every module at start: compile only what is missing."""
    wasm = wat_component("chain_only").read_bytes()
    said: list[str] = []
    runtime.precompile("m", wasm, said.append)
    runtime.precompile("m", wasm, said.append)
    assert 1 == sum(m.startswith("compiling m") for m in said)
    assert runtime.cache.path_for(wasm).exists()
