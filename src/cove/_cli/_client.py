"""The CLI's side of the control-plane API: options, requests, exit codes, output.

Exit codes every API command shares (scripts may rely on them):

    0  success
    1  the engine refused the request (unknown module, bad input, not dead, ...)
       or, for ``cove health``, the engine is not ``ok``
    2  usage error (bad option or argument)
    3  the engine could not be reached
    4  authentication failed (missing or wrong token, or none configured)
    5  the engine answered with a server error
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
import httpx
from rich.console import Console
from rich.markup import escape

from .._local_engines import token_file_for

EXIT_REFUSED = 1
EXIT_UNREACHABLE = 3
EXIT_AUTH = 4
EXIT_SERVER = 5
DEFAULT_URL = "http://127.0.0.1:8788"
EXIT_CODES = (
    "Exit codes: 0 success, 1 refused by the engine, 2 usage error, "
    "3 engine unreachable, 4 authentication failed, 5 engine error."
)

F = TypeVar("F", bound=Callable[..., Any])
console = Console()
errors = Console(stderr=True)


class Client:
    """A synchronous client for one engine's control plane."""

    def __init__(self, url: str, token: str | None, as_json: bool) -> None:
        self.url = url.rstrip("/")
        self.as_json = as_json
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=30)

    @property
    def http(self) -> httpx.Client:
        """The HTTP client itself (its base URL and token), for callers that handle errors."""
        return self._http

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON answer; on failure print why and exit with the matching code."""
        response = self.request(method, path, **kwargs)
        try:
            return response.json()
        except ValueError:
            return {"error": response.text[:200]}

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The successful answer, whatever its type; on failure print why and exit."""
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            fail(
                EXIT_UNREACHABLE,
                f"cannot reach the engine at {self.url} ({exc}); is `cove run` up with a "
                "[control] section? (--url or COVE_URL chooses the address)",
            )
        if response.is_success:
            return response
        try:
            body = response.json()
        except ValueError:
            body = {"error": response.text[:200]}
        if response.status_code in (401, 403):
            fail(EXIT_AUTH, f"{body.get('error')} (--token-file or COVE_TOKEN gives the token)")
        if response.status_code >= 500:
            fail(EXIT_SERVER, f"the engine failed: {body.get('error')}")
        fail(EXIT_REFUSED, str(body.get("error", body)))

    def show(self, body: Any, human: Callable[[], None]) -> None:
        """Print ``body`` as JSON for scripts, or call ``human`` to print for people."""
        if self.as_json:
            click.echo(json.dumps(body, indent=2))
        else:
            human()


def fail(code: int, message: str) -> NoReturn:
    errors.print(f"[red]error:[/] {escape(message)}", highlight=False)
    raise SystemExit(code)


def api_command(func: F) -> F:
    """Add --url, --token-file and --json, and pass a ``Client`` as ``client``."""
    with_json = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
    return with_json(_connected(func))


def api_command_without_json(func: F) -> F:
    """Add --url and --token-file only: for a command with nothing to print (a mount)."""
    return _connected(func)


def _connected(func: F) -> F:
    """The options that find the engine and its token; ``as_json`` defaults to off."""

    @click.option(
        "--url",
        envvar="COVE_URL",
        default=DEFAULT_URL,
        show_default=True,
        help="Control-plane address (env COVE_URL).",
    )
    @click.option(
        "--token-file",
        type=click.Path(dir_okay=False, path_type=Path),
        envvar="COVE_TOKEN_FILE",
        help=(
            "File holding the bearer token (env COVE_TOKEN_FILE; or put the token in "
            "COVE_TOKEN). Default: the token file a local engine at --url recorded."
        ),
    )
    @functools.wraps(func)
    def wrapper(url: str, token_file: Path | None, as_json: bool = False, **kwargs: Any) -> Any:
        token = os.environ.get("COVE_TOKEN") or None
        if token is None and token_file is None:
            token_file = token_file_for(url)
        if token_file is not None:
            try:
                token = token_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise click.BadParameter(f"cannot read {token_file}: {exc.strerror}") from None
        return func(client=Client(url, token, as_json), **kwargs)

    return wrapper  # type: ignore[return-value]
