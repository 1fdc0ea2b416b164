"""`cove new` scaffolds modules whose own tests pass as generated; `cove test` runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cove._cli._main import cli
from tests.helpers.modules import CACHE, REPO

COVE = [sys.executable, "-m", "cove"]


def cove_new(tmp_path: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["new", *args], catch_exceptions=False)
    return result.exit_code, result.output


def test_python_module_has_everything_and_its_tests_pass(tmp_path: Path) -> None:
    target = tmp_path / "greeter"
    code, output = cove_new(tmp_path, "greeter", "--dir", str(target))
    assert 0 == code, output
    expected = {"cove.toml", "app.py", "tests/test_app.py", "fixtures/hello.toml"}
    expected |= {".gitignore", "README.md"}
    assert expected == {str(p.relative_to(target)) for p in target.rglob("*") if p.is_file()}
    assert "cove run --mock fixtures/hello.toml" in output
    proc = subprocess.run([*COVE, "test", str(target)], capture_output=True, text=True)
    assert 0 == proc.returncode, proc.stdout + proc.stderr
    assert "2 passed" in proc.stdout


def test_native_module_passes_its_test_and_check(tmp_path: Path) -> None:
    target = tmp_path / "nat"
    code, output = cove_new(tmp_path, "nat-bot", "--lang", "native", "--dir", str(target))
    assert 0 == code, output
    assert (target / "nat_bot.py").is_file()
    proc = subprocess.run([*COVE, "test", str(target), "-q"], capture_output=True, text=True)
    assert 0 == proc.returncode, proc.stdout + proc.stderr
    check = subprocess.run([*COVE, "check", str(target)], capture_output=True, text=True)
    assert "ok: nat-bot 0.1.0 (python)" in check.stdout, check.stderr


@pytest.mark.parametrize(
    ("name", "why"),
    [("Bad Name", "not a valid module name"), ("9lives", "not a valid module name")],
)
def test_invalid_names_are_refused(tmp_path: Path, name: str, why: str) -> None:
    code, output = cove_new(tmp_path, name, "--dir", str(tmp_path / "x"))
    assert (1, True) == (code, why in output)


def test_a_non_empty_directory_is_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("mine")
    code, output = cove_new(tmp_path, "taken", "--dir", str(tmp_path / "taken"))
    assert 1 == code
    assert "already exists and is not empty" in output
    assert "mine" == (tmp_path / "taken" / "keep.txt").read_text()


def test_cove_test_needs_a_module_directory(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["test", str(tmp_path)])
    assert 1 == result.exit_code
    assert "no cove.toml here" in result.output


@pytest.mark.slow
def test_javascript_module_builds_runs_and_passes_its_test(tmp_path: Path) -> None:
    """Its test runs `cove run --mock`, which builds app.js with componentize-js."""
    target = tmp_path / "js"
    code, output = cove_new(tmp_path, "js-hello", "--lang", "javascript", "--dir", str(target))
    assert 0 == code, output
    node_bin = REPO / "node_modules" / ".bin"
    env = {
        **os.environ,
        "PATH": f"{node_bin}{os.pathsep}{os.environ['PATH']}",
        "COVE_BUILD_CACHE": str(CACHE / "builds"),
    }
    proc = subprocess.run([*COVE, "test", str(target)], capture_output=True, text=True, env=env)
    assert 0 == proc.returncode, proc.stdout + proc.stderr
    assert "1 passed" in proc.stdout
