"""Signed webhook ingress with a durable ack, against a plain Starlette app; and a module under hostile load.

Part 1: 64 keep-alive connections post Standard-Webhooks-signed requests as
fast as they are answered, for a few seconds, to (a) a cove engine (the 202
comes after the journal is flushed) and (b) a plain Starlette + uvicorn app
doing the same HMAC check and one SQLite insert + commit per request (WAL,
synchronous=FULL, as cove's store). Each server runs in a process of its
own; the load comes from this one.

Part 2: a native module's event latency (publish to handled) while events
arrive at a steady rate, without and with unauthenticated load (1,000
idle connections held open and 12 loops of trajectory queries without a
token) against the same engine, whose trajectory store was filled first;
quiet and loaded spells alternate for a few rounds.

Usage: python bench/webhook_ingress.py [--seconds 5] [--rounds 3] [--part both|ingress|module]
       [--refusal-rate X --refusal-burst N] [--load both|idle|queries] [--against DIR]

``--against DIR`` runs part 1's cove server also from another checkout (say
``git worktree add /tmp/before HEAD~3``), taking turns with this one
``--rounds`` times, so a change is measured before and after in one sitting.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import multiprocessing
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

KEY = b"bench-key-0123456789abcdef012345"
SECRET = "whsec_" + base64.b64encode(KEY).decode()
CONNECTIONS = 64
BODY = json.dumps({"event": "push", "ref": "refs/heads/main", "n": 0}).encode()


# the two servers ----------------------------------------------------------------
def _cove_server(data: str, ready: Any) -> None:
    from cove import load_config
    from cove._app import App
    from cove._gc import freeze_startup_objects
    from cove._loop import run
    from cove._observe._logging import configure_logging
    from cove._sources._webhook_server import WebhookServer

    configure_logging("json", 40)
    os.environ["BENCH_WEBHOOK_SECRET"] = SECRET
    config = Path(data) / "engine.toml"
    config.write_text(
        f'data_dir = "{data}/data"\nmodules = []\n[trajectories]\nenabled = false\n'
        '[webhook]\nport = 0\nsigning = "standard"\nsecret_env = "BENCH_WEBHOOK_SECRET"\n'
    )

    async def main() -> None:
        app = App(load_config(config))
        await app.start()
        server = next(s for s in app.engine.sources if isinstance(s, WebhookServer))
        await server.wait_started()
        freeze_startup_objects()  # as `cove run` does
        ready.send(server.port)
        await asyncio.Event().wait()

    run(main())  # on uvloop, as `cove run`


def _plain_server(data: str, ready: Any) -> None:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    db = sqlite3.connect(Path(data) / "plain.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, body BLOB)")

    async def hook(request: Request) -> Response:
        body = await request.body()
        msg_id = request.headers["webhook-id"]
        stamp = request.headers["webhook-timestamp"]
        mac = hmac.new(KEY, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
        given = request.headers["webhook-signature"].removeprefix("v1,")
        if not hmac.compare_digest(base64.b64encode(mac).decode(), given):
            return JSONResponse({"error": "signature"}, 401)
        db.execute("BEGIN")
        db.execute("INSERT OR IGNORE INTO events VALUES (?, ?)", (msg_id, body))
        db.execute("COMMIT")
        return JSONResponse({"id": msg_id}, 202)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    app = Starlette(routes=[Route("/webhooks/{path:path}", hook, methods=["POST"])])
    config = uvicorn.Config(
        app, log_level="error", access_log=False, http="httptools", lifespan="off"
    )
    ready.send(sock.getsockname()[1])
    uvicorn.Server(config).run(sockets=[sock])


# the load -------------------------------------------------------------------------
def _request(n: int) -> bytes:
    msg_id = f"msg-{os.getpid()}-{n}"
    stamp = str(int(time.time()))
    mac = hmac.new(KEY, f"{msg_id}.{stamp}.".encode() + BODY, hashlib.sha256).digest()
    head = (
        "POST /webhooks/bench HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
        f"content-length: {len(BODY)}\r\nwebhook-id: {msg_id}\r\nwebhook-timestamp: {stamp}\r\n"
        f"webhook-signature: v1,{base64.b64encode(mac).decode()}\r\n\r\n"
    )
    return head.encode() + BODY


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    await reader.readexactly(length)
    return status


async def _hammer(port: int, seconds: float) -> tuple[int, list[float], int]:
    """64 keep-alive connections in a loop: (requests answered 2xx, latencies in s, errors)."""
    counter = iter(range(10**9))
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds

    async def one() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.transport.get_extra_info("socket").setsockopt(
            socket.IPPROTO_TCP, socket.TCP_NODELAY, 1
        )
        while time.perf_counter() < stop:
            request = _request(next(counter))
            started = time.perf_counter()
            writer.write(request)
            status = await _read_response(reader)
            if status >= 300:
                errors += 1
            else:
                latencies.append(time.perf_counter() - started)
        writer.close()

    await asyncio.gather(*(one() for _ in range(CONNECTIONS)))
    return len(latencies), latencies, errors


def _serve(target: Any, data: str) -> tuple[multiprocessing.Process, int]:
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.Process(target=target, args=(data, child), daemon=True)
    process.start()
    return process, parent.recv()


def _p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000)[int(q * 1000) - 1] if len(values) > 1 else 0.0


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its threads (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


Row = tuple[str, float, float, float, int, float]
_OTHER_TREE = """
import sys
sys.path[:0] = [{src!r}, {bench!r}]
import cove
import webhook_ingress
assert cove.__file__.startswith({src!r}), cove.__file__
class Ready:
    def send(self, port): print(port, flush=True)
webhook_ingress._cove_server({data!r}, Ready())
"""


def ingress(seconds: float, against: Path | None = None, rounds: int = 1) -> list[Row]:
    """Plain, then cove; with ``against`` (another checkout), its cove and this one in turns."""
    servers: list[tuple[str, Any]] = [("plain starlette + sqlite", _plain_server), ("cove", None)]
    if against is not None:
        turns = [("cove", None), (f"cove at {against.name}", against)]
        servers = servers[:1] + [t for r in range(rounds) for t in turns[:: 1 if r % 2 else -1]]
    rows = []
    for name, target in servers:
        with tempfile.TemporaryDirectory() as data:
            rows.append(_measure(name, target or _cove_server, data, seconds))
    return rows


def _measure(name: str, target: Any, data: str, seconds: float) -> Row:
    """One server under the load: (name, req/s, p50 s, p99 s, errors, server CPU s per request)."""
    if isinstance(target, Path):  # cove as another checkout's src/ has it
        src = str(target.resolve() / "src")
        script = _OTHER_TREE.format(src=src, bench=str(Path(__file__).parent), data=data)
        env = {**os.environ, "PYTHONPATH": src}
        child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, env=env)
        assert child.stdout is not None
        pid, port, stop = child.pid, int(child.stdout.readline()), child.terminate
    else:
        process, port = _serve(target, data)
        assert process.pid is not None
        pid, stop = process.pid, process.terminate
    try:
        asyncio.run(_hammer(port, 1.0))  # warm-up
        cpu = _cpu_seconds(pid)
        count, latencies, errors = asyncio.run(_hammer(port, seconds))
        cpu = _cpu_seconds(pid) - cpu
    finally:
        stop()
        os.waitpid(pid, 0)
    rate, p50, p99 = count / seconds, _p(latencies, 0.5), _p(latencies, 0.99)
    return name, rate, p50, p99, errors, cpu / max(count, 1)


# part 2: a module under unauthenticated load ------------------------------------------
def _hostile(port: int, stop: Any, load: str) -> None:
    """1,000 idle connections (re-opened when closed) and 12 loops of tokenless queries."""

    async def idle() -> None:
        held: list[socket.socket] = []
        while not stop.is_set():
            held = [s for s in held if _open(s)]
            while len(held) < 1000:
                try:
                    held.append(socket.create_connection(("127.0.0.1", port), timeout=1))
                except OSError:
                    break
            await asyncio.sleep(0.5)

    async def queries() -> None:
        while not stop.is_set():
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(
                    b"GET /v1/trajectories?outcome=skipped&limit=1000 HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n"
                )
                await _read_response(reader)
                writer.close()
            except (OSError, asyncio.IncompleteReadError, ValueError):
                await asyncio.sleep(0.05)

    async def main() -> None:
        loops = [idle()] if load != "queries" else []
        loops += [queries() for _ in range(12)] if load != "idle" else []
        await asyncio.gather(*loops)

    asyncio.run(main())


def _open(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        return sock.recv(1) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


async def _module_latency(
    seconds: float, rounds: int, refusal_rate: float, refusal_burst: int, load: str
) -> tuple[list[float], list[float]]:
    from bench._common import trivial_module
    from cove import Custom, Event, load_config
    from cove._app import App
    from cove._gc import freeze_startup_objects
    from cove._observe._logging import configure_logging

    configure_logging("json", 40)
    with tempfile.TemporaryDirectory() as data:
        module = trivial_module(Path(data), "trivial")
        config = Path(data) / "engine.toml"
        config.write_text(
            f'data_dir = "{data}/data"\nmodules = ["{module}"]\n'
            '[trajectories]\nflush_interval = "50ms"\n'
            '[control]\nport = 0\ntoken_env = "BENCH_CONTROL_TOKEN"\n'
            f"[listeners]\nrefusal_rate = {refusal_rate}\nrefusal_burst = {refusal_burst}\n"
        )
        os.environ["BENCH_CONTROL_TOKEN"] = "bench-token"
        sent: dict[str, float] = {}
        handled: dict[str, float] = {}
        app = App(
            load_config(config),
            on_trajectory=lambda t: handled.setdefault(t.event_id, time.perf_counter()),
        )
        await app.start()
        freeze_startup_objects()  # as `cove run` does
        engine = app.engine
        for _ in range(200):  # fill the trajectory store: what the queries would scan
            await engine.publish([Event(Custom("bench.fill", "", "{}")) for _ in range(250)])
        await asyncio.sleep(1)
        assert app.control is not None and app.control.api is not None

        async def steady() -> list[float]:
            ids = []
            stop = time.perf_counter() + seconds
            while time.perf_counter() < stop:
                event = Event(Custom("bench.tick", "", "{}"))
                sent[event.id] = time.perf_counter()
                ids.append(event.id)
                await engine.publish([event])
                await asyncio.sleep(0.01)
            await asyncio.sleep(1)
            return [handled[i] - sent[i] for i in ids if i in handled]

        quiet: list[float] = []
        loaded: list[float] = []
        for _ in range(rounds):  # alternated, so drift in the machine's other load hits both
            quiet += await steady()
            stop = multiprocessing.Event()
            loader = multiprocessing.Process(
                target=_hostile, args=(app.control.api.port, stop, load), daemon=True
            )
            loader.start()
            await asyncio.sleep(2)  # let the idle connections and the query loops build up
            loaded += await steady()
            stop.set()
            loader.join(timeout=10)
            loader.kill()
            await asyncio.sleep(1)  # the loader is gone; its connections closed with it
        await app.stop(drain_seconds=2)
    return quiet, loaded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="part 2: quiet and loaded spells, alternated; with --against, part 1's turns too",
    )
    parser.add_argument(
        "--against",
        type=Path,
        help="part 1: also run cove from this other checkout (before/after), in turns",
    )
    parser.add_argument("--part", choices=("both", "ingress", "module"), default="both")
    parser.add_argument(
        "--refusal-rate",
        type=float,
        default=5.0,
        help="part 2: [listeners] refusal_rate (a huge one with --refusal-burst: no throttle)",
    )
    parser.add_argument("--refusal-burst", type=int, default=20)
    parser.add_argument(
        "--load",
        choices=("both", "idle", "queries"),
        default="both",
        help="part 2: the idle connections, the query loops, or both",
    )
    args = parser.parse_args()
    if args.part != "module":
        _print_ingress(args.seconds, args.against, args.rounds)
    if args.part != "ingress":
        _print_module(args.seconds, args.rounds, args.refusal_rate, args.refusal_burst, args.load)


def _print_ingress(seconds: float, against: Path | None, rounds: int) -> None:
    rows = ingress(seconds, against, rounds)
    base = rows[0][1]
    print(
        f"\nSigned webhook ingress, durable ack, {CONNECTIONS} keep-alive connections, {seconds:g} s"
    )
    print("(server CPU per request: what one free core would allow, whatever else runs here)")
    print(
        f"{'server':<32}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}"
        f"{'vs plain':>10}{'CPU us/req':>12}"
    )
    for name, rate, p50, p99, errors, cpu in rows:
        print(
            f"{name:<32}{rate:>10.0f}{p50 * 1000:>10.2f}{p99 * 1000:>10.2f}{errors:>8}"
            f"{rate / base:>9.2f}x{cpu * 1e6:>12.0f}"
        )


def _print_module(
    seconds: float, rounds: int, refusal_rate: float, refusal_burst: int, load: str
) -> None:
    from cove._loop import run

    quiet, loaded = run(_module_latency(seconds, rounds, refusal_rate, refusal_burst, load))
    what = {
        "both": "1,000 idle conns + 12 tokenless query loops",
        "idle": "1,000 idle conns",
        "queries": "12 tokenless query loops",
    }[load]
    q99, l99 = _p(quiet, 0.99), _p(loaded, 0.99)
    print(
        f"\nA module's event latency (publish to handled), 100 events/s, "
        f"{rounds} x {seconds:g} s quiet and loaded, alternated; "
        f"refusal_rate {refusal_rate:g}, refusal_burst {refusal_burst}"
    )
    print(f"{'load':<44}{'events':>8}{'p50 ms':>10}{'p99 ms':>10}{'p99 ratio':>11}")
    print(
        f"{'none':<44}{len(quiet):>8}{_p(quiet, 0.5) * 1000:>10.2f}{q99 * 1000:>10.2f}{1:>10.2f}x"
    )
    print(
        f"{what:<44}{len(loaded):>8}"
        f"{_p(loaded, 0.5) * 1000:>10.2f}{l99 * 1000:>10.2f}{l99 / q99:>10.2f}x"
    )


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main()
