"""The guest SDK runs inside components: it must not import wasmtime or the engine."""

from __future__ import annotations

import ast
from pathlib import Path

import cove_sdk

SDK = Path(cove_sdk.__file__).resolve().parent
FORBIDDEN = ("cove", "wasmtime")


def test_sdk_imports_neither_cove_nor_wasmtime() -> None:
    found = []
    for path in sorted(SDK.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            found += [
                f"{path.relative_to(SDK)}: {n}" for n in names if n.split(".")[0] in FORBIDDEN
            ]
    assert [] == found
