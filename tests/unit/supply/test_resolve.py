"""Resolution of a pin: the store first, then each source in order, verified, then stored.

Sources are real: files, and a real HTTP server on loopback (also as the IPFS gateway).
"""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from cove._supply._fetch import FetchLimits
from cove._supply._resolve import Resolver
from cove._supply._store import ContentStore, sha256_pin
from cove.errors import FetchError
from tests.helpers.http_server import local_http_server

COMPONENT = b"\0asm\x0d\0\x01\0" + b"component body " * 64
PIN = sha256_pin(COMPONENT)
OTHER = b"\0asm another build"


def _resolver(tmp_path: Path, **limits: object) -> Resolver:
    settings = {"max_bytes": 1 << 20, "timeout_s": 5.0, "ipfs_gateway": None} | limits
    return Resolver(ContentStore(tmp_path / "store"), FetchLimits(**settings))  # type: ignore[arg-type]


def _dead_url() -> str:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/c.wasm"


def test_a_source_is_fetched_verified_and_kept_in_the_store(tmp_path: Path) -> None:
    resolver = _resolver(tmp_path)
    with local_http_server({"/c.wasm": (200, {}, COMPONENT)}) as server:
        path = resolver.resolve(PIN, [server.url("/c.wasm")])
    assert path.read_bytes() == COMPONENT
    assert resolver.store.get(PIN) == COMPONENT


def test_the_store_answers_before_any_source_so_a_start_works_offline(tmp_path: Path) -> None:
    resolver = _resolver(tmp_path)
    resolver.store.put(PIN, COMPONENT)
    with local_http_server({"/c.wasm": (200, {}, COMPONENT)}) as server:
        assert resolver.read(PIN, [server.url("/c.wasm")]) == COMPONENT
    assert server.hits == []
    assert resolver.read(PIN, [_dead_url()]) == COMPONENT


def test_a_mismatch_is_refused_naming_both_hashes_and_the_source(tmp_path: Path) -> None:
    resolver = _resolver(tmp_path)
    with local_http_server({"/c.wasm": (200, {}, OTHER)}) as server:
        with pytest.raises(FetchError) as caught:
            resolver.read(PIN, [server.url("/c.wasm")])
    message = str(caught.value)
    assert caught.value.mismatch
    assert f"{server.url('/c.wasm')} gave {sha256_pin(OTHER)}, not the pinned {PIN}" in message
    assert resolver.store.get(PIN) is None
    assert not (tmp_path / "store" / "sha256").exists()


def test_a_dead_source_falls_through_to_the_next(tmp_path: Path) -> None:
    resolver = _resolver(tmp_path)
    with local_http_server({"/c.wasm": (200, {}, COMPONENT)}) as server:
        sources = [_dead_url(), str(tmp_path / "missing.wasm"), server.url("/c.wasm")]
        assert resolver.read(PIN, sources) == COMPONENT


def test_when_every_source_fails_each_failure_is_named(tmp_path: Path) -> None:
    resolver = _resolver(tmp_path)
    dead = _dead_url()
    missing = tmp_path / "missing.wasm"
    with local_http_server({}) as server:
        with pytest.raises(FetchError) as caught:
            resolver.read(PIN, [dead, str(missing), server.url("/gone.wasm")])
    message = str(caught.value)
    assert not caught.value.mismatch
    assert f"{PIN} is not in the content store" in message
    assert f"{dead}: ConnectError" in message
    assert f"{missing}: cannot read it (No such file or directory)" in message
    assert f"{server.url('/gone.wasm')}: HTTP 404" in message


def test_an_oversize_source_is_cut_off_and_the_next_tried(tmp_path: Path) -> None:
    resolver = _resolver(tmp_path, max_bytes=len(COMPONENT) - 1)
    big = tmp_path / "big.wasm"
    big.write_bytes(COMPONENT)
    with local_http_server({"/c.wasm": (200, {}, COMPONENT)}) as server:
        with pytest.raises(FetchError) as caught:
            resolver.read(PIN, [server.url("/c.wasm"), str(big)])
    over = f"{len(COMPONENT)} bytes, over [fetch] max_size ({len(COMPONENT) - 1} bytes)"
    assert f"{server.url('/c.wasm')}: {over}" in str(caught.value)
    assert f"{big}: {over}" in str(caught.value)


def test_a_source_that_drips_is_cut_at_the_timeout(tmp_path: Path) -> None:
    resolver = _resolver(tmp_path, timeout_s=0.5)
    with local_http_server({"/c.wasm": (200, {}, COMPONENT)}, dripping=frozenset({"/c.wasm"})) as s:
        with pytest.raises(FetchError, match=r"not done within \[fetch\] timeout \(0.5s\)"):
            resolver.read(PIN, [s.url("/c.wasm")])


def test_an_ipfs_source_is_fetched_through_the_gateway_and_checked_against_the_pin(
    tmp_path: Path,
) -> None:
    cid = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"
    routes = {f"/ipfs/{cid}": (200, {}, COMPONENT), f"/ipfs/{cid}x": (200, {}, OTHER)}
    with local_http_server(routes) as gateway:
        resolver = _resolver(tmp_path, ipfs_gateway=gateway.url("/"))
        with pytest.raises(FetchError, match=f"ipfs://{cid}x gave {sha256_pin(OTHER)}"):
            resolver.read(PIN, [f"ipfs://{cid}x"])
        assert resolver.read(PIN, [f"ipfs://{cid}"]) == COMPONENT
    assert gateway.hits == [f"/ipfs/{cid}x", f"/ipfs/{cid}"]


def test_an_ipfs_source_without_a_gateway_says_so(tmp_path: Path) -> None:
    with pytest.raises(FetchError, match=r"ipfs://bafy: no \[fetch\] ipfs_gateway is configured"):
        _resolver(tmp_path).read(PIN, ["ipfs://bafy"])


def test_a_url_source_is_named_without_its_credentials(tmp_path: Path) -> None:
    with local_http_server({}) as server:
        url = server.url("/c.wasm").replace("http://", "http://user:hunter2@") + "?token=hunter2"
        with pytest.raises(FetchError) as caught:
            _resolver(tmp_path).read(PIN, [url])
    assert "hunter2" not in str(caught.value)
    assert server.url("/c.wasm") in str(caught.value)


def test_an_oversize_body_without_a_length_is_cut_off_as_it_streams(tmp_path: Path) -> None:
    """A chunked answer announces no size: the cap is checked on the bytes as they come."""

    class Chunked(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for _ in range(64):
                chunk = COMPONENT[:512]
                self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Chunked)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/c.wasm"
        with pytest.raises(FetchError, match=r"c.wasm: \d+ bytes, over \[fetch\] max_size \(4096"):
            _resolver(tmp_path, max_bytes=4096).read(PIN, [url])
    finally:
        httpd.shutdown()
        httpd.server_close()
