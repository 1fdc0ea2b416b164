"""Outbound HTTP for modules: httpx, with the allowlist checked on every hop."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy

import httpx

from .._config_runtime import HttpSettings
from .._redact import error_reason, redact_url
from .._units import parse_duration_ms
from ..errors import HostCallError
from ._bounds import MAX_ERROR_CHARS
from ._http_allow import host_allowed

Headers = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    url: str
    headers: Headers = ()
    body: bytes = b""


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    headers: Headers
    body: bytes


# Never forwarded to another origin on a redirect (as browsers and curl do).
_CREDENTIALS = frozenset({"authorization", "cookie", "proxy-authorization"})


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return (url.scheme, url.host, url.port)


class HttpBackend:
    """One shared client; redirects are followed here so each target is checked."""

    def __init__(
        self, settings: HttpSettings, transport: httpx.BaseTransport | None = None
    ) -> None:
        self._timeout = parse_duration_ms(settings.timeout) / 1000
        self._max_body = int(settings.max_response_bytes)
        self._max_redirects = settings.max_redirects
        # ``transport``: canned responses (``cove run --mock``) behind the same checks.
        # The cookie jar accepts nothing: the client is shared by every module,
        # and one module's cookies must never ride along on another's request.
        self._client = httpx.Client(
            follow_redirects=False,
            timeout=self._timeout,
            transport=transport,
            cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
        )

    def close(self) -> None:
        self._client.close()

    def fetch(
        self,
        request: HttpRequest,
        allow: tuple[str, ...],
        time_left: float | None = None,
        sensitive: frozenset[str] = frozenset(),
        cut: Callable[[], bool] = lambda: False,
    ) -> HttpResponse:
        """``time_left``: seconds the caller can still wait, over all redirect hops;
        ``sensitive``: headers (lower-case) holding a secret, dropped like credentials;
        ``cut``: true once the engine is stopping (the body stops at its next chunk)."""
        method, url, body = request.method.upper(), request.url, request.body
        headers = request.headers
        deadline = None if time_left is None else time.monotonic() + time_left
        for _ in range(self._max_redirects + 1):
            if not host_allowed(url, allow):
                raise HostCallError(
                    "denied", f"http: {redact_url(url)!r} is not in the module's http allowlist"
                )
            response = self._send(method, url, headers, body, deadline, cut)
            if response.status not in (301, 302, 303, 307, 308):
                return response
            location = dict((k.lower(), v) for k, v in response.headers).get("location")
            if location is None:
                return response
            target = httpx.URL(url).join(location)
            if _origin(target) != _origin(httpx.URL(url)):
                dropped = _CREDENTIALS | sensitive
                headers = tuple(h for h in headers if h[0].lower() not in dropped)
            url = str(target)
            if response.status == 303 or (response.status in (301, 302) and method == "POST"):
                method, body = "GET", b""
        raise HostCallError("limit-exceeded", f"http: more than {self._max_redirects} redirects")

    def _send(
        self,
        method: str,
        url: str,
        headers: Headers,
        body: bytes,
        deadline: float | None,
        cut: Callable[[], bool],
    ) -> HttpResponse:
        timeout = self._timeout
        if deadline is not None:
            timeout = min(timeout, deadline - time.monotonic())
            if timeout <= 0:
                raise HostCallError(
                    "timeout",
                    f"http: {method} {redact_url(url)}: no time left before the module's deadline",
                )
        try:
            with self._client.stream(
                method, url, headers=list(headers), content=body, timeout=timeout
            ) as resp:
                chunks: list[bytes] = []
                size = 0
                for chunk in resp.iter_bytes():
                    # httpx's timeout bounds each read: a body sent a byte at a
                    # time would never trip it, so the deadline bounds the whole.
                    if deadline is not None and time.monotonic() > deadline:
                        raise httpx.ReadTimeout("the module's deadline passed mid-body")
                    if cut():
                        raise HostCallError(
                            "timeout", f"http: {method} {redact_url(url)}: the engine is stopping"
                        )
                    size += len(chunk)
                    if size > self._max_body:
                        raise HostCallError(
                            "limit-exceeded",
                            f"http: response from {redact_url(url)!r} is larger than "
                            f"{self._max_body} bytes",
                        )
                    chunks.append(chunk)
                return HttpResponse(
                    resp.status_code, tuple(resp.headers.multi_items()), b"".join(chunks)
                )
        except httpx.TimeoutException:
            raise HostCallError(
                "timeout", f"http: {method} {redact_url(url)} timed out after {timeout:.3g}s"
            ) from None
        except httpx.InvalidURL:
            raise HostCallError("invalid-input", f"http: invalid url {redact_url(url)}") from None
        except httpx.HTTPError as exc:
            raise HostCallError(
                "unavailable",
                f"http: {method} {redact_url(url)} failed: {error_reason(exc, MAX_ERROR_CHARS)}",
            ) from None
