"""A JSON-RPC proxy in front of anvil that a test can turn bad: garbage, malformed answers, 429,
or a lost answer to a transaction the node took.

A real HTTP server on loopback (stdlib, in a thread): in ``pass`` mode it
forwards each POST to the node and returns its answer, so the source talks
to the real chain; the other modes answer as a broken or rate-limiting
provider would.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal

Mode = Literal["pass", "garbage", "malformed", "429", "lose-sends"]


@dataclass
class RpcProxy:
    port: int
    mode: Mode = "pass"
    served: int = 0
    lost_sends: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _malformed(body: bytes) -> bytes:
    """Well-formed JSON-RPC envelopes whose results have the wrong shape."""
    request = json.loads(body)
    calls = request if isinstance(request, list) else [request]
    answers = [{"jsonrpc": "2.0", "id": c["id"], "result": {"number": "soon"}} for c in calls]
    return json.dumps(answers if isinstance(request, list) else answers[0]).encode()


@contextmanager
def rpc_proxy(target: str) -> Iterator[RpcProxy]:
    """Serve on a free loopback port, forwarding to ``target`` (an anvil's HTTP URL)."""
    proxy = RpcProxy(0)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            proxy.served += 1
            status, answer = 200, b""
            if proxy.mode in ("pass", "lose-sends"):
                forward = urllib.request.Request(target, body, {"content-type": "application/json"})
                with urllib.request.urlopen(forward, timeout=10) as response:
                    answer = response.read()
                if proxy.mode == "lose-sends" and b"eth_sendRawTransaction" in body:
                    # The node took the transaction; its answer is lost on the way back.
                    proxy.lost_sends += 1
                    status, answer = 502, b"<html>502 bad gateway</html>"
            elif proxy.mode == "garbage":
                answer = b"<html>502 upstream confused</html>"
            elif proxy.mode == "malformed":
                answer = _malformed(body)
            else:
                status, answer = 429, b'{"error": "too many requests"}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the tests assert on what was served, not on a log."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    proxy.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
