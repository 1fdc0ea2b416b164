"""Each host import is declared once, in _fast_host: its shapes are host.wit's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cove._hosts import _fast_host as fh
from cove._hosts import _fast_values as fv
from cove._hosts._call_path import CallPath
from cove._hosts._wasm_contract import HOST_VERSION_TEXT
from cove._hosts._wasm_runtime import WasmRuntime
from cove._hosts._wit_shapes import import_signatures
from tests.helpers.modules import CACHE, build_guest

EVERY = ["alarms", "chain", "events", "http", "identity", "messaging", "store"]


@pytest.fixture(scope="module")
def every_import_wasm() -> Path:
    """The probe built with every capability declared: its world imports every interface."""
    return build_guest("probe", EVERY)


class _Host:
    def _current(self) -> Any:
        raise AssertionError("not called")

    def _park(self, exc: BaseException) -> None:
        raise AssertionError("not called")

    _config_keys = _current


def test_every_declared_import_has_the_shapes_of_the_component_built_from_host_wit(
    every_import_wasm: Path,
) -> None:
    """A shape written by hand that drifts from host.wit fails here, not in a guest."""
    runtime = WasmRuntime(CACHE / "compiled")
    try:
        component = runtime.load("every", every_import_wasm.read_bytes())
        found = import_signatures(component, runtime.engine, ("cove:host/",))
    finally:
        runtime.close()
    declared = fh.host_functions(_Host(), CallPath(False))  # type: ignore[arg-type]
    expected = {
        f"cove:host/{iface}@{HOST_VERSION_TEXT}": {
            name: (
                [fv.wit_type(t) for t in func.params],
                None if func.result is None else fv.wit_type(func.result),
            )
            for name, func in functions.items()
        }
        for iface, functions in declared.items()
    }
    assert expected == found
