"""A wasmtime the fast path does not fit: modules run on the wrapper path and the log
says why; without its C extension, the fast path runs on ctypes and says so too."""

from __future__ import annotations

from pathlib import Path

import pytest
from structlog.testing import capture_logs

from cove._hosts import _fast_call as fc
from cove._hosts._wasm_host import WasmModuleHost
from cove._hosts._wasm_runtime import WasmRuntime
from tests.helpers.security import load_probe


@pytest.mark.slow
def test_an_unusable_fast_path_loads_the_module_on_the_wrapper_path_with_one_log_line(
    tmp_path: Path, probe_wasm: Path, runtime: WasmRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fc, "UNAVAILABLE", "struct sizes differ (test)")
    with capture_logs() as logs:
        loaded = load_probe(tmp_path, probe_wasm, runtime, {})
    host = loaded.host
    assert isinstance(host, WasmModuleHost)
    assert "wrapper" == host.call_path
    fallbacks = [e for e in logs if "instead of 'fast'" in e["event"]]
    assert [("probe", "struct sizes differ (test)")] == [
        (e["module"], e["reason"]) for e in fallbacks
    ]
    host.close()


@pytest.mark.slow
def test_a_module_loaded_without_the_c_extension_runs_fast_on_ctypes_with_one_log_line(
    tmp_path: Path, probe_wasm: Path, runtime: WasmRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fc, "COMPILED", False)
    monkeypatch.setattr(fc, "EXT_PROBLEM", "C extension not built (test)")
    with capture_logs() as logs:
        loaded = load_probe(tmp_path, probe_wasm, runtime, {})
    host = loaded.host
    assert isinstance(host, WasmModuleHost)
    assert "fast" == host.call_path
    assert [("probe", "C extension not built (test)")] == [
        (e["module"], e["reason"]) for e in logs if e["event"] == "wasm fast path on ctypes"
    ]
    host.close()
