"""A real mosquitto broker on a loopback port, and a paho client that collects what it gets.

The broker persists its sessions to a temp dir, so a restart (``stop`` then
``start`` on the same port) keeps the subscriptions and queued QoS 1
messages of persistent clients, as a production broker would.
"""

from __future__ import annotations

import getpass
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
PASSWD = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Broker:
    """``users``: name -> password, in a password file; then anonymous clients are refused.
    ``acl``: an acl_file's text (topics not granted there are refused).
    ``tls``: (certificate, key): the listener speaks TLS only."""

    def __init__(
        self,
        directory: Path,
        users: dict[str, str] | None = None,
        acl: str | None = None,
        tls: tuple[Path, Path] | None = None,
    ) -> None:
        self.port = free_port()
        self.directory = directory
        self.conf = directory / "mosquitto.conf"
        auth = "allow_anonymous true\n"
        if users:
            passwords = directory / "passwords"
            passwords.touch(mode=0o600)
            for name, password in users.items():
                subprocess.run(
                    [PASSWD, "-b", str(passwords), name, password], check=True, capture_output=True
                )
            auth = f"allow_anonymous false\npassword_file {passwords}\n"
        if acl is not None:  # lines of a mosquitto acl_file; without a user they are anonymous's
            (directory / "acl").write_text(acl)
            auth += f"acl_file {directory / 'acl'}\n"
        if tls is not None:
            auth += f"certfile {tls[0]}\nkeyfile {tls[1]}\n"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            f"user {getpass.getuser()}\n"  # as root, mosquitto would switch to user mosquitto
            + auth
            + "persistence true\n"
            f"persistence_location {directory}/\n"
            f"log_dest file {directory}/mosquitto.log\n"
        )
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._process = subprocess.Popen([MOSQUITTO, "-c", str(self.conf)])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not listen on {self.port}: {self.log()}")

    def stop(self) -> None:
        """SIGTERM: mosquitto saves its sessions, then exits."""
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None

    def log(self) -> str:
        path = self.directory / "mosquitto.log"
        return path.read_text() if path.exists() else ""


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    if not Path(MOSQUITTO).exists():
        pytest.fail("mosquitto is not installed: `make test` installs it (Debian: mosquitto)")
    directory = tmp_path / "mosquitto"
    directory.mkdir()
    server = Broker(directory)
    server.start()
    yield server
    server.stop()


@dataclass
class Got:
    topic: str
    body: str
    properties: dict[str, str]
    response_topic: str = ""


@dataclass
class Collector:
    """A persistent MQTT 5 client on its own thread: reconnects by itself, records publishes."""

    port: int
    topics: list[str]
    client_id: str = "collector"
    got: list[Got] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=mqtt.MQTTv5
        )
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.subscribed = threading.Event()

    def start(self) -> Collector:
        connect = Properties(PacketTypes.CONNECT)
        connect.SessionExpiryInterval = 600
        self.client.reconnect_delay_set(0.1, 1)
        self.client.connect("127.0.0.1", self.port, clean_start=False, properties=connect)
        self.client.loop_start()
        if not self.subscribed.wait(10):
            raise RuntimeError("collector did not connect")
        return self

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def bodies(self) -> list[str]:
        with self.lock:
            return [g.body for g in self.got]

    def _on_connect(self, client: mqtt.Client, *_: object) -> None:
        client.subscribe([(t, 1) for t in self.topics])
        self.subscribed.set()

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        props = getattr(msg.properties, "UserProperty", [])
        got = Got(
            msg.topic,
            msg.payload.decode(),
            dict(props),
            str(getattr(msg.properties, "ResponseTopic", "")),
        )
        with self.lock:
            self.got.append(got)


def publish(
    port: int,
    topic: str,
    body: str,
    *,
    delivery_id: str | None = None,
    response_topic: str | None = None,
) -> None:
    """One QoS 1 publish from a fresh client, returned once the broker acknowledged it."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        properties = Properties(PacketTypes.PUBLISH)
        if delivery_id is not None:
            properties.UserProperty = ("delivery-id", delivery_id)
        if response_topic is not None:
            properties.ResponseTopic = response_topic
        info = client.publish(topic, body.encode(), qos=1, properties=properties)
        info.wait_for_publish(10)
    finally:
        client.disconnect()
        client.loop_stop()
