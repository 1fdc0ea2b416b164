"""A real engine with its control plane on a free loopback port, and an httpx client for it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from cove import Engine
from cove._control._plane import ControlPlane
from tests.helpers.engine import running_app
from tests.helpers.modules import ASSETS, write_manifest

TOKEN = "control-token-5e3c1f0a9d"
TOKEN_ENV = "COVE_TEST_CONTROL_TOKEN"
AUTH = {"Authorization": f"Bearer {TOKEN}"}  # reads of module data need the token too


def control_section(*, token: bool = True, metrics: bool = True) -> str:
    body = '\n[control]\nhost = "127.0.0.1"\nport = 0\n'
    if token:
        body += f'token_env = "{TOKEN_ENV}"\n'
    if metrics:
        body += '\n[metrics]\nhost = "127.0.0.1"\nport = 0\n'
    return body


def flaky_module(tmp_path: Path, name: str, mode_file: Path, **kw: Any) -> Path:
    """The native flaky plugin; its behaviour follows the text in ``mode_file``."""
    if not mode_file.exists():
        mode_file.write_text("ok")
    module = write_manifest(
        tmp_path / name,
        name,
        kind="python",
        entry="flaky:Flaky",
        required=["store", "messaging"],
        config={"mode_file": str(mode_file)},
        subscriptions=[{"kind": "custom", "name": "probe.*"}],
        **kw,
    )
    for source in (ASSETS / "native_flaky").glob("*.py"):
        (module / source.name).write_text(source.read_text())
    return module


@dataclass
class Plane:
    engine: Engine
    client: httpx.AsyncClient
    metrics_url: str | None
    control: ControlPlane

    def auth(self, token: str = TOKEN) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


@asynccontextmanager
async def running_plane(config: Path) -> AsyncIterator[Plane]:
    async with running_app(config) as app:
        control = app.control
        assert control is not None and control.api is not None
        metrics = control.metrics
        async with httpx.AsyncClient(base_url=control.api.url, timeout=30) as client:
            yield Plane(app.engine, client, metrics.url if metrics else None, control)
