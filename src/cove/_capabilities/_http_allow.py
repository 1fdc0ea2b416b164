"""Matching URLs against an http allowlist of host patterns."""

from __future__ import annotations

from urllib.parse import urlsplit


def host_allowed(url: str, patterns: tuple[str, ...]) -> bool:
    """True when the URL's host (and port, if a pattern names one) is allowed.

    Patterns: ``api.example.com`` (any port), ``*.example.com`` (subdomains
    only), ``127.0.0.1:8080`` (that port only), ``[::1]:8080`` (IPv6),
    ``*`` (everything).
    """
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not host:
        return False
    if port is None:
        port = 443 if parts.scheme == "https" else 80
    return any(_matches(host, port, pattern.lower()) for pattern in patterns)


def _split(pattern: str) -> tuple[str, int | None]:
    """``host[:port]`` of a pattern; the port is None when any port matches."""
    pattern_host, _, pattern_port = pattern.rpartition(":")
    # isascii: str.isdigit() is also true for "²", which int() refuses.
    if not pattern_host or not (pattern_port.isascii() and pattern_port.isdigit()):
        pattern_host, pattern_port = pattern, ""
    if pattern_host.startswith("["):
        pattern_host = pattern_host.strip("[]")  # IPv6 literal, written as in a URL
    return pattern_host, int(pattern_port) if pattern_port else None


def _host_matches(host: str, pattern_host: str) -> bool:
    if pattern_host.startswith("*."):
        return host.endswith(pattern_host[1:])
    return host == pattern_host


def _matches(host: str, port: int, pattern: str) -> bool:
    if pattern == "*":
        return True
    pattern_host, pattern_port = _split(pattern)
    if pattern_port is not None and pattern_port != port:
        return False
    return _host_matches(host, pattern_host)


def pattern_covers(outer: str, inner: str) -> bool:
    """True when every URL ``inner`` allows is also allowed by ``outer``.

    The operator's ``http_allow`` narrows a module's allowlist with this:
    ``*.example.com`` covers ``api.example.com`` and ``*.api.example.com``.
    """
    outer, inner = outer.lower(), inner.lower()
    if outer == "*":
        return True
    if inner == "*":
        return False
    outer_host, outer_port = _split(outer)
    inner_host, inner_port = _split(inner)
    if outer_port is not None and inner_port != outer_port:
        return False
    if inner_host.startswith("*."):
        return outer_host.startswith("*.") and inner_host.endswith(outer_host[1:])
    return _host_matches(inner_host, outer_host)
