"""OCI artifacts through oras: a component as one layer of an image manifest.

``cove module push`` uploads a module's ``cove.toml`` and its component as two
layers; an ``oci://`` source fetches the layer whose digest is the pin (an
OCI blob's digest *is* its sha256, so the pin finds the layer, and the bytes
are hashed again on arrival: a registry is not trusted to tell the truth).
A registry on a loopback address is spoken to over plain http, any other over
https. One attempt per source (oras' own retries sleep for minutes on a dead
registry), every request bounded by ``[fetch] timeout``.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import oras.container
import oras.provider
import requests
from requests.adapters import HTTPAdapter

from .._config_base import is_loopback
from .._redact import error_reason
from ..errors import SourceFailure
from ._fetch import FetchLimits, too_big

MANIFEST_MEDIA_TYPE = "application/vnd.cove.module.manifest.v1+toml"
COMPONENT_MEDIA_TYPE = "application/vnd.cove.component.v1+wasm"


class _BoundedAdapter(HTTPAdapter):
    """Every request of the session gets the fetch timeout unless it names one."""

    def __init__(self, timeout_s: float) -> None:
        super().__init__()
        self._timeout_s = timeout_s

    def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout_s
        return super().send(request, *args, **kwargs)


class Registry(oras.provider.Registry):  # type: ignore[misc]
    """oras' client with one attempt per request and a timeout on each."""

    def __init__(self, reference: str, timeout_s: float) -> None:
        self.container = parse_reference(reference)
        host = self.container.registry.rpartition(":")[0] or self.container.registry
        insecure = is_loopback(host.strip("[]"))
        backend = _auth_backend(self.container.registry, insecure, timeout_s)
        super().__init__(insecure=insecure, auth_backend=backend)
        adapter = _BoundedAdapter(timeout_s)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.auth.load_configs(self.container)  # credentials of ~/.docker/config.json, if any
        if backend == "basic" and getattr(self.auth, "_basic_auth", None) is None:
            # oras' basic backend without credentials fails with an AttributeError
            raise SourceFailure(
                f"{self.container.registry} asks for credentials (HTTP basic) and "
                "~/.docker/config.json has none for it"
            )

    def do_request(self, *args: Any, **kwargs: Any) -> requests.Response:
        # oras wraps this in a retry that sleeps 3 s, 5 s, 11 s, ... per attempt;
        # the resolver's fall-through to the next source is the retry here.
        return oras.provider.Registry.do_request.__wrapped__(self, *args, **kwargs)  # type: ignore[no-any-return]


def _auth_backend(registry: str, insecure: bool, timeout_s: float) -> str:
    """oras' ``basic`` for a registry that challenges with Basic (htpasswd), else ``token``:
    oras' token backend would take a Basic realm for a token server's URL."""
    scheme = "http" if insecure else "https"
    response = requests.get(f"{scheme}://{registry}/v2/", timeout=timeout_s)
    challenge = response.headers.get("WWW-Authenticate", "")
    return (
        "basic"
        if response.status_code == 401 and challenge.lower().startswith("basic")
        else "token"
    )


def parse_reference(reference: str) -> oras.container.Container:
    """``oci://registry/repo:tag`` or ``…@sha256:…`` as oras' container (registry required)."""
    name = reference.removeprefix("oci://")
    first = name.split("/", 1)[0]
    if "/" not in name or not ("." in first or ":" in first or first == "localhost"):
        raise SourceFailure("not oci://<registry>/<repository>[:tag|@sha256:…]")
    try:
        return oras.container.Container(name)
    except ValueError as exc:
        raise SourceFailure(str(exc)) from None


def fetch_layer(reference: str, pin: str, limits: FetchLimits) -> bytes:
    """The layer of ``reference``'s manifest whose digest is ``pin``."""
    deadline = time.monotonic() + limits.timeout_s
    try:
        registry = Registry(reference, limits.timeout_s)
        manifest = read_manifest(registry)
        layers = manifest.get("layers") or []
        layer = next((item for item in layers if item.get("digest") == pin), None)
        if layer is None:
            found = ", ".join(str(item.get("digest")) for item in layers) or "none"
            raise SourceFailure(f"has no layer {pin} (its layers: {found})", mismatch=True)
        if int(layer.get("size", 0)) > limits.max_bytes:
            raise too_big(int(layer["size"]), limits)
        return read_blob(registry, pin, limits, deadline)
    except (requests.RequestException, ValueError) as exc:  # oras raises ValueError on refusals
        raise SourceFailure(error_reason(exc)) from None


def read_manifest(registry: Registry) -> dict[str, Any]:
    """The image manifest; one fetched by digest must hash to that digest."""
    container = registry.container
    response = registry.do_request(
        f"{registry.prefix}://{container.manifest_url()}",
        "GET",
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
    )
    if response.status_code == 404:
        raise SourceFailure(f"no such manifest ({container.digest or container.tag})")
    if response.status_code != 200:
        raise SourceFailure(f"manifest: HTTP {response.status_code}")
    if container.digest is not None:
        actual = "sha256:" + hashlib.sha256(response.content).hexdigest()
        if actual != container.digest:
            raise SourceFailure(
                f"manifest is {actual}, not the {container.digest} asked for", mismatch=True
            )
    data = response.json()
    if not isinstance(data, dict):
        raise SourceFailure("manifest is not a JSON object")
    return data


def read_blob(registry: Registry, digest: str, limits: FetchLimits, deadline: float) -> bytes:
    with registry.get_blob(registry.container, digest, stream=True) as response:
        if response.status_code != 200:
            raise SourceFailure(f"blob {digest}: HTTP {response.status_code}")
        body = bytearray()
        for chunk in response.iter_content(chunk_size=65536):
            body += chunk
            if len(body) > limits.max_bytes:
                raise too_big(len(body), limits)
            if time.monotonic() > deadline:
                raise SourceFailure(f"not done within [fetch] timeout ({limits.timeout_s:g}s)")
        return bytes(body)
