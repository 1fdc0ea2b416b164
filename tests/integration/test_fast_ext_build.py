"""The fast path's C extension is optional: no compiler, no failed install; no working
extension, the ctypes implementation. Not skipped when the extension is missing: that
is what these tests are for."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import types
from pathlib import Path

import pytest

import cove._hosts
from cove._hosts import _fast_call as fc

ROOT = Path(__file__).resolve().parents[2]
SOURCE = Path("src/cove/_hosts/_fast_ext.c")


def build_ext(tree: Path, compiler: str) -> subprocess.CompletedProcess[str]:
    """``setup.py build_ext`` (what ``pip install`` runs) on a copy of the build inputs."""
    for name in ("setup.py", "pyproject.toml", "README.md", str(SOURCE)):
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tree / name)
    env = {**os.environ, "CC": compiler, "LDSHARED": f"{compiler} -shared"}
    return subprocess.run(
        [sys.executable, "setup.py", "-q", "build_ext", "--build-lib", "lib", "--build-temp", "tmp"],
        cwd=tree, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def built(tree: Path) -> list[Path]:
    return list((tree / "lib").rglob("_fast_ext*.so"))


@pytest.mark.slow
def test_without_a_c_compiler_the_build_goes_on_without_the_extension(tmp_path: Path) -> None:
    result = build_ext(tmp_path, "false")
    assert 0 == result.returncode, result.stderr
    assert [] == built(tmp_path)


@pytest.mark.slow
def test_with_a_c_compiler_the_build_makes_the_extension(tmp_path: Path) -> None:
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler here")
    result = build_ext(tmp_path, compiler)
    assert 0 == result.returncode, result.stderr
    assert 1 == len(built(tmp_path)), result.stderr


def test_the_extension_is_built_wherever_a_c_compiler_is() -> None:
    compiler = str(sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None:
        pytest.skip(f"no C compiler ({compiler})")
    assert fc.EXT_PROBLEM is None and fc.COMPILED
    assert "C extension" == fc.implementation()


def test_without_the_extension_the_fast_path_uses_ctypes_and_says_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "cove._hosts._fast_ext", None)  # import fails
    monkeypatch.delattr(cove._hosts, "_fast_ext", raising=False)
    module, problem = fc._load_ext()
    assert module is None and problem is not None and "not built" in problem


def test_a_stale_extension_falls_back_to_ctypes_instead_of_breaking_the_import(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An extension built from an older _fast_ext.c (a ``bind`` of other parameters)."""

    def bind(*addresses: object) -> None:
        raise TypeError(f"bind() takes 9 arguments ({len(addresses)} given)")

    stale = types.ModuleType("cove._hosts._fast_ext")
    stale.bind = bind  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "cove._hosts._fast_ext", stale)
    monkeypatch.delattr(cove._hosts, "_fast_ext", raising=False)
    module, problem = fc._load_ext()
    assert module is None and problem is not None
    assert "C extension failed its check (TypeError: bind() takes 9" in problem
