"""Filling ``{{secret:<name>}}`` references and scrubbing values back out of error text."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from cove._capabilities._http import HttpRequest
from cove._capabilities._secrets import ModuleSecrets, uses_secrets
from cove.errors import HostCallError

ALLOW = ("api.example",)
# Scrubbing replaces every occurrence: a value that also occurs in the text
# around it is over-scrubbed (safe, but not this property), so it is assumed away.
VALUES = st.text(st.characters(codec="utf-8", exclude_characters="\r\n\x00"), min_size=8)


@given(VALUES)
def test_a_header_reference_is_filled_and_scrubbed_back(value: str) -> None:
    assume(value not in "sent t {{secret:key}}")
    secrets = ModuleSecrets("m", {"key": value})
    request = HttpRequest("GET", "https://api.example/x", (("X-Key", "t {{secret:key}}"),))
    filled, sensitive = secrets.fill(request, ALLOW)
    assert (("X-Key", f"t {value}"),) == filled.headers
    assert frozenset({"x-key"}) == sensitive
    assert "sent t {{secret:key}}" == secrets.scrub(f"sent t {value}")


@given(VALUES)
def test_a_url_reference_is_filled_quoted_and_scrubbed_back(value: str) -> None:
    secrets = ModuleSecrets("m", {"key": value})
    request = HttpRequest("GET", "https://api.example/p/{{secret:key}}?q={{secret:key}}")
    assume(not any(form in request.url for form in (value, quote(value, safe=""))))
    filled, sensitive = secrets.fill(request, ALLOW)
    assert not uses_secrets(filled) and frozenset() == sensitive
    assert request.url == secrets.scrub(filled.url)


def test_an_ungranted_reference_is_denied_naming_the_secret() -> None:
    request = HttpRequest("GET", "https://api.example/", (("A", "{{secret:other}}"),))
    with pytest.raises(HostCallError) as raised:
        ModuleSecrets("m", {"key": "v"}).fill(request, ALLOW)
    assert ("denied", "http: secret 'other' is not granted to module 'm'") == (
        raised.value.kind,
        raised.value.message.split(" (")[0],
    )


@pytest.mark.parametrize(
    "url",
    ["https://{{secret:key}}.api.example/", "https://u:{{secret:key}}@api.example/"],
)
def test_a_reference_in_the_authority_is_invalid_input(url: str) -> None:
    with pytest.raises(HostCallError, match="only in the url's path, query or fragment"):
        ModuleSecrets("m", {"key": "v"}).fill(HttpRequest("GET", url), ALLOW)


def test_the_allowlist_is_checked_before_any_value_is_read() -> None:
    request = HttpRequest("GET", "https://elsewhere.example/{{secret:other}}")
    with pytest.raises(HostCallError, match="not in the module's http allowlist"):
        ModuleSecrets("m").fill(request, ALLOW)
