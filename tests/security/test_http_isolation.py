"""The shared http client leaks nothing between modules or origins."""

from __future__ import annotations

from cove._capabilities._http import HttpBackend, HttpRequest
from cove._config_runtime import HttpSettings
from tests.helpers.http_server import local_http_server


def test_cookies_set_by_a_server_are_never_sent_back() -> None:
    """One module's session cookie must not ride along on any later request."""
    routes = {
        "/login": (200, {"Set-Cookie": "sid=module-a-secret; Path=/"}, b"ok"),
        "/next": (200, {}, b"ok"),
    }
    backend = HttpBackend(HttpSettings())
    with local_http_server(routes) as server:
        allow = (server.authority,)
        backend.fetch(HttpRequest("GET", server.url("/login")), allow)
        backend.fetch(HttpRequest("GET", server.url("/next")), allow)
    backend.close()
    assert "cookie" not in server.headers[1]


def test_credentials_are_dropped_on_a_redirect_to_another_origin() -> None:
    with local_http_server({"/land": (200, {}, b"landed")}) as other:
        routes = {
            "/away": (302, {"Location": other.url("/land")}, b""),
            "/here": (302, {"Location": "/final"}, b""),
            "/final": (200, {}, b"final"),
        }
        with local_http_server(routes) as origin:
            backend = HttpBackend(HttpSettings())
            allow = (origin.authority, other.authority)
            secret = (("Authorization", "Bearer module-token"),)
            away = backend.fetch(HttpRequest("GET", origin.url("/away"), secret), allow)
            here = backend.fetch(HttpRequest("GET", origin.url("/here"), secret), allow)
            backend.close()
    assert (away.body, here.body) == (b"landed", b"final")
    assert "authorization" not in other.headers[0]
    assert origin.headers[-1]["authorization"] == "Bearer module-token"
