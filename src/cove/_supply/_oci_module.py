"""``cove module push`` and ``pull``: a module as an OCI artifact of two layers.

The layers are its ``cove.toml`` and its component, each with a media type of
cove's own, so a pull knows which is which whatever the file names. The
component layer's digest is the module's pin, which is how an ``oci://``
source of that module finds it (``_oci.fetch_layer``).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from .._manifest import MANIFEST_NAME, Manifest, load_manifest, read_pinned_component
from .._redact import error_reason
from ..errors import CoveError, RegistryError, SourceFailure
from ._fetch import FetchLimits
from ._oci import (
    COMPONENT_MEDIA_TYPE,
    MANIFEST_MEDIA_TYPE,
    Registry,
    fetch_layer,
    read_blob,
    read_manifest,
)
from ._store import ContentStore


@dataclass(frozen=True, slots=True)
class Pushed:
    manifest: Manifest
    repository: str
    """``oci://registry/repo``, without tag."""
    digest: str
    """The image manifest's digest: ``<repository>@<digest>`` names exactly this push."""


@dataclass(frozen=True, slots=True)
class Pulled:
    manifest: Manifest
    component: Path | None
    """Where the component was written; None for a manifest without ``component``."""


def push(directory: Path, reference: str, timeout_s: float) -> Pushed:
    """Upload the module in ``directory`` (its pin checked first) to ``reference``."""
    manifest = load_manifest(directory)
    if manifest.module.kind != "wasm" or manifest.module.component is None:
        raise RegistryError(
            f"{directory / MANIFEST_NAME}: only a wasm module with a local `component` can "
            "be pushed (run `cove build` first)"
        )
    read_pinned_component(manifest)  # never publish bytes the manifest does not pin
    files = [
        f"{manifest.root / MANIFEST_NAME}:{MANIFEST_MEDIA_TYPE}",
        f"{manifest.component_path}:{COMPONENT_MEDIA_TYPE}",
    ]
    try:
        registry = Registry(reference, timeout_s)
        response = registry.push(
            target=registry.container.uri, files=files, disable_path_validation=True, quiet=True
        )
    except (requests.RequestException, ValueError, SourceFailure) as exc:
        raise RegistryError(f"push to {reference} failed: {_reason(exc)}") from None
    digest = response.headers.get("Docker-Content-Digest", "")
    container = registry.container
    return Pushed(manifest, f"oci://{container.registry}/{container.api_prefix}", digest)


def pull(reference: str, into: Path, store: ContentStore, limits: FetchLimits) -> Pulled:
    """Write the module at ``reference`` into ``into``, its component checked against the
    pulled manifest's pin and kept in ``store``."""
    if (into / MANIFEST_NAME).exists():
        raise RegistryError(f"{into / MANIFEST_NAME} exists; pull into another directory")
    try:
        registry = Registry(reference, limits.timeout_s)
        layers = read_manifest(registry).get("layers") or []
        toml_layer = _layer(layers, MANIFEST_MEDIA_TYPE, reference)
        text = _small_blob(registry, toml_layer["digest"], limits)
        into.mkdir(parents=True, exist_ok=True)
        (into / MANIFEST_NAME).write_bytes(text)
        manifest = load_manifest(into)
        pin = manifest.module.sha256
        if pin is None:
            raise RegistryError(f"{reference}: its cove.toml pins no component (module.sha256)")
        wasm = fetch_layer(reference, pin, limits)
    except (requests.RequestException, ValueError, SourceFailure) as exc:
        raise RegistryError(f"pull of {reference} failed: {_reason(exc)}") from None
    except CoveError as exc:
        raise RegistryError(f"pull of {reference} failed: {exc}") from None
    if "sha256:" + hashlib.sha256(wasm).hexdigest() != pin:
        raise RegistryError(f"{reference}: the component layer does not hash to its pin {pin}")
    store.put(pin, wasm)
    target = None
    if manifest.module.component is not None:
        target = manifest.component_path
        if not target.is_relative_to(into.resolve()):
            raise RegistryError(f"{reference}: component {target} is outside {into}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(wasm)
    return Pulled(manifest, target)


def _layer(layers: list[dict[str, Any]], media_type: str, reference: str) -> dict[str, Any]:
    for layer in layers:
        if layer.get("mediaType") == media_type:
            return layer
    raise SourceFailure(f"{reference} is not a cove module (no {media_type} layer)")


def _small_blob(registry: Registry, digest: str, limits: FetchLimits) -> bytes:
    data = read_blob(registry, digest, limits, time.monotonic() + limits.timeout_s)
    if "sha256:" + hashlib.sha256(data).hexdigest() != digest:
        raise SourceFailure(f"blob {digest} does not hash to its digest")
    return data


def _reason(exc: Exception) -> str:
    return str(exc) if isinstance(exc, SourceFailure) else error_reason(exc)
