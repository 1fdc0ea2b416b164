"""The engine's http allowlist rule, restated (the SDK may not import cove).

A test in cove's suite checks this against the engine's own function.
"""

from urllib.parse import urlsplit


def host_allowed(url: str, patterns: tuple[str, ...]) -> bool:
    """True when the URL's host (and port, if a pattern names one) is allowed."""
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


def _matches(host: str, port: int, pattern: str) -> bool:
    if pattern == "*":
        return True
    pattern_host, _, pattern_port = pattern.rpartition(":")
    if not pattern_host or not (pattern_port.isascii() and pattern_port.isdigit()):
        pattern_host, pattern_port = pattern, ""
    if pattern_port and int(pattern_port) != port:
        return False
    if pattern_host.startswith("["):
        pattern_host = pattern_host.strip("[]")
    if pattern_host.startswith("*."):
        return host.endswith(pattern_host[1:])
    return host == pattern_host
