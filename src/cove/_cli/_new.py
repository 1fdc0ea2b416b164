"""``cove new``: scaffold a module that builds and passes its test as generated."""

from __future__ import annotations

from pathlib import Path

import click

from .._scaffold import LANGS, Lang, scaffold
from ..errors import CoveError


@click.command("new")
@click.argument("name")
@click.option(
    "--lang", type=click.Choice(LANGS), default="python", show_default=True,
    help="python/javascript: a wasm component (sandboxed); native: an in-process plugin (trusted).",
)  # fmt: skip
@click.option(
    "--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Where to create it (default: ./NAME).",
)  # fmt: skip
def new_command(name: str, lang: Lang, directory: Path | None) -> None:
    """Create a new module NAME: cove.toml, source, a unit test, README."""
    target = directory if directory is not None else Path(name)
    try:
        written = scaffold(name, target, lang)
    except CoveError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created {lang} module {name!r} in {target}/")
    for path in written:
        click.echo(f"  {path.relative_to(target)}")
    steps = {
        "python": ["cove test", "cove build", "cove check", "cove run --mock fixtures/hello.toml"],
        "javascript": [
            "cove build",
            "cove check",
            "cove run --mock fixtures/hello.toml",
            "cove test",
        ],
        "native": ["cove test"],
    }[lang]
    click.echo("next:\n  cd " + str(target) + "\n  " + "\n  ".join(steps))
