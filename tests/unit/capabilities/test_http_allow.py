"""cove._capabilities._http_allow.host_allowed: URLs against an http allowlist."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from cove._capabilities._http_allow import host_allowed, pattern_covers


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://api.example.com/v1", True),
        ("http://api.example.com", True),
        ("https://API.Example.COM/x", True),
        ("https://api.example.com:8443/x", True),
        ("https://user:pw@api.example.com/x", True),
        ("https://example.com/", False),
        ("https://evil.api.example.com/", False),
        ("https://api.example.com.evil.net/", False),
        ("https://api-example.com/", False),
    ],
)
def test_exact_host_pattern_matches_that_host_on_any_port(url: str, allowed: bool) -> None:
    """``api.example.com`` allows that host only, case-insensitively, any port."""
    assert allowed == host_allowed(url, ("api.example.com",))


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://a.example.com/", True),
        ("https://a.b.example.com/", True),
        ("https://example.com/", False),
        ("https://badexample.com/", False),
        ("https://example.com.evil.net/", False),
    ],
)
def test_wildcard_pattern_matches_subdomains_not_the_apex(url: str, allowed: bool) -> None:
    """``*.example.com`` allows any subdomain, never example.com itself or look-alikes."""
    assert allowed == host_allowed(url, ("*.example.com",))


@pytest.mark.parametrize(
    ("url", "pattern", "allowed"),
    [
        ("http://127.0.0.1:8080/x", "127.0.0.1:8080", True),
        ("http://127.0.0.1:8081/x", "127.0.0.1:8080", False),
        ("http://127.0.0.1/x", "127.0.0.1:8080", False),
        ("http://localhost/x", "localhost:80", True),
        ("https://localhost/x", "localhost:80", False),
        ("https://localhost/x", "localhost:443", True),
        ("http://localhost:443/x", "localhost:443", True),
        ("https://a.example.com:8443/", "*.example.com:8443", True),
        ("https://a.example.com/", "*.example.com:8443", False),
    ],
)
def test_port_pattern_matches_that_port_only(url: str, pattern: str, allowed: bool) -> None:
    """``host:port`` allows only that port; a URL without one uses the scheme's default."""
    assert allowed == host_allowed(url, (pattern,))


@pytest.mark.parametrize(
    "url",
    [
        "ftp://api.example.com/",
        "file:///etc/passwd",
        "ws://api.example.com/",
        "javascript:alert(1)",
        "data:text/plain,hi",
        "//api.example.com/",
        "api.example.com",
    ],
)
def test_non_http_schemes_are_refused_even_with_star(url: str) -> None:
    """Only http and https are ever allowed, whatever the patterns say."""
    assert not host_allowed(url, ("*", "api.example.com"))


@pytest.mark.parametrize(
    "url",
    [
        "",
        "http://",
        "http:///path",
        "http://[::1",
        "http://api.example.com:99999/",
        "http://api.example.com:port/",
        "https://:443/",
    ],
)
def test_garbage_urls_are_refused(url: str) -> None:
    """URLs without a usable host or port are refused, not raised on."""
    assert not host_allowed(url, ("*",))


def test_star_allows_every_http_host() -> None:
    """``*`` allows any host on any port, over http or https."""
    assert host_allowed("http://10.0.0.1:1234/", ("*",))
    assert host_allowed("https://anything.test/", ("*",))


def test_empty_allowlist_allows_nothing() -> None:
    """No patterns, no requests."""
    assert not host_allowed("https://api.example.com/", ())


def test_any_pattern_in_the_list_is_enough() -> None:
    """Patterns are alternatives."""
    patterns = ("a.test", "*.b.test", "c.test:81")
    assert host_allowed("https://x.b.test/", patterns)
    assert host_allowed("http://c.test:81/", patterns)
    assert not host_allowed("http://c.test/", patterns)


@pytest.mark.parametrize(
    ("url", "pattern", "allowed"),
    [
        ("http://[::1]:8080/", "[::1]", True),
        ("http://[::1]:8080/", "[::1]:8080", True),
        ("http://[::1]:8081/", "[::1]:8080", False),
        ("http://[::2]/", "[::1]", False),
    ],
)
def test_ipv6_literal_patterns_are_written_in_brackets(
    url: str, pattern: str, allowed: bool
) -> None:
    """An IPv6 host is written as in a URL, ``[::1]`` or ``[::1]:8080``."""
    assert allowed == host_allowed(url, (pattern,))


@pytest.mark.parametrize("pattern", ["a.test:²", "a.test:١", "a.test:", "a.test:+80", "a.test:-1"])
def test_odd_port_patterns_do_not_raise(pattern: str) -> None:
    """A pattern whose port is not ASCII digits is a host pattern that matches nothing here."""
    assert not host_allowed("http://a.test/", (pattern,))


hosts = st.from_regex(r"[a-z0-9-]{1,10}(\.[a-z0-9-]{1,10}){0,3}", fullmatch=True)
url_like = st.one_of(
    st.text(max_size=40),
    st.builds(
        lambda scheme, host, port, rest: f"{scheme}://{host}{port}{rest}",
        st.sampled_from(["http", "https", "HTTP", "ftp", ""]),
        st.one_of(hosts, st.text(max_size=12)),
        st.one_of(st.just(""), st.integers(-5, 70_000).map(lambda p: f":{p}"), st.text(max_size=4)),
        st.text(max_size=8),
    ),
)
pattern_like = st.one_of(
    hosts,
    hosts.map(lambda h: "*." + h),
    st.builds(
        lambda h, p: f"{h}:{p}",
        hosts,
        st.one_of(st.text(max_size=5), st.text(st.characters(categories=["Nd", "No"]), max_size=3)),
    ),
    st.text(max_size=15),
)


@given(url_like, st.lists(pattern_like, max_size=4))
@example("http://a.test/", ["a.test:²"])
def test_never_raises(url: str, patterns: list[str]) -> None:
    """Any URL against any patterns gives a bool, never an exception."""
    assert host_allowed(url, tuple(patterns)) in (True, False)


@given(hosts, hosts)
def test_wildcard_never_matches_its_apex(sub: str, apex: str) -> None:
    """``*.<apex>`` matches ``<sub>.<apex>`` and never ``<apex>``."""
    assert host_allowed(f"https://{sub}.{apex}/", (f"*.{apex}",))
    assert not host_allowed(f"https://{apex}/", (f"*.{apex}",))


@pytest.mark.parametrize(
    ("outer", "inner", "expected"),
    [
        ("*", "api.example.com", True),
        ("api.example.com", "api.example.com", True),
        ("*.example.com", "api.example.com", True),
        ("*.example.com", "*.api.example.com", True),
        ("*.example.com", "example.com", False),
        ("api.example.com", "*.example.com", False),
        ("api.example.com", "*", False),
        ("127.0.0.1:8080", "127.0.0.1:8080", True),
        ("127.0.0.1:8080", "127.0.0.1", False),
        ("127.0.0.1", "127.0.0.1:9000", True),
        ("*.Example.COM", "API.example.com", True),
    ],
)
def test_pattern_covers_means_every_url_inner_allows_outer_allows(
    outer: str, inner: str, expected: bool
) -> None:
    assert expected == pattern_covers(outer, inner)


_URLS = st.builds(
    "{}://{}{}/".format,
    st.sampled_from(["http", "https"]),
    st.sampled_from(["a.example.com", "example.com", "x.y.example.com", "localhost", "other.org"]),
    st.sampled_from(["", ":443", ":8080", ":80"]),
)


@given(
    st.sampled_from(
        ["a.example.com", "*.example.com", "x.y.example.com:443", "*", "localhost:8080"]
    ),
    _URLS,
)
def test_a_covered_pattern_never_allows_more_than_its_cover(inner: str, url: str) -> None:
    for outer in ("*.example.com", "localhost", "*"):
        if pattern_covers(outer, inner) and host_allowed(url, (inner,)):
            assert host_allowed(url, (outer,))
