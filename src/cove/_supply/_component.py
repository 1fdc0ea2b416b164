"""A manifest's component by its pin: the local file alone, or resolved through the store."""

from __future__ import annotations

from .._config import EngineConfig
from .._manifest import Manifest, read_pinned_component
from ..errors import ComponentFetchError, FetchError, HashMismatchError, ModuleLoadError
from ._fetch import FetchLimits
from ._resolve import Resolver
from ._store import ContentStore


def resolver_for(config: EngineConfig) -> Resolver:
    return Resolver(ContentStore(config.store_path), FetchLimits.of(config.fetch))


_FileKey = tuple[str, int, int, int, int]
_KEPT = 4
_verified: dict[_FileKey, tuple[bytes, str]] = {}
"""The last few component files read and checked, by path and stat: 10,000 modules of
one component read and hash its file once, not 10,000 times."""


def read_component(manifest: Manifest, resolver: Resolver) -> bytes:
    """The pinned component's bytes. A manifest with only ``component`` reads that file
    (a stale pin is refused, not hidden by an older copy in the store); one with
    ``sources`` goes through the resolver, its ``component`` the first source.

    A local file whose path, inode, size and modification time are those of one read
    and checked before is not read again: its bytes then are returned (any write to the
    file changes its mtime, and a rebuild its inode)."""
    if not manifest.module.sources:
        return _read_local(manifest)
    pin = manifest.module.sha256
    assert pin is not None  # the manifest's validator requires it with sources
    try:
        return resolver.read(pin, manifest.component_sources)
    except FetchError as exc:
        raise load_error(manifest, exc) from None


def load_error(manifest: Manifest, exc: FetchError) -> ModuleLoadError:
    """A failed resolution as the module's refusal."""
    error = HashMismatchError if exc.mismatch else ComponentFetchError
    return error(manifest.name, str(exc))


def _read_local(manifest: Manifest) -> bytes:
    path = manifest.component_path
    try:
        st = path.stat()
    except OSError:
        return read_pinned_component(manifest)  # refused there, with the path named
    key = (str(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    known = _verified.get(key)
    if known is not None and known[1] == manifest.module.sha256:
        return known[0]
    data = read_pinned_component(manifest)
    if len(_verified) >= _KEPT:
        del _verified[next(iter(_verified))]
    _verified[key] = (data, manifest.module.sha256 or "")
    return data
