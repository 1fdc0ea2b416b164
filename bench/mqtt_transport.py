"""The mqtt transport against plain MQTT clients, through one real mosquitto on loopback.

In: a paho publisher sends N QoS 1 publishes as fast as the broker takes
them, to (a) a plain paho subscriber that only counts them (the broker's and
the client library's ceiling) and (b) a cove engine subscribed to the topic,
which journals each durably before its PUBACK. The figure is publishes per
second until the last one arrived (counted, or journaled).

Out: N messages leave (a) a plain aiomqtt client publishing them one after
another, each awaiting its PUBACK (the outbox's shape: one send at a time)
and (b) a cove engine whose native module sends one message per event
through the mqtt transport; the figure is messages per second until a
subscriber got the last one.

Everything runs in this process (the engine's loop, paho's threads); the
broker in its own.

Usage: python bench/mqtt_transport.py [--messages 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import aiomqtt
import paho.mqtt.client as mqtt
from _common import engine_bench_args, print_table, trivial_module

from cove import Custom, Event, load_config
from cove._app import App

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def _broker(directory: Path) -> tuple[subprocess.Popen[bytes], int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    conf = directory / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nuser {getpass.getuser()}\nallow_anonymous true\n"
        "max_inflight_messages 0\nmax_queued_messages 0\n"
    )
    process = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, port
        except OSError:
            time.sleep(0.05)
    raise SystemExit("mosquitto did not start")


class Counter:
    """A plain paho subscriber: counts publishes on a topic (auto-acknowledged)."""

    def __init__(self, port: int, topic: str) -> None:
        self.count = 0
        self.done = threading.Event()
        self.target = 0
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.subscribe(topic, 1)
        self.client.loop_start()
        time.sleep(0.3)

    def _on_message(self, *_: object) -> None:
        self.count += 1
        if self.count >= self.target:
            self.done.set()

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _publish_all(port: int, topic: str, n: int) -> None:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(1000)
    client.connect("127.0.0.1", port)
    client.loop_start()
    infos = [client.publish(topic, b'{"t": 21.5}', qos=1) for _ in range(n)]
    for info in infos:
        info.wait_for_publish(60)
    client.disconnect()
    client.loop_stop()


def plain_in(port: int, n: int) -> float:
    counter = Counter(port, "plain/in")
    counter.target = n
    start = time.perf_counter()
    _publish_all(port, "plain/in", n)
    counter.done.wait(120)
    elapsed = time.perf_counter() - start
    counter.stop()
    return n / elapsed


def _config(tmp: Path, port: int, name: str, modules: list[Path], subscribe: list[str]) -> Path:
    path = tmp / f"{name}.toml"
    path.write_text(
        f"data_dir = {json.dumps(str(tmp / name))}\nmodules = {json.dumps([str(m) for m in modules])}\n"
        '[commit]\nmode = "batched"\n'
        "[[transports]]\n"
        f'name = "timing"\nkind = "mqtt"\nhost = "127.0.0.1"\nport = {port}\n'
        f'client_id = "bench-{name}"\nsubscribe = {json.dumps(subscribe)}\n'
    )
    return path


async def _connected(app: App) -> None:
    transport = app.engine.transports["timing"]
    while getattr(transport, "_client", None) is None:
        await asyncio.sleep(0.01)


async def cove_in(tmp: Path, port: int, n: int) -> float:
    app = App(load_config(_config(tmp, port, "in", [], ["cove/in"])))
    await app.start()
    try:
        await _connected(app)
        base = app.engine.store.head()
        start = time.perf_counter()
        thread = threading.Thread(target=_publish_all, args=(port, "cove/in", n))
        thread.start()
        while app.engine.store.head() - base < n:
            await asyncio.sleep(0.005)
        elapsed = time.perf_counter() - start
        thread.join()
    finally:
        await app.stop(drain_seconds=1)
    return n / elapsed


async def plain_out(port: int, n: int) -> float:
    counter = Counter(port, "plain/out")
    counter.target = n
    async with aiomqtt.Client("127.0.0.1", port, protocol=aiomqtt.ProtocolVersion.V5) as client:
        start = time.perf_counter()
        for _ in range(n):
            await client.publish("plain/out", b"event-id", qos=1)
        await asyncio.to_thread(counter.done.wait, 120)
        elapsed = time.perf_counter() - start
    counter.stop()
    return n / elapsed


async def cove_out(tmp: Path, port: int, n: int) -> float:
    counter = Counter(port, "bench")
    counter.target = n
    module = trivial_module(tmp, "sender", send=True)
    app = App(load_config(_config(tmp, port, "out", [module], [])))
    await app.start()
    try:
        await _connected(app)
        start = time.perf_counter()
        await app.engine.publish([Event(Custom("bench.send", "", "{}")) for _ in range(n)])
        await asyncio.to_thread(counter.done.wait, 120)
        elapsed = time.perf_counter() - start
    finally:
        await app.stop(drain_seconds=1)
        counter.stop()
    return n / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3000)
    args = engine_bench_args(parser)
    n = args.messages
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        broker, port = _broker(tmp)
        try:
            rows_in = (plain_in(port, n), asyncio.run(cove_in(tmp, port, n)))
            rows_out = (asyncio.run(plain_out(port, n)), asyncio.run(cove_out(tmp, port, n)))
        finally:
            broker.terminate()
            broker.wait()
    print_table(
        f"MQTT in: {n:,} QoS 1 publishes into one subscriber",
        [
            ("plain paho subscriber (counts only)", f"{rows_in[0]:,.0f}", "baseline"),
            (
                "cove mqtt transport (journaled, then PUBACK)",
                f"{rows_in[1]:,.0f}",
                f"{rows_in[1] / rows_in[0]:.2f}x the baseline",
            ),
        ],
        ("receiver", "publishes/s", "ratio"),
    )
    print_table(
        f"MQTT out: {n:,} QoS 1 sends, each after the previous one's PUBACK",
        [
            ("plain aiomqtt publish loop", f"{rows_out[0]:,.0f}", "baseline"),
            (
                "cove: module send -> outbox -> mqtt transport",
                f"{rows_out[1]:,.0f}",
                f"{rows_out[1] / rows_out[0]:.2f}x the baseline",
            ),
        ],
        ("sender", "messages/s", "ratio"),
    )


if __name__ == "__main__":
    main()
