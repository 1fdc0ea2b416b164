"""Modules compiled at engine start: all at once, one compile per distinct component."""

from __future__ import annotations

from pathlib import Path

from cove._engine._compiling import Compiling
from cove._hosts._wasm_runtime import WasmRuntime
from cove._supply._fetch import FetchLimits
from cove._supply._resolve import Resolver
from cove._supply._store import ContentStore
from tests.helpers.modules import write_manifest
from tests.helpers.wat import wat_component


async def test_modules_sharing_a_component_compile_it_once(tmp_path: Path) -> None:
    shared, other = wat_component("chain_only"), wat_component("foreign_import")
    paths = [
        write_manifest(tmp_path / "a", "a", component=shared),
        write_manifest(tmp_path / "b", "b", component=shared),
        write_manifest(tmp_path / "c", "c", component=other),
    ]
    said: list[str] = []
    runtime = WasmRuntime(tmp_path / "compiled")
    try:
        compiling = Compiling(runtime, _resolver(tmp_path), said.append)
        await compiling.compile_all([*paths, tmp_path / "missing"])
    finally:
        runtime.close()
    assert 2 == sum(m.startswith("compiling ") for m in said)
    compiled = {p.name.split("-")[0] for p in (tmp_path / "compiled").glob("*.cwasm")}
    assert 2 == len(compiled)  # by digest: tiered may hold Winch's and Cranelift's a moment
    assert {"loading"} == {s.value for _, s in compiling.states()}  # nothing left compiling


async def test_a_module_is_shown_compiling_then_loading_until_its_load_ends(
    tmp_path: Path,
) -> None:
    path = write_manifest(tmp_path / "a", "a", component=wat_component("chain_only"))
    seen: list[list[tuple[str, str]]] = []
    runtime = WasmRuntime(tmp_path / "compiled")
    compiling = Compiling(runtime, _resolver(tmp_path), lambda _: seen.append(states(compiling)))
    try:
        await compiling.compile_all([path])
    finally:
        runtime.close()
    assert [("a", "compiling")] == seen[0]
    assert [("a", "loading")] == states(compiling)
    compiling.loaded(path)
    assert [] == states(compiling)


def states(compiling: Compiling) -> list[tuple[str, str]]:
    return [(m.name, s.value) for m, s in compiling.states()]


def _resolver(tmp_path: Path) -> Resolver:
    return Resolver(ContentStore(tmp_path / "store"), FetchLimits(1 << 30, 10.0))
