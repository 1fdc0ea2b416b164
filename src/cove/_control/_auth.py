"""The control plane's bearer token: read once at start, compared in constant time."""

from __future__ import annotations

import hmac
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from starlette.datastructures import Headers
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from .._config import EngineConfig
from .._config_base import is_loopback
from .._config_operator import ControlSettings
from ..errors import ConfigError

_BEARER = re.compile(r"Bearer[ \t]+(\S+)", re.IGNORECASE)


def read_token(config: EngineConfig, settings: ControlSettings) -> str | None:
    """The configured admin token, or None when none is configured (loopback only)."""
    if settings.create_token and settings.token_file is not None:
        create_token_file(config.resolve(settings.token_file))
    token = _token_text(config, "control.token", settings.token_env, settings.token_file)
    if token is None and not is_loopback(settings.host):
        raise ConfigError(  # the config validator says so too; this guards other callers
            f"control.host {settings.host!r} is not loopback and no token is configured"
        )
    return token


def create_token_file(path: Path) -> bool:
    """Write a new random token to ``path`` (mode 0600) unless it exists; True when written.

    ``O_EXCL`` so two engines starting at once cannot both write, and the mode
    is set at creation so the token is never readable by others, not even briefly.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    except OSError as exc:
        raise ConfigError(f"control.create_token: cannot create {path}: {exc.strerror}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(secrets.token_urlsafe(32) + "\n")
    return True


def read_read_token(config: EngineConfig, settings: ControlSettings) -> str | None:
    """The configured read-only token, or None."""
    return _token_text(
        config, "control.read_token", settings.read_token_env, settings.read_token_file
    )


def _token_text(config: EngineConfig, what: str, env: str | None, file: Path | None) -> str | None:
    if env is not None:
        token = os.environ.get(env, "").strip()
        if not token:
            raise ConfigError(f"{what}_env: environment variable {env} is not set or is empty")
        return token
    if file is not None:
        path = config.resolve(file)
        try:
            token = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{what}_file: cannot read {path}: {exc}") from None
        if not token:
            raise ConfigError(f"{what}_file: {path} is empty")
        return token
    return None


@dataclass(frozen=True, slots=True)
class Tokens:
    """The admin token (changes and reads) and the read-only one; None: not configured."""

    admin: str | None = None
    read: str | None = None

    @property
    def configured(self) -> bool:
        return self.admin is not None or self.read is not None

    def admits(self, authorization: str | None, *, write: bool) -> bool:
        """True when the header carries the admin token, or for a read the read-only one."""
        wanted = [self.admin] if write else [self.admin, self.read]
        return any(t is not None and token_matches(t, authorization) for t in wanted)


def token_matches(expected: str, authorization: str | None) -> bool:
    """True when ``Authorization: Bearer <token>`` carries ``expected``."""
    if authorization is None:
        return False
    match = _BEARER.fullmatch(authorization.strip())
    if match is None:
        return False
    return hmac.compare_digest(match.group(1).encode(), expected.encode())


class BearerGuard:
    """An ASGI app behind the control token: 403 when none is configured, 401 when wrong.

    A class, not a function: starlette's ``Route`` treats a plain function as a
    request handler (GET only) and an object as an ASGI app (every method).
    """

    def __init__(self, app: ASGIApp, token: str | None, what: str) -> None:
        self._app = app
        self._token = token
        self._what = what

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refusal = self._refusal(Headers(scope=scope).get("authorization"))
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self._app(scope, receive, send)

    def _refusal(self, given: str | None) -> Response | None:
        if self._token is None:
            message = (
                f"{self._what} needs the control token; set [control] token_env or "
                "token_file in the engine config"
            )
            return JSONResponse({"error": message, "status": 403}, 403)
        if not token_matches(self._token, given):
            return JSONResponse(
                {"error": "missing or wrong bearer token", "status": 401},
                401,
                {"WWW-Authenticate": "Bearer"},
            )
        return None
