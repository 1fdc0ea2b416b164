"""A wasmtime the C-API calls do not fit: wasm modules are refused with the reason
(native ones run on); without its C extension, the fast path runs on ctypes and says so."""

from __future__ import annotations

from pathlib import Path

import pytest
from structlog.testing import capture_logs

from cove._hosts import _fast_call as fc
from cove._hosts._wasm_host import WasmModuleHost
from cove._hosts._wasm_runtime import WasmRuntime
from cove.errors import ModuleLoadError
from tests.helpers.security import load_probe


@pytest.mark.slow
def test_an_unusable_c_api_refuses_the_wasm_module_naming_the_reason(
    tmp_path: Path, probe_wasm: Path, runtime: WasmRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fc, "UNAVAILABLE", "struct sizes differ (test)")
    with pytest.raises(ModuleLoadError, match=r"struct sizes differ \(test\)") as caught:
        load_probe(tmp_path, probe_wasm, runtime, {})
    assert "probe" == caught.value.module


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
    assert not host.call_path.compiled
    assert [("probe", "C extension not built (test)")] == [
        (e["module"], e["reason"]) for e in logs if e["event"] == "wasm fast path on ctypes"
    ]
    host.close()
