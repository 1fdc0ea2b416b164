"""URLs as any output shows them: credentials removed.

Every error message, log line, trajectory record and status field that names
a URL a module or an operator gave goes through ``redact_url``: userinfo
(``user:password@``) and the query and fragment (where API keys ride) are
removed, and what is kept is cut to a bound, so a URL never leaks a secret
nor floods an output. Kept: scheme, host, port and path.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, urlsplit

_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")

MAX_SHOWN = 512
"""Characters of a redacted URL that any output shows."""

MAX_REASON = 2048
"""Characters of a library's error message that an error text quotes."""


def _split(url: str) -> tuple[SplitResult, str] | None:
    """The URL's parts and its ``host[:port]`` (an IPv6 literal bracketed); None if unparsable."""
    try:
        parts = urlsplit(url[: 4 * MAX_SHOWN])
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:
        return None
    if not host:
        return None
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    return parts, host + port


def redact_url(url: str) -> str:
    """``scheme://host[:port]/path``, with ``?…`` where a query was removed."""
    split = _split(url)
    if split is None or not split[0].scheme:
        return "(unparsable url)"
    parts, host = split
    removed = "?…" if parts.query else ""
    shown = f"{parts.scheme}://{host}{parts.path}"
    if len(shown) > MAX_SHOWN:
        shown = shown[:MAX_SHOWN] + "…"
    return shown + removed


def redact_urls_in(text: str) -> str:
    """``text`` (a library's error message, say) with every URL in it redacted."""
    return _URL_IN_TEXT.sub(lambda match: redact_url(match.group()), text)


def error_reason(exc: BaseException, max_chars: int = MAX_REASON) -> str:
    """``Type: message`` of a library's exception, cut and with every URL in it
    redacted: an HTTP client's message may quote the request URL, credentials and all."""
    return f"{type(exc).__name__}: {redact_urls_in(str(exc)[:max_chars])}"


def url_host(url: str) -> str:
    """``host[:port]`` alone: for a provider's URL, whose path may itself be the key (``/v3/<key>``)."""
    split = _split(url)
    return "(unparsable url)" if split is None else split[1]


def hosts_in(text: str) -> str:
    """``text`` with every URL in it cut to its host and port."""
    return _URL_IN_TEXT.sub(lambda match: url_host(match.group()), text)
