"""Secret references in a module's http requests, filled in by the host.

A module writes ``{{secret:<name>}}`` in a header value or in the url's path,
query or fragment; the host checks the allowlist against the request as the
module wrote it, then puts the value in. The module only ever holds the
reference; any error text the request produces is scrubbed back to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

from .._config import EngineConfig
from .._config_secrets import read_secret
from .._redact import redact_url
from ..errors import HostCallError
from ._http import HttpRequest
from ._http_allow import host_allowed

REFERENCE = re.compile(r"\{\{secret:([^{}]*)\}\}")


@dataclass(frozen=True, slots=True)
class ModuleSecrets:
    """The values of the secrets one module was granted, by name."""

    module: str
    values: dict[str, str] = field(default_factory=dict, repr=False)

    def fill(
        self, request: HttpRequest, allow: tuple[str, ...]
    ) -> tuple[HttpRequest, frozenset[str]]:
        """``request`` with its references filled in, and the names of headers now holding one."""
        if REFERENCE.search(request.url):
            parts = urlsplit(request.url)
            if REFERENCE.search(parts.scheme + "://" + parts.netloc):
                raise HostCallError(
                    "invalid-input",
                    "http: a secret reference may stand only in the url's path, query or fragment",
                )
        if not host_allowed(request.url, allow):
            raise HostCallError(
                "denied", f"http: {redact_url(request.url)!r} is not in the module's http allowlist"
            )
        url = REFERENCE.sub(lambda m: quote(self._value(m.group(1)), safe=""), request.url)
        headers, sensitive = [], set()
        for name, value in request.headers:
            if REFERENCE.search(name):
                raise HostCallError(
                    "invalid-input", "http: a secret reference may stand only in a header value"
                )
            filled = REFERENCE.sub(lambda m: self._value(m.group(1)), value)
            if filled != value:
                sensitive.add(name.lower())
            headers.append((name, filled))
        return HttpRequest(request.method, url, tuple(headers), request.body), frozenset(sensitive)

    def _value(self, name: str) -> str:
        value = self.values.get(name)
        if value is None:
            raise HostCallError(
                "denied",
                f"http: secret {name!r} is not granted to module {self.module!r} "
                f"(engine config [overrides.{self.module}] secrets)",
            )
        return value

    def scrub(self, text: str) -> str:
        """``text`` with every granted value (plain or url-quoted) put back as its reference."""
        for name, value in self.values.items():
            for form in {value, quote(value, safe="")}:
                text = text.replace(form, "{{secret:" + name + "}}")
        return text


def uses_secrets(request: HttpRequest) -> bool:
    return bool(REFERENCE.search(request.url)) or any(
        REFERENCE.search(name) or REFERENCE.search(value) for name, value in request.headers
    )


def module_secrets(module: str, config: EngineConfig) -> ModuleSecrets:
    """Read the secrets ``module`` is granted; a missing one refuses the module's load."""
    overrides = config.overrides.get(module)
    names = overrides.secrets if overrides is not None else []
    values = {name: read_secret(name, config.secrets[name], config.source) for name in names}
    return ModuleSecrets(module, values)
