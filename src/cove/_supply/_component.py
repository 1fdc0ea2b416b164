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


def read_component(manifest: Manifest, resolver: Resolver) -> bytes:
    """The pinned component's bytes. A manifest with only ``component`` reads that file
    (a stale pin is refused, not hidden by an older copy in the store); one with
    ``sources`` goes through the resolver, its ``component`` the first source."""
    if not manifest.module.sources:
        return read_pinned_component(manifest)
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
