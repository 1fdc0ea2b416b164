"""Names in the module file view: any state key as one path segment, and back.

A state key may hold ``/``, ``?``, ``%``, spaces, newlines or be ``..``; as a
file name it must be one segment that survives a URL (HTTP path, ``cove://``
URI) untouched. Each segment is percent-encoded as UTF-8, every byte outside
RFC 3986's unreserved set escaped; ``.`` and ``..`` are escaped whole (clients
would resolve them as dot segments), and the empty key is the lone ``%``,
which no other name encodes to. The same text is then the URL path, the MCP
URI and the ``cove fs`` argument: one layer of encoding, never two.
"""

from __future__ import annotations

import re
import urllib.parse
from typing import Final

from ..errors import FilePathError

KIND_HEADER: Final = "Cove-Fs-Type"
"""The HTTP answer's ``dir`` or ``file``: a JSON file is never mistaken for a listing."""
EMPTY: Final = "%"
"""The segment of the empty name."""
_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_DOTS = {".": "%2E", "..": "%2E%2E"}


def encode_name(name: str) -> str:
    """``name`` as one path segment (no ``/``, never ``.`` or ``..``)."""
    if not name:
        return EMPTY
    return _DOTS.get(name) or urllib.parse.quote(name, safe="")


def decode_name(segment: str, path: str = "") -> str:
    """The name a segment encodes; ``FilePathError`` (not missing) when it is malformed."""
    if segment == EMPTY:
        return ""
    if "%" in _ESCAPE.sub("", segment):
        raise FilePathError(path or segment, f"{segment!r} is not percent-encoded", missing=False)
    try:
        return urllib.parse.unquote(segment, errors="strict")
    except UnicodeDecodeError:
        raise FilePathError(path or segment, f"{segment!r} is not UTF-8", missing=False) from None


def split_path(path: str) -> list[str]:
    """A view path (``module/state/a%2Fb``; leading and trailing ``/`` ignored) as names."""
    inner = path.strip("/")
    if not inner:
        return []
    return [decode_name(segment, path) for segment in inner.split("/")]


def join_path(names: list[str]) -> str:
    """Names as a view path, each encoded: ``split_path(join_path(n)) == n``."""
    return "/".join(encode_name(name) for name in names)
