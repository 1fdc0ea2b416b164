"""``cove test``: run a module's own tests with pytest, the guest SDK importable."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import click

# A module without its own pytest config must not inherit one from a parent
# directory (a repository it happens to sit in, with other plugins and rules).
_OWN_CONFIG = ("pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg")


def pytest_command(module_dir: Path, extra: tuple[str, ...] = ()) -> list[str]:
    """The pytest command line ``cove test`` runs in ``module_dir``."""
    command = [sys.executable, "-m", "pytest", "--rootdir", str(module_dir)]
    if not any((module_dir / name).is_file() for name in _OWN_CONFIG):
        command += ["-c", os.devnull, "-p", "no:cacheprovider", "-p", "no:asyncio"]
    return [*command, *extra]


@click.command("test", context_settings={"ignore_unknown_options": True})
@click.argument(
    "module_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=Path(".")
)
@click.argument("pytest_args", nargs=-1, type=click.UNPROCESSED)
def test_command(module_dir: Path, pytest_args: tuple[str, ...]) -> None:
    """Run the module's tests (pytest; extra arguments go to pytest)."""
    if not (module_dir / "cove.toml").is_file():
        raise click.ClickException(f"{module_dir}: no cove.toml here; run it in a module directory")
    for package, install in (
        ("pytest", "pip install pytest"),
        ("cove_sdk", "pip install cove-sdk"),
    ):
        if importlib.util.find_spec(package) is None:
            raise click.ClickException(f"{package} is not installed; run: {install}")
    directory = module_dir.resolve()
    proc = subprocess.run(pytest_command(directory, pytest_args), cwd=directory, check=False)
    sys.exit(proc.returncode)
