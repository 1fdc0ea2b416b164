"""The fast path's C extension is optional at install: no compiler, no failed install."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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
