"""A publication's module, fetched into its own directory through the supply chain.

Why a directory per version (``<dir>/<name>/<version>-<pin prefix>/``): the
engine loads and reloads modules from directories, and a rollback after a
reorg needs the previous version where it was. The ``uri`` names a module,
not only a component: an ``oci://`` reference pushed with ``cove module push``
(its ``cove.toml`` layer, then the component layer whose digest is the pin),
or an ``http(s)://`` URL of a ``cove.toml`` whose ``component`` and ``sources``
are read relative to that URL. The component goes through the ``Resolver``:
the content store first, so a component already there is not fetched again.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import time
from pathlib import Path
from urllib.parse import urljoin

import requests

from .._manifest import MANIFEST_NAME, load_manifest
from .._redact import error_reason, redact_url
from .._supply._fetch import FetchLimits, fetch_url
from .._supply._oci import MANIFEST_MEDIA_TYPE, Registry, read_blob, read_manifest
from .._supply._resolve import Resolver
from ..errors import (
    CoveError,
    FetchError,
    PublicationError,
    PublicationUnavailable,
    SourceFailure,
)
from ._publication import Publication


def fetch_module(publication: Publication, root: Path, resolver: Resolver) -> Path:
    """The directory holding the published module, its pin checked; ``PublicationError``
    (naming the module, its version and the uri) when it cannot be had or is not the one
    published."""
    pub = publication
    target = root / pub.name / f"{pub.version}-{pub.sha256[7:19]}"
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".fetch-", dir=root))
    try:
        (staging / MANIFEST_NAME).write_bytes(_manifest_bytes(pub, resolver.limits))
        manifest = load_manifest(staging)
        _check(pub, manifest.name, manifest.module.version, manifest.module.sha256)
        sources = _component_sources(pub, manifest.module.component, manifest.module.sources)
        try:
            wasm = resolver.read(pub.sha256, sources)
        except FetchError as exc:
            raise (_refused if exc.mismatch else _unavailable)(pub, str(exc)) from None
        if manifest.module.component is not None:
            component = manifest.component_path
            if not component.is_relative_to(staging.resolve()):
                raise _refused(
                    pub, f"its component {manifest.module.component} is outside the module"
                )
            component.parent.mkdir(parents=True, exist_ok=True)
            component.write_bytes(wasm)
        if target.exists():
            if (target / MANIFEST_NAME).read_bytes() == (staging / MANIFEST_NAME).read_bytes():
                return target  # published again: the module may be running from it
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging.rename(target)
        return target
    except PublicationError:
        raise
    except CoveError as exc:
        # The staging directory is gone once this returns: name the uri instead.
        where = _shown(pub)
        reason = str(exc).replace(str(staging.resolve() / MANIFEST_NAME), where)
        raise _refused(pub, reason.replace(str(staging / MANIFEST_NAME), where)) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _check(pub: Publication, name: str, version: str, pin: str | None) -> None:
    if name != pub.name:
        raise _refused(pub, f"its cove.toml names the module {name!r}")
    if version != pub.version:
        raise _refused(pub, f"its cove.toml has version {version}")
    if pin != pub.sha256:
        raise _refused(
            pub, f"its cove.toml pins {pin}, the publication says {pub.sha256}; not loaded"
        )


def _manifest_bytes(pub: Publication, limits: FetchLimits) -> bytes:
    try:
        if pub.uri.startswith("oci://"):
            return _oci_manifest(pub, limits)
        if pub.uri.startswith(("https://", "http://")):
            return fetch_url(pub.uri, limits)
    except SourceFailure as exc:
        raise _unavailable(pub, f"its cove.toml could not be fetched: {exc}") from None
    except requests.RequestException as exc:
        reason = error_reason(exc)
        raise _unavailable(pub, f"its cove.toml could not be fetched: {reason}") from None
    except ValueError as exc:
        raise _refused(pub, f"its cove.toml could not be fetched: {error_reason(exc)}") from None
    raise _refused(pub, "the uri is neither oci:// nor http(s)://")


def _oci_manifest(pub: Publication, limits: FetchLimits) -> bytes:
    """Its cove.toml layer; refused (not fetched again) when the image is not a module."""
    registry = Registry(pub.uri, limits.timeout_s)
    layers = read_manifest(registry).get("layers") or []
    layer = next((x for x in layers if x.get("mediaType") == MANIFEST_MEDIA_TYPE), None)
    if layer is None:
        raise _refused(pub, f"not a cove module (no {MANIFEST_MEDIA_TYPE} layer)")
    digest = str(layer["digest"])
    data = read_blob(registry, digest, limits, time.monotonic() + limits.timeout_s)
    if "sha256:" + hashlib.sha256(data).hexdigest() != digest:
        raise _refused(pub, f"its cove.toml blob {digest} does not hash to its digest")
    return data


def _component_sources(pub: Publication, component: str | None, sources: list[str]) -> list[str]:
    """An OCI module's component is its layer; an http(s) one's are the manifest's
    ``component`` and ``sources``, relative ones read against the manifest's URL."""
    if pub.uri.startswith("oci://"):
        return [pub.uri]
    named = ([] if component is None else [component]) + sources
    return [urljoin(pub.uri, s) for s in named]


def _shown(pub: Publication) -> str:
    return pub.uri if pub.uri.startswith("oci://") else redact_url(pub.uri)


def _unavailable(pub: Publication, reason: str) -> PublicationError:
    return PublicationUnavailable(
        pub.name,
        f"publication of {pub.version} from {pub.publisher} ({_shown(pub)}) "
        f"cannot be fetched now: {reason}",
    )


def _refused(pub: Publication, reason: str) -> PublicationError:
    return PublicationError(
        pub.name,
        f"publication of {pub.version} from {pub.publisher} ({_shown(pub)}) refused: {reason}",
    )
