"""A real local HTTP server (stdlib, in a thread) with fixed routes; records what it served."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Route = tuple[int, dict[str, str], bytes]
"""(status, headers, body)"""


@dataclass
class LocalServer:
    host: str
    port: int
    hits: list[str] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)
    """The bodies of the POSTs served, in order."""
    release: threading.Event = field(default_factory=threading.Event)

    @property
    def authority(self) -> str:
        return f"{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return f"http://{self.authority}{path}"


@contextmanager
def local_http_server(
    routes: dict[str, Route],
    stalled: frozenset[str] = frozenset(),
    dripping: frozenset[str] = frozenset(),
) -> Iterator[LocalServer]:
    """Serve ``routes`` on 127.0.0.1 (a free port); unknown paths are 404.

    A path in ``stalled`` answers only once the server is closed (or after 60 s).
    A path in ``dripping`` sends its body one byte every 50 ms until the server
    is closed (each read is quick; only a bound on the whole fetch ends it).
    """
    server = LocalServer("127.0.0.1", 0)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            server.hits.append(self.path)
            server.headers.append({k.lower(): v for k, v in self.headers.items()})
            if self.path in stalled:
                server.release.wait(60)
            status, headers, body = routes.get(self.path, (404, {}, b"no such route"))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.path not in dripping:
                self.wfile.write(body)
                return
            for byte in body:
                if server.release.wait(0.05):
                    return
                self.wfile.write(bytes([byte]))
                self.wfile.flush()

        def do_POST(self) -> None:
            server.bodies.append(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            self.do_GET()

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep test output clean

    httpd = ThreadingHTTPServer((server.host, 0), Handler)
    server.port = httpd.server_address[1]
    thread = threading.Thread(
        target=httpd.serve_forever, args=(0.05,), name="test-http", daemon=True
    )
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
