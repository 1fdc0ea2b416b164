"""``cove module push|pull``: a module to and from an OCI registry (local; no engine needed)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click

from .._config_fetch import FetchSettings
from ..errors import CoveError
from ._client import console

_REFERENCE = "oci://<registry>/<repository>[:tag|@sha256:…]"


def _seconds(ctx: click.Context, param: click.Parameter, value: str) -> float:
    from .._units import parse_duration_ms

    try:
        return parse_duration_ms(value) / 1000
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _oci(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if not value.startswith("oci://"):
        raise click.BadParameter(f"{value!r} is not {_REFERENCE}")
    return value


@click.command("push")
@click.argument("module_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("reference", callback=_oci)
@click.option(
    "--timeout", default="60s", show_default=True, callback=_seconds,
    help="Longest one registry request may take.",
)  # fmt: skip
def push_command(module_dir: Path, reference: str, timeout: float) -> None:
    """Upload the module in MODULE_DIR (cove.toml and its pinned component) to REFERENCE.

    The component is checked against the manifest's pin first. Its layer's digest is
    the pin, so REFERENCE then works as a `sources` entry of that module. A registry on
    a loopback address is spoken to over http, any other over https; credentials come
    from ~/.docker/config.json.
    """
    from .._supply._oci_module import push

    try:
        pushed = push(module_dir, reference, timeout)
    except CoveError as exc:
        raise click.ClickException(str(exc)) from None
    module = pushed.manifest.module
    console.print(f"pushed {module.name} {module.version} to {reference}", highlight=False)
    console.print(f"  component {module.sha256}", highlight=False)
    if pushed.digest:
        console.print(
            f"  manifest  {pushed.digest} ({pushed.repository}@{pushed.digest})", highlight=False
        )


@click.command("pull")
@click.argument("reference", callback=_oci)
@click.option(
    "--into", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Directory to write cove.toml and the component into (default: the repository's last name).",
)  # fmt: skip
@click.option(
    "--timeout", default="60s", show_default=True, callback=_seconds,
    help="Longest one registry request may take.",
)  # fmt: skip
def pull_command(reference: str, into: Path | None, timeout: float) -> None:
    """Download the module at REFERENCE: its cove.toml and its component, checked against
    the pin, also kept in the per-user content store."""
    from .._cache_dir import content_store_dir
    from .._supply._fetch import FetchLimits
    from .._supply._oci_module import pull
    from .._supply._store import ContentStore

    target = into or Path(reference.partition("@")[0].rstrip("/").rsplit("/", 1)[-1].split(":")[0])
    limits = replace(FetchLimits.of(FetchSettings()), timeout_s=timeout)
    try:
        pulled = pull(reference, target, ContentStore(content_store_dir()), limits)
    except CoveError as exc:
        raise click.ClickException(str(exc)) from None
    module = pulled.manifest.module
    console.print(
        f"pulled {module.name} {module.version} into {target} (component {module.sha256}, "
        "pin checked)",
        highlight=False,
    )
